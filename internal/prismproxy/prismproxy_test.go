//go:build unix

package prismproxy_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/prismproxy"
)

const spec = "../../api/openapi.yaml"

const (
	customerID    = "9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21"
	correlationID = "3f1d2c4b-8a8e-4c55-9f4e-2b7d7f0e9a11"
)

// upstream stands in for licensesd: it answers as the spec says, unless the
// query asks it to misbehave (bad=1: a body the spec does not allow;
// status=N: an undocumented status).
func upstream(t *testing.T) (url string, hits *atomic.Int64) {
	t.Helper()
	hits = &atomic.Int64{}
	mux := http.NewServeMux()
	errorBody := func(w http.ResponseWriter, status int, property string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"statusCode":%d,"type":"ValidationError","description":"invalid","correlationId":%q,"errors":[{"propertyName":%q,"description":["required"]}]}`,
			status, correlationID, property)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("bad") != "" {
			fmt.Fprint(w, `{"state":1}`)
			return
		}
		fmt.Fprint(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /v1/Customers/{customerId}/licenses", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Query().Get("bad") != "":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"nope":true}`)
		case r.URL.Query().Get("status") != "":
			errorBody(w, http.StatusConflict, "customerId")
		case r.Header.Get("X-Tenant") == "":
			errorBody(w, http.StatusBadRequest, "X-Tenant")
		default:
			fmt.Fprint(w, `[]`)
		}
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Correlation-Id", correlationID)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hits
}

// recorder is a testing.TB whose Errorf is recorded instead of failing the
// test, so that a test can assert that the proxy does fail a test.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// take returns and forgets the recorded errors.
func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.errs, "\n")
	r.errs = nil
	return s
}

type call struct {
	name          string
	path          string
	tenant        bool
	expectInvalid bool
	wantStatus    int
	wantUpstream  bool     // the request must have reached the upstream
	wantErrs      []string // substrings of the test failure; none: the test must pass
}

