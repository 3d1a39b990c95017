package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// TestRouteTable_findsEveryOperationFromEchosRoute: the guard validates a
// request against the operation found from Echo's matched route, so every
// route gen registers must map to exactly its operation in the spec, with
// its path parameters unescaped as the generated handlers bind them.
func TestRouteTable_findsEveryOperationFromEchosRoute(t *testing.T) {
	doc, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	table := newRouteTable(doc)
	e := echo.New()
	gen.RegisterHandlers(e, nil)
	ops := 0
	for _, item := range doc.Paths.Map() {
		ops += len(item.Operations())
	}
	if len(table) != ops {
		t.Fatalf("route table has %d entries for %d operations", len(table), ops)
	}
	found := 0
	for _, r := range e.Routes() {
		route := table[r.Method+" "+r.Path]
		if route == nil {
			t.Errorf("Echo route %s %s has no operation in the spec", r.Method, r.Path)
			continue
		}
		found++
		// Echo names a route after its handler, the wrapper's method
		// named for the operationId.
		if !strings.HasSuffix(r.Name, "."+route.Operation.OperationID+"-fm") {
			t.Errorf("%s %s (handler %s) maps to operation %s", r.Method, r.Path, r.Name, route.Operation.OperationID)
		}
	}
	if found != ops {
		t.Errorf("%d of %d operations found from Echo's routes", found, ops)
	}

	// Path parameters come unescaped, as the handlers bind them.
	var got map[string]string
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			_, got = table.find(c)
			return c.NoContent(http.StatusNoContent)
		}
	})
	req := httptest.NewRequest(http.MethodGet, "/v1/Customers/%39c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21/licenses", nil)
	e.ServeHTTP(httptest.NewRecorder(), req)
	if got["customerId"] != "9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21" {
		t.Errorf("customerId = %q, want the unescaped uuid", got["customerId"])
	}
}
