package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
)

func item(sku uuid.UUID, selected bool) gen.CustomerUserLicense {
	return gen.CustomerUserLicense{SkuId: sku, IsSelected: selected}
}

func body(pi uuid.UUID, items ...gen.CustomerUserLicense) gen.UpdateCustomerUserLicensesRequest {
	return gen.UpdateCustomerUserLicensesRequest{ProviderInstanceId: pi, CustomerUserLicenses: items}
}

func (e *env) patch(t *testing.T, customer, user uuid.UUID, b gen.UpdateCustomerUserLicensesRequest, editors ...gen.RequestEditorFn) *gen.UpdateCustomerUserLicensesResponse {
	t.Helper()
	if editors == nil {
		editors = csp(t)
	}
	res, err := e.client.UpdateCustomerUserLicensesWithResponse(context.Background(), customer, user, &gen.UpdateCustomerUserLicensesParams{}, b, editors...)
	if err != nil {
		t.Fatalf("PATCH: %v", err)
	}
	return res
}

// userLicenses is the check-box view of a user's licenses; it must answer 200.
func (e *env) userLicenses(t *testing.T, customer, user uuid.UUID) map[uuid.UUID]gen.CustomerUserLicense {
	t.Helper()
	res, err := e.client.GetCustomerUserLicensesWithResponse(context.Background(), customer, user,
		&gen.GetCustomerUserLicensesParams{ProviderInstanceId: msInstance}, csp(t)...)
	if err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("GET user licenses: %v %d %s", err, res.StatusCode(), res.Body)
	}
	out := map[uuid.UUID]gen.CustomerUserLicense{}
	for _, l := range *res.JSON200 {
		out[l.SkuId] = l
	}
	return out
}

// seats is the customer's licenses as returned by the API; it must answer 200.
func (e *env) seats(t *testing.T, customer uuid.UUID) []gen.CustomerUserLicense {
	t.Helper()
	res, err := e.client.GetCustomerLicensesWithResponse(context.Background(), customer,
		&gen.GetCustomerLicensesParams{ProviderInstanceId: msInstance}, csp(t)...)
	if err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("GET customer licenses: %v %d %s", err, res.StatusCode(), res.Body)
	}
	return *res.JSON200
}

func (e *env) auditFor(t *testing.T, correlation uuid.UUID) []gen.AuditLog {
	t.Helper()
	res, err := e.client.GetAuditLogsWithResponse(context.Background(), &gen.GetAuditLogsParams{CorrelationId: &correlation}, csp(t)...)
	if err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("GET audit logs: %v %d %s", err, res.StatusCode(), res.Body)
	}
	return res.JSON200.Items
}

// problem decodes the published error body and checks its invariants.
func problem(t *testing.T, status int, raw []byte, hdr http.Header) gen.ErrorResponse {
	t.Helper()
	var b gen.ErrorResponse
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, raw)
	}
	if int(b.StatusCode) != status {
		t.Errorf("statusCode %d in a %d response", b.StatusCode, status)
	}
	if b.CorrelationId == nil || *b.CorrelationId != hdr.Get("X-Correlation-Id") {
		t.Errorf("correlationId %v differs from the X-Correlation-Id header %q", b.CorrelationId, hdr.Get("X-Correlation-Id"))
	}
	if b.Type == nil || *b.Type == "" || b.Description == nil || *b.Description == "" {
		t.Errorf("type and description must be set: %s", raw)
	}
	return b
}

// properties lists the failing property names of an error body, sorted.
func properties(b gen.ErrorResponse) []string {
	var out []string
	if b.Errors != nil {
		for _, e := range *b.Errors {
			if e.PropertyName != nil {
				out = append(out, *e.PropertyName)
			}
		}
	}
	sort.Strings(out)
	return out
}

func wantProperties(t *testing.T, b gen.ErrorResponse, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := properties(b); !reflect.DeepEqual(got, want) {
		t.Errorf("failing properties = %v, want %v (body %+v)", got, want, b)
	}
}

func authClaims(tenant string) auth.Claims {
	return auth.Claims{Subject: "someone", Tenant: tenant, Roles: []string{"csp"}}
}
