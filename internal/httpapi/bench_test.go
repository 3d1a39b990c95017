package httpapi

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

const benchBody = `{"providerInstanceId":"9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21","customerUserLicenses":[` +
	`{"skuId":"06ebc4ee-1bb5-47dd-8120-11324bc54e06","isSelected":true},{"skuId":"4b9405b0-7788-4568-add1-99614e613b69","isSelected":false}]}`

// BenchmarkCheckJSON is the body check of every PATCH (duplicate and
// case-variant keys, depth).
func BenchmarkCheckJSON(b *testing.B) {
	raw := []byte(benchBody)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkJSON(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidatePatch is routing (Echo's, then the route table) plus
// request validation against the spec, as the guard runs them for a PATCH.
func BenchmarkValidatePatch(b *testing.B) {
	doc, err := Spec()
	if err != nil {
		b.Fatal(err)
	}
	table := newRouteTable(doc)
	e := echo.New()
	gen.RegisterHandlers(e, nil)
	opts := doc.GetSchemaValidationOptions()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("PATCH", "/v1/Customers/9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21/users/1a2b3c4d-0000-4000-8000-000000000001/licenses",
			bytes.NewReader([]byte(benchBody)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Tenant", "portal.contoso.test")
		c := e.NewContext(req, httptest.NewRecorder())
		e.Router().Find(req.Method, req.URL.Path, c)
		route, params := table.find(c)
		if route == nil {
			b.Fatal("no route")
		}
		if err := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SchemaValidationOptions: opts}}); err != nil {
			b.Fatal(err)
		}
	}
}
