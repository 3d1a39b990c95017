package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
	"github.com/cloudcockpit-oss/userlicenses/internal/httpapi"
	"github.com/cloudcockpit-oss/userlicenses/internal/prismproxy"
)

// secret signs the tokens of the end-to-end tests.
const secret = "end-to-end-tests-secret-of-at-least-32-bytes"

// Ids of the demo data set the tests run against (internal/demo/demo.json).
var (
	tenant       = demo.Tenant
	msInstance   = uuid.MustParse(demo.MicrosoftInstanceID)
	awsInstance  = uuid.MustParse(demo.AWSInstanceID)
	fabrikam     = uuid.MustParse(demo.FabrikamID)
	northwind    = uuid.MustParse("9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c22")
	tailspin     = uuid.MustParse("9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c23")
	woodgrove    = uuid.MustParse("9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c31")
	ada          = uuid.MustParse(demo.AdaID)
	alan         = uuid.MustParse("1a2b3c4d-0000-4000-8000-000000000002") // holds E3 and Teams
	nancy        = uuid.MustParse("2a2b3c4d-0000-4000-8000-000000000001")
	adatum       = uuid.MustParse(demo.AdatumResellerID)
	litware      = uuid.MustParse("b0b0b0b0-0000-4000-8000-000000000002")
	skuE3        = uuid.MustParse(demo.E3SKU)
	skuEO1       = uuid.MustParse(demo.ExchangeOnlinePlan1SKU)
	skuTeams     = uuid.MustParse("7e74bd05-2c47-404e-829a-ba95c66fe8e5")
	skuPowerBI   = uuid.MustParse("f8a1db68-be16-40ed-86d5-cb42ce701560")
	skuE5        = uuid.MustParse("06ebc4ee-1bb5-47dd-8120-11324bc54e06")
	fabrikamSKUs = 4
)

// env is one running licensesd with a client that validates every response
// against the spec.
type env struct {
	t      *testing.T
	main   *daemon.Main
	cfg    daemon.Config
	url    string // where the client talks: the server, or Prism in front of it
	client *gen.ClientWithResponses
	http   *http.Client
}

// start runs licensesd on a fresh SQLite file seeded with the demo data.
func start(t *testing.T) *env {
	t.Helper()
	cfg := daemon.Config{
		Addr:        "127.0.0.1:0",
		DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "e2e.db"),
		JWTSecret:   secret,
	}
	s, err := demo.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := daemon.Seed(context.Background(), cfg, s); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	return startWith(t, cfg)
}

// startWith runs licensesd on cfg and stops it when the test ends.
func startWith(t *testing.T, cfg daemon.Config) *env {
	t.Helper()
	m, err := daemon.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("starting licensesd: %v", err)
	}
	e := &env{t: t, main: m, cfg: cfg, url: m.URL()}
	t.Cleanup(func() { e.stop() })
	var transport http.RoundTripper = &validatingTransport{t: t, base: http.DefaultTransport, router: specRouter(t)}
	if bin := os.Getenv(prismproxy.EnvBin); bin != "" {
		// make contract-test: Stoplight Prism, a validator we did not write,
		// checks every request and response on the way too.
		p := prismproxy.Start(t, bin, specPath(t), m.URL())
		e.url, transport = p.URL, p.Transport(transport)
	}
	e.http = &http.Client{Timeout: 30 * time.Second, Transport: transport}
	e.client, err = gen.NewClientWithResponses(e.url, gen.WithHTTPClient(e.http))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) stop() {
	if e.main == nil {
		return
	}
	if err := e.main.Shutdown(context.Background()); err != nil {
		e.t.Errorf("shutdown: %v", err)
	}
	e.main = nil
}

func specPath(t *testing.T) string {
	p, err := filepath.Abs("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	routerOnce sync.Once
	router     routers.Router
	spec       *openapi3.T
	routerErr  error
)

func specRouter(t *testing.T) routers.Router {
	t.Helper()
	routerOnce.Do(func() {
		spec, routerErr = httpapi.Spec()
		if routerErr == nil {
			router, routerErr = gorillamux.NewRouter(spec)
		}
	})
	if routerErr != nil {
		t.Fatal(routerErr)
	}
	return router
}

// validatingTransport checks every response against api/openapi.yaml
// (status declared, headers and body as specified) and fails the test
// otherwise. Responses to requests outside the spec (unknown routes and
// methods) must still carry the published error body.
type validatingTransport struct {
	t      *testing.T
	base   http.RoundTripper
	router routers.Router
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := v.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if res.Header.Get("X-Correlation-Id") == "" {
		v.t.Errorf("%s %s: no X-Correlation-Id response header", req.Method, req.URL.Path)
	}
	route, params, ferr := v.router.FindRoute(req)
	if ferr != nil {
		v.checkErrorBody(req, res, body)
		return res, nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, SchemaValidationOptions: spec.GetSchemaValidationOptions()},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		v.t.Errorf("%s %s → %d violates the spec: %v\nbody: %s", req.Method, req.URL.Path, res.StatusCode, err, body)
	}
	return res, nil
}

func (v *validatingTransport) checkErrorBody(req *http.Request, res *http.Response, body []byte) {
	schema := spec.Components.Schemas["ErrorResponse"].Value
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		v.t.Errorf("%s %s → %d: the body is not JSON: %s", req.Method, req.URL.Path, res.StatusCode, body)
		return
	}
	if err := schema.VisitJSON(doc); err != nil {
		v.t.Errorf("%s %s → %d: not the error body: %v", req.Method, req.URL.Path, res.StatusCode, err)
	}
}

// invalid marks requests that break the contract on purpose, to test the
// server's answers to them: Prism (make contract-test) then expects their
// request violations, while their responses are still checked.
func invalid() context.Context { return prismproxy.ExpectInvalidRequest(context.Background()) }

// Request editors: what every caller of the real API sets.
func withTenant(t string) gen.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-Tenant", t)
		return nil
	}
}

func withToken(tok string) gen.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}

func withCorrelation(id string) gen.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-Correlation-Id", id)
		return nil
	}
}

func token(t *testing.T, c auth.Claims) string {
	t.Helper()
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = time.Now().Add(time.Hour)
	}
	tok, err := auth.SignHS256([]byte(secret), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func cspToken(t *testing.T) string {
	return token(t, auth.Claims{Subject: "alice@contoso.test", Tenant: tenant, Roles: []string{"csp"}})
}

func resellerToken(t *testing.T, reseller uuid.UUID) string {
	return token(t, auth.Claims{Subject: "rita@adatum.test", Tenant: tenant, Roles: []string{"reseller"}, ResellerID: reseller.String()})
}

// csp are the editors of a csp caller of the demo tenant.
func csp(t *testing.T) []gen.RequestEditorFn {
	return []gen.RequestEditorFn{withTenant(tenant), withToken(cspToken(t))}
}
