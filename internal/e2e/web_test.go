package e2e

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The page, the reference and the spec are served next to the API by the
// real server, and the API's own error answers are exactly what they were:
// the published JSON body with a correlation id, no web headers.
func TestWebPathsAndTheAPIsErrorsSideBySide(t *testing.T) {
	e := start(t)
	plain := &http.Client{}
	for _, p := range []string{"/ui/", "/docs", "/openapi.yaml", "/openapi.json"} {
		res, err := plain.Get(e.main.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %d, %d bytes", p, res.StatusCode, len(body))
		}
		if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
			res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: the web headers are missing: %v", p, res.Header)
		}
	}

	// Straight to the server (not through Prism, which answers paths
	// outside the spec itself), every answer validated: unknown routes and
	// methods must carry the published error body and an X-Correlation-Id.
	direct := &http.Client{Transport: &validatingTransport{t: t, base: http.DefaultTransport, router: specRouter(t)}}
	cases := []struct {
		method, path string
		body         []byte
		status       int
		typ          string
	}{
		{http.MethodGet, "/v1/nope", nil, http.StatusNotFound, "NotFound"},
		{http.MethodGet, "/", nil, http.StatusNotFound, "NotFound"},
		{http.MethodGet, "/uix", nil, http.StatusNotFound, "NotFound"},
		{http.MethodPost, "/healthz", nil, http.StatusMethodNotAllowed, "MethodNotAllowed"},
		{http.MethodPatch, "/v1/Customers/" + fabrikam.String() + "/users/" + ada.String() + "/licenses",
			bytes.Repeat([]byte(" "), 2<<20), http.StatusRequestEntityTooLarge, "RequestEntityTooLarge"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, err := http.NewRequest(c.method, e.main.URL()+c.path, bytes.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			res, err := direct.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, raw)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if res.Header.Get("Content-Security-Policy") != "" {
				t.Error("an API answer got the web page's headers")
			}
			b := problem(t, c.status, raw, res.Header)
			if *b.Type != c.typ {
				t.Errorf("type %q, want %q", *b.Type, c.typ)
			}
		})
	}
}
