package webui

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cloudcockpit-oss/userlicenses/api"
	"github.com/cloudcockpit-oss/userlicenses/gen"
)

func newHandler(t *testing.T, demo *Demo) *Handler {
	t.Helper()
	specJSON, err := gen.GetSpecJSON()
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{SpecYAML: api.OpenAPIYAML, SpecJSON: specJSON, Demo: demo})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(t *testing.T, h http.Handler, method, target string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readAll(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The committed build is complete: the page's scripts and styles are in
// it, minified, without source maps, and small.
func TestEmbeddedBuild(t *testing.T) {
	h := newHandler(t, nil)
	page := string(h.assets["/ui/"].body)
	refs := regexp.MustCompile(`(?:src|href)="\./(assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("ui/index.html references %d assets, want a script and a style sheet", len(refs))
	}
	for _, r := range refs {
		if h.assets["/ui/"+r[1]] == nil {
			t.Errorf("ui/index.html references %s, which the build does not hold", r[1])
		}
	}
	if strings.Contains(page, "<script>") || regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(page) {
		t.Error("ui/index.html has an inline script; the policy forbids it")
	}
	total := 0
	err := fs.WalkDir(dist, "dist", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, _ := d.Info()
		total += int(info.Size())
		if strings.HasSuffix(name, ".map") {
			t.Errorf("%s: source maps are not shipped", name)
		}
		if b, _ := fs.ReadFile(dist, name); bytes.Contains(b, []byte("sourceMappingURL=")) {
			t.Errorf("%s refers to a source map", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Swagger UI is most of it (0.5 MB gzipped); the editor is tens of kB.
	if total > 800<<10 {
		t.Errorf("the embedded build is %d bytes; keep it under 800 KiB", total)
	}
}

func TestHeadersAndTypes(t *testing.T) {
	h := newHandler(t, nil)
	var uiScript string
	for route := range h.assets {
		if strings.HasPrefix(route, "/ui/assets/") && strings.HasSuffix(route, ".js") {
			uiScript = route
		}
	}
	cases := []struct {
		path, ctype, csp, cache string
	}{
		{"/ui/", "text/html; charset=utf-8", cspUI, "no-store"},
		{uiScript, "text/javascript; charset=utf-8", cspUI, "public, max-age=31536000, immutable"},
		{"/docs", "text/html; charset=utf-8", cspDocs, "no-cache"},
		{"/docs/init.js", "text/javascript; charset=utf-8", cspDocs, "no-cache"},
		{"/docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8", cspDocs, "no-cache"},
		{"/docs/swagger-ui.css", "text/css; charset=utf-8", cspDocs, "no-cache"},
		{"/docs/docs.css", "text/css; charset=utf-8", cspDocs, "no-cache"},
		{"/openapi.yaml", "application/yaml; charset=utf-8", cspNone, "no-cache"},
		{"/openapi.json", "application/json; charset=utf-8", cspNone, "no-cache"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			res := get(t, h, http.MethodGet, c.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			want := map[string]string{
				"Content-Type": c.ctype, "Content-Security-Policy": c.csp, "Cache-Control": c.cache,
				"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if res.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			if len(readAll(t, res)) == 0 {
				t.Error("empty body")
			}
		})
	}
}

// The editor's policy: scripts only from this server, nothing inline.
func TestUIPolicyIsStrict(t *testing.T) {
	directives := map[string]string{}
	for _, d := range strings.Split(cspUI, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	want := map[string]string{
		"default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "connect-src": "'self'",
		"base-uri": "'none'", "frame-ancestors": "'none'", "form-action": "'none'",
	}
	for k, v := range want {
		if directives[k] != v {
			t.Errorf("%s %q, want %q", k, directives[k], v)
		}
	}
	if strings.Contains(cspUI, "unsafe") {
		t.Errorf("the editor's policy allows something unsafe: %s", cspUI)
	}
	if strings.Contains(cspDocs, "unsafe") || !strings.Contains(cspDocs, "script-src 'self';") {
		t.Errorf("the reference's policy allows something unsafe: %s", cspDocs)
	}
}

func TestNotFoundMethodsAndRedirects(t *testing.T) {
	h := newHandler(t, nil)
	cases := []struct {
		method, path string
		status       int
		header       string
		value        string
	}{
		{http.MethodGet, "/ui/nope.js", http.StatusNotFound, "Content-Type", "text/plain; charset=utf-8"},
		{http.MethodGet, "/docs/nope", http.StatusNotFound, "Content-Security-Policy", cspNone},
		{http.MethodPost, "/ui/", http.StatusMethodNotAllowed, "Allow", "GET, HEAD"},
		{http.MethodDelete, "/openapi.json", http.StatusMethodNotAllowed, "Allow", "GET, HEAD"},
		{http.MethodGet, "/ui", http.StatusMovedPermanently, "Location", "ui/"},
		{http.MethodGet, "/ui?x=1", http.StatusMovedPermanently, "Location", "ui/?x=1"},
		{http.MethodGet, "/docs/", http.StatusMovedPermanently, "Location", "../docs"},
		{http.MethodHead, "/ui/", http.StatusOK, "Content-Type", "text/html; charset=utf-8"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			res := get(t, h, c.method, c.path)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d", res.StatusCode, c.status)
			}
			if got := res.Header.Get(c.header); got != c.value {
				t.Errorf("%s %q, want %q", c.header, got, c.value)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Error("the security headers are missing")
			}
		})
	}
}

func TestGzipNegotiationAndETag(t *testing.T) {
	h := newHandler(t, nil)
	plainRes := get(t, h, http.MethodGet, "/docs/swagger-ui-bundle.js")
	plain := readAll(t, plainRes)
	if plainRes.Header.Get("Content-Encoding") != "" || !bytes.Contains(plain, []byte("SwaggerUIBundle")) {
		t.Fatalf("without Accept-Encoding the script must come uncompressed (encoding %q)", plainRes.Header.Get("Content-Encoding"))
	}
	gzRes := get(t, h, http.MethodGet, "/docs/swagger-ui-bundle.js", "Accept-Encoding", "br, gzip")
	if gzRes.Header.Get("Content-Encoding") != "gzip" || gzRes.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("encoding %q, vary %q", gzRes.Header.Get("Content-Encoding"), gzRes.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(gzRes.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, plain) {
		t.Fatalf("the gzipped answer is not the same script (err %v)", err)
	}
	if gzRes.Header.Get("ETag") == plainRes.Header.Get("ETag") {
		t.Error("the two encodings share an ETag")
	}
	again := get(t, h, http.MethodGet, "/docs/swagger-ui-bundle.js", "If-None-Match", plainRes.Header.Get("ETag"))
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", again.StatusCode)
	}
	for header, want := range map[string]bool{
		"gzip": true, "gzip, deflate, br": true, "GZIP;q=0.5": true, "*": true, "deflate": false, "": false,
		"gzip;q=0": false, "gzip; q=0.000": false, "identity, gzip;q=0.001": true,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestDemoTokensArePrefilledAndEscaped(t *testing.T) {
	page := string(readAll(t, get(t, newHandler(t, nil), http.MethodGet, "/ui/")))
	if strings.Contains(page, "userlicenses-demo") {
		t.Fatal("without a demo the page carries no token")
	}
	h := newHandler(t, &Demo{Tenant: "portal.contoso.test", Token: `a"><script>alert(1)</script>`, ResellerToken: "r.t.s"})
	page = string(readAll(t, get(t, h, http.MethodGet, "/ui/")))
	for _, want := range []string{
		`<meta name="userlicenses-demo-tenant" content="portal.contoso.test">`,
		`<meta name="userlicenses-demo-token" content="a&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">`,
		`<meta name="userlicenses-demo-reseller-token" content="r.t.s">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>alert") {
		t.Error("a token was written into the page unescaped")
	}
}

func TestWrapSendsOnlyItsPathsHere(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	wrapped := newHandler(t, nil).Wrap(api)
	for _, p := range []string{"/", "/v1/Customers", "/uix", "/docsx", "/openapi.yml", "/v1/ui/", "/healthz", "/favicon.ico"} {
		if res := get(t, wrapped, http.MethodGet, p); res.StatusCode != http.StatusTeapot {
			t.Errorf("%s went to the web handler (%d)", p, res.StatusCode)
		}
	}
	for _, p := range []string{"/ui", "/ui/", "/ui/x", "/docs", "/docs/x", "/openapi.yaml", "/openapi.json"} {
		if res := get(t, wrapped, http.MethodGet, p); res.StatusCode == http.StatusTeapot {
			t.Errorf("%s went to the API", p)
		}
	}
}

// /openapi.yaml is the spec file itself; /openapi.json the same document.
func TestSpecs(t *testing.T) {
	h := newHandler(t, nil)
	yamlBody := readAll(t, get(t, h, http.MethodGet, "/openapi.yaml"))
	if !bytes.Equal(yamlBody, api.OpenAPIYAML) {
		t.Fatal("/openapi.yaml is not api/openapi.yaml")
	}
	res := get(t, h, http.MethodGet, "/openapi.json")
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("other origins' tools cannot read the spec")
	}
	jsonBody := readAll(t, res)
	if !json.Valid(jsonBody) {
		t.Fatal("/openapi.json is not JSON")
	}
	fromYAML, err := openapi3.NewLoader().LoadFromData(yamlBody)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := openapi3.NewLoader().LoadFromData(jsonBody)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromYAML)
	b, _ := json.Marshal(fromJSON)
	if !bytes.Equal(a, b) {
		t.Fatal("/openapi.json and /openapi.yaml are different documents")
	}
}

func TestIncompleteBuildIsRefused(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"no editor": {"dist/docs/index.html": {Data: []byte("<html><head></head></html>")}},
		"no docs":   {"dist/ui/index.html": {Data: []byte("<html><head></head></html>")}},
		"two heads": {"dist/ui/index.html": {Data: []byte("<head></head><head></head>")}, "dist/docs/index.html": {Data: []byte("x")}},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := newFrom(files, Config{SpecYAML: []byte("a: 1"), SpecJSON: []byte("{}")}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// What wrapping costs a request to the API: the path test in front of it.
func BenchmarkWrapAPIPath(b *testing.B) {
	specJSON, err := gen.GetSpecJSON()
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(Config{SpecYAML: api.OpenAPIYAML, SpecJSON: specJSON})
	if err != nil {
		b.Fatal(err)
	}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	wrapped := h.Wrap(noop)
	req := httptest.NewRequest(http.MethodPatch, "/v1/Customers/9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21/users/1a2b3c4d-0000-4000-8000-000000000001/licenses", nil)
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			noop.ServeHTTP(nil, req)
		}
	})
	b.Run("wrapped", func(b *testing.B) {
		for b.Loop() {
			wrapped.ServeHTTP(nil, req)
		}
	})
}