func run(t *testing.T, p *prismproxy.Proxy, rec *recorder, hits *atomic.Int64, calls []call) {
	t.Helper()
	client := p.Client()
	for _, c := range calls {
		rec.take()
		before := hits.Load()
		ctx := context.Background()
		if c.expectInvalid {
			ctx = prismproxy.ExpectInvalidRequest(ctx)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer test")
		if c.tenant {
			req.Header.Set("X-Tenant", "portal.contoso.test")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got := rec.take()
		if got != "" {
			t.Logf("%s: the proxy reported:\n%s", c.name, got)
		}

		if res.StatusCode != c.wantStatus {
			t.Errorf("%s: status %d, want %d (body %s)", c.name, res.StatusCode, c.wantStatus, body)
		}
		if reached := hits.Load() > before; reached != c.wantUpstream {
			t.Errorf("%s: reached upstream = %v, want %v", c.name, reached, c.wantUpstream)
		}
		if len(c.wantErrs) == 0 && got != "" {
			t.Errorf("%s: the proxy failed the test, want it to pass:\n%s", c.name, got)
		}
		if len(c.wantErrs) > 0 && got == "" {
			t.Errorf("%s: the proxy let the violation through, want a test failure naming %q", c.name, c.wantErrs)
		}
		for _, w := range c.wantErrs {
			if got != "" && !strings.Contains(got, w) {
				t.Errorf("%s: the failure does not name %q:\n%s", c.name, w, got)
			}
		}
	}
}

func licenses(query string) string {
	return "/v1/Customers/" + customerID + "/licenses?providerInstanceId=" + customerID + query
}

func TestProxy_defaultModeForwardsEverythingAndFailsOnViolations(t *testing.T) {
	t.Parallel()
	bin := prismproxy.Bin(t)
	url, hits := upstream(t)
	rec := &recorder{TB: t}
	p := prismproxy.Start(rec, bin, spec, url)

	run(t, p, rec, hits, []call{
		{name: "a conforming response passes", path: "/healthz",
			wantStatus: 200, wantUpstream: true},
		{name: "a conforming request and list pass", path: licenses(""), tenant: true,
			wantStatus: 200, wantUpstream: true},
		{name: "a response body that violates the spec fails the test", path: "/healthz?bad=1",
			wantStatus: 200, wantUpstream: true, wantErrs: []string{"response", "required property 'status'"}},
		{name: "an error body that violates the spec fails the test", path: licenses("&bad=1"), tenant: true,
			wantStatus: 404, wantUpstream: true, wantErrs: []string{"response", "required property 'statusCode'"}},
		{name: "an undocumented status fails the test", path: licenses("&status=409"), tenant: true,
			wantStatus: 409, wantUpstream: true, wantErrs: []string{"response"}},
		{name: "an unplanned invalid request fails the test", path: licenses(""),
			wantStatus: 400, wantUpstream: true, wantErrs: []string{"request", "x-tenant"}},
		{name: "a request marked invalid reaches the server and its answer is checked", path: licenses(""), expectInvalid: true,
			wantStatus: 400, wantUpstream: true},
		{name: "a request marked invalid still fails on a bad response", path: licenses("&bad=1"), expectInvalid: true,
			wantStatus: 404, wantUpstream: true, wantErrs: []string{"response", "statusCode"}},
	})
}

func TestProxy_errorsModeAnswersViolationsItself(t *testing.T) {
	t.Parallel()
	bin := prismproxy.Bin(t)
	url, hits := upstream(t)
	rec := &recorder{TB: t}
	p := prismproxy.Start(rec, bin, spec, url, prismproxy.Options{Errors: true})

	run(t, p, rec, hits, []call{
		{name: "a conforming response passes", path: "/healthz",
			wantStatus: 200, wantUpstream: true},
		{name: "a response that violates the spec becomes a 500 and fails the test", path: "/healthz?bad=1",
			wantStatus: 500, wantUpstream: true, wantErrs: []string{"response", "VIOLATIONS"}},
		{name: "an invalid request is refused by Prism and fails the test", path: licenses(""),
			wantStatus: 422, wantUpstream: false, wantErrs: []string{"Prism answered instead of the server", "x-tenant"}},
	})
}

func TestProxy_cleanupStopsPrismAndReportsViolationsThatBypassedTheTransport(t *testing.T) {
	t.Parallel()
	bin := prismproxy.Bin(t)
	url, _ := upstream(t)
	rec := &recorder{TB: t}
	var proxyURL string
	t.Run("proxy", func(t *testing.T) {
		rec.TB = t
		p := prismproxy.Start(rec, bin, spec, url)
		proxyURL = p.URL
		// Around the checking transport: only Prism's log knows.
		res, err := http.Get(p.URL + "/healthz?bad=1")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := rec.take(); got != "" {
			t.Fatalf("plain client was checked, want only the log check at cleanup: %s", got)
		}
	})
	got := rec.take()
	if !strings.Contains(got, "prism logged 1 violation(s) but only 0 came through") ||
		!strings.Contains(got, "Response body must have required property 'status'") {
		t.Errorf("cleanup did not report the bypassing violation; got:\n%s", got)
	}

	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(proxyURL, "http://"), time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("prism still listens on %s after cleanup", proxyURL)
	}
}

func TestProxy_allowInvalidRequestsStillFailsOnResponses(t *testing.T) {
	t.Parallel()
	bin := prismproxy.Bin(t)
	url, hits := upstream(t)
	rec := &recorder{TB: t}
	p := prismproxy.Start(rec, bin, spec, url, prismproxy.Options{AllowInvalidRequests: true})

	run(t, p, rec, hits, []call{
		{name: "an invalid request reaches the server without failing the test", path: licenses(""),
			wantStatus: 400, wantUpstream: true},
		{name: "its response is still checked", path: licenses("&bad=1"),
			wantStatus: 404, wantUpstream: true, wantErrs: []string{"response", "statusCode"}},
	})
}
