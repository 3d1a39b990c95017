package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/prismproxy"
)

func TestAuth(t *testing.T) {
	e := start(t)
	other, _ := auth.SignHS256([]byte("another-secret-that-is-32-bytes-long!!"), auth.Claims{
		Subject: "x", Tenant: tenant, Roles: []string{"csp"}, ExpiresAt: time.Now().Add(time.Hour)})
	tests := []struct {
		name    string
		editors []gen.RequestEditorFn
		status  int
	}{
		// 401s break the contract's security requirement on purpose; 403s
		// and 404s are valid requests the server refuses.
		{"no token is 401", []gen.RequestEditorFn{withTenant(tenant)}, 401},
		{"a malformed token is 401", []gen.RequestEditorFn{withTenant(tenant), withToken("not.a.jwt")}, 401},
		{"a badly signed token is 401", []gen.RequestEditorFn{withTenant(tenant), withToken(other)}, 401},
		{"an expired token is 401", []gen.RequestEditorFn{withTenant(tenant), withToken(token(t, auth.Claims{
			Subject: "x", Tenant: tenant, Roles: []string{"csp"}, ExpiresAt: time.Now().Add(-time.Hour)}))}, 401},
		{"a token without exp is 401", []gen.RequestEditorFn{withTenant(tenant), withToken(mustSign(t, auth.Claims{
			Subject: "x", Tenant: tenant, Roles: []string{"csp"}}))}, 401},
		{"a token of another tenant is 403", []gen.RequestEditorFn{withTenant(tenant), withToken(token(t, auth.Claims{
			Subject: "x", Tenant: "portal.woodgrove.test", Roles: []string{"csp"}}))}, 403},
		{"the tenant is compared case-insensitively", []gen.RequestEditorFn{withTenant("PORTAL.Contoso.TEST"), withToken(cspToken(t))}, 200},
		{"a token without an allowed role is 403", []gen.RequestEditorFn{withTenant(tenant), withToken(token(t, auth.Claims{
			Subject: "x", Tenant: tenant, Roles: []string{"reader"}}))}, 403},
		{"a reseller token without resellerId is 403", []gen.RequestEditorFn{withTenant(tenant), withToken(token(t, auth.Claims{
			Subject: "x", Tenant: tenant, Roles: []string{"reseller"}}))}, 403},
		{"a reseller token for another reseller's customer is 404", []gen.RequestEditorFn{withTenant(tenant), withToken(resellerToken(t, adatum))}, 404},
		{"a reseller token for a direct customer is 404", []gen.RequestEditorFn{withTenant(tenant), withToken(resellerToken(t, litware))}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.status == 401 {
				ctx = invalid()
			}
			res, err := e.client.GetCustomerLicensesWithResponse(ctx, fabrikam,
				&gen.GetCustomerLicensesParams{ProviderInstanceId: msInstance}, tt.editors...)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode() != tt.status {
				t.Fatalf("status %d %s, want %d", res.StatusCode(), res.Body, tt.status)
			}
			if tt.status >= 400 {
				problem(t, tt.status, res.Body, res.HTTPResponse.Header)
			}
			if tt.status == 401 && res.HTTPResponse.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("WWW-Authenticate = %q", res.HTTPResponse.Header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("a reseller sees and updates its own customers", func(t *testing.T) {
		ed := []gen.RequestEditorFn{withTenant(tenant), withToken(resellerToken(t, adatum))}
		res := e.patch(t, northwind, nancy, body(msInstance, item(skuE3, true)), ed...)
		if res.StatusCode() != 200 {
			t.Fatalf("status %d %s", res.StatusCode(), res.Body)
		}
		hidden := e.patch(t, tailspin, uuid.MustParse("3a2b3c4d-0000-4000-8000-000000000002"), body(msInstance, item(skuE3, true)), ed...)
		if hidden.StatusCode() != 404 {
			t.Fatalf("another reseller's customer: status %d, want 404", hidden.StatusCode())
		}
	})
}

func mustSign(t *testing.T, c auth.Claims) string {
	tok, err := auth.SignHS256([]byte(secret), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func do(t *testing.T, e *env, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, raw
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestFrameworkErrorsUseTheErrorBody covers what Echo or the validator
// answer before any handler runs.
func TestFrameworkErrorsUseTheErrorBody(t *testing.T) {
	e := start(t)
	licenses := e.url + "/v1/Customers/" + fabrikam.String() + "/users/" + ada.String() + "/licenses"
	valid := `{"providerInstanceId":"` + msInstance.String() + `","customerUserLicenses":[{"skuId":"` + skuE3.String() + `","isSelected":true}]}`
	tests := []struct {
		name, method, url, contentType, body string
		status                               int
		check                                func(t *testing.T, res *http.Response)
		// prismAnswers: Prism answers this request itself instead of
		// forwarding it, so behind Prism the server cannot be checked.
		prismAnswers bool
	}{
		{name: "malformed JSON", method: "PATCH", url: licenses, contentType: "application/json", body: `{"providerInstanceId":`, status: 400, prismAnswers: true},
		{name: "a wrong content type", method: "PATCH", url: licenses, contentType: "text/plain", body: valid, status: 415},
		{name: "an unknown route", method: "GET", url: e.url + "/v1/Nope", status: 404},
		{name: "a wrong method on a known path", method: "DELETE", url: licenses, status: 405, check: func(t *testing.T, res *http.Response) {
			if allow := res.Header.Get("Allow"); !strings.Contains(allow, "PATCH") || !strings.Contains(allow, "GET") {
				t.Errorf("Allow = %q", allow)
			}
		}},
		{name: "a body over 1 MiB", method: "PATCH", url: licenses, contentType: "application/json",
			body: `{"providerInstanceId":"` + msInstance.String() + `","pad":"` + strings.Repeat("x", 1<<20) + `"}`, status: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prismAnswers && os.Getenv(prismproxy.EnvBin) != "" {
				t.Skip("behind Prism: Prism answers malformed JSON itself and never forwards it; this case runs in make test")
			}
			req, _ := http.NewRequestWithContext(invalid(), tt.method, tt.url, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("X-Tenant", tenant)
			req.Header.Set("Authorization", "Bearer "+cspToken(t))
			res, raw := do(t, e, req)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d %s, want %d", res.StatusCode, raw, tt.status)
			}
			problem(t, tt.status, raw, res.Header)
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

func TestCorrelationIdIsEchoedOrMade(t *testing.T) {
	e := start(t)
	res, err := e.client.GetCustomerLicensesWithResponse(context.Background(), fabrikam,
		&gen.GetCustomerLicensesParams{ProviderInstanceId: msInstance}, csp(t)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(res.HTTPResponse.Header.Get("X-Correlation-Id")); err != nil {
		t.Fatalf("no fresh correlation id: %q", res.HTTPResponse.Header.Get("X-Correlation-Id"))
	}
	id := uuid.NewString()
	res, _ = e.client.GetCustomerLicensesWithResponse(context.Background(), uuid.New(),
		&gen.GetCustomerLicensesParams{ProviderInstanceId: msInstance}, append(csp(t), withCorrelation(id))...)
	if res.StatusCode() != 404 || res.HTTPResponse.Header.Get("X-Correlation-Id") != id {
		t.Fatalf("status %d, header %q, want 404 with %s", res.StatusCode(), res.HTTPResponse.Header.Get("X-Correlation-Id"), id)
	}
	if b := problem(t, 404, res.Body, res.HTTPResponse.Header); *b.CorrelationId != id {
		t.Fatalf("correlationId %q", *b.CorrelationId)
	}
}
