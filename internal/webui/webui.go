// Package webui serves what a person opens in a browser next to the API:
// the license editor at /ui/, the API reference at /docs and the contract
// itself at /openapi.yaml and /openapi.json. Everything is embedded in the
// binary (built from web/ and committed under dist/), so nothing is fetched
// at run time and `make run` needs only Go.
//
// These paths get their own answers and headers (a strict
// Content-Security-Policy, nosniff, no referrer); every other path goes to
// the API untouched, so the API's JSON error bodies stay exactly as they
// are.
package webui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// dist is the committed output of `make web-build` (web/scripts/build.mjs).
//
//go:embed dist
var dist embed.FS

// Content-Security-Policy of the editor: scripts, styles and requests only
// from this server, no inline script or style, no plugins, no framing, no
// form posts (the page sends everything with fetch).
const cspUI = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// cspDocs is the policy of the reference: as strict as the editor's
// (Swagger UI sets styles through the DOM, which style-src does not
// govern; the browser tests watch for violations). "Try it out" may only
// call this server (connect-src 'self').
const cspDocs = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// cspNone is for everything that is not a page (the spec, plain errors):
// even a browser told to render it runs nothing.
const cspNone = "default-src 'none'; frame-ancestors 'none'; sandbox"

// Demo holds the tokens `licensesd demo` pre-fills on the sign-in form, so
// that a person trying the demo can sign in with one click.
type Demo struct {
	Tenant        string
	Token         string
	ResellerToken string
}

// Config is what the handler needs; everything is passed in.
type Config struct {
	// SpecYAML is served at /openapi.yaml, SpecJSON (indented on the way)
	// at /openapi.json.
	SpecYAML, SpecJSON []byte
	// Demo, when not nil, is written into the editor's page.
	Demo   *Demo
	Logger *slog.Logger
}

// asset is one answer, prepared once at start.
type asset struct {
	body     []byte // as served to a client that does not take gzip
	gz       []byte // precompressed body, when the build stored one
	ctype    string
	etag     string
	cache    string
	csp      string
	crossOrg bool // the spec: other origins' tools may read it
}

// Handler serves the editor, the reference and the spec.
type Handler struct {
	assets map[string]*asset
	log    *slog.Logger
}

// New loads the embedded build. It fails when the build is incomplete,
// which a test catches before a release does.
func New(cfg Config) (*Handler, error) {
	return newFrom(dist, cfg)
}

func newFrom(files fs.FS, cfg Config) (*Handler, error) {
	h := &Handler{assets: map[string]*asset{}, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	err := fs.WalkDir(files, "dist", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(name, "dist/")
		a := &asset{body: raw, cache: "no-cache"}
		if strings.HasSuffix(rel, ".gz") {
			rel = strings.TrimSuffix(rel, ".gz")
			a.gz = raw
			if a.body, err = gunzip(raw); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		a.ctype = contentType(rel)
		var route string
		switch {
		case rel == "ui/index.html":
			route, a.cache = "/ui/", "no-store"
			if a.body, err = withDemo(a.body, cfg.Demo); err != nil {
				return err
			}
		case strings.HasPrefix(rel, "ui/assets/"):
			// Vite names these by a hash of their content.
			route, a.cache = "/"+rel, "public, max-age=31536000, immutable"
		case rel == "docs/index.html":
			route = "/docs"
		default:
			route = "/" + rel
		}
		a.csp = cspUI
		if strings.HasPrefix(route, "/docs") {
			a.csp = cspDocs
		}
		h.assets[route] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading the embedded web build: %w", err)
	}
	for _, need := range []string{"/ui/", "/docs"} {
		if h.assets[need] == nil {
			return nil, fmt.Errorf("the embedded web build has no %s; run `make web-build`", need)
		}
	}
	if len(cfg.SpecYAML) == 0 || len(cfg.SpecJSON) == 0 {
		return nil, errors.New("webui: the spec is required")
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, cfg.SpecJSON, "", "  "); err != nil {
		return nil, fmt.Errorf("the embedded spec is not JSON: %w", err)
	}
	h.assets["/openapi.yaml"] = &asset{body: cfg.SpecYAML, ctype: "application/yaml; charset=utf-8", cache: "no-cache", csp: cspNone, crossOrg: true}
	h.assets["/openapi.json"] = &asset{body: indented.Bytes(), ctype: "application/json; charset=utf-8", cache: "no-cache", csp: cspNone, crossOrg: true}
	for _, a := range h.assets {
		sum := sha256.Sum256(a.body)
		a.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	}
	return h, nil
}

// withDemo writes the demo's tokens into the page as meta elements (read
// by the page's script; the policy allows no inline script).
func withDemo(page []byte, d *Demo) ([]byte, error) {
	if bytes.Count(page, []byte("</head>")) != 1 {
		return nil, errors.New("ui/index.html must have exactly one </head>")
	}
	if d == nil {
		return page, nil
	}
	var meta strings.Builder
	for _, m := range [][2]string{{"tenant", d.Tenant}, {"token", d.Token}, {"reseller-token", d.ResellerToken}} {
		if m[1] != "" {
			fmt.Fprintf(&meta, `<meta name="userlicenses-demo-%s" content="%s">`, m[0], html.EscapeString(m[1]))
		}
	}
	return bytes.Replace(page, []byte("</head>"), []byte(meta.String()+"</head>"), 1), nil
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".txt", "":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Owns reports whether the path is one this handler answers; every other
// path belongs to the API.
func Owns(p string) bool {
	return p == "/ui" || strings.HasPrefix(p, "/ui/") || p == "/docs" || strings.HasPrefix(p, "/docs/") ||
		p == "/openapi.yaml" || p == "/openapi.json"
}

// Wrap returns a handler that serves this handler's paths and passes every
// other request to api unchanged.
func (h *Handler) Wrap(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Owns(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// ServeHTTP answers GET and HEAD for the embedded files, 301 for the two
// addresses without their canonical slash, and plain-text 404 and 405
// (these paths are pages, not API resources).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	route := h.serve(rw, r)
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("route", route), slog.Int("status", rw.status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
}

// serve answers and returns the route to log (never the raw path, which
// is the caller's text).
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) string {
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	p := r.URL.Path
	a := h.assets[p]
	if a == nil {
		hdr.Set("Content-Security-Policy", cspNone)
		switch p {
		case "/ui", "/docs/":
			// Relative, so that it also works behind a proxy that mounts
			// the server under a prefix.
			target := map[string]string{"/ui": "ui/", "/docs/": "../docs"}[p]
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			hdr.Set("Location", target)
			w.WriteHeader(http.StatusMovedPermanently)
			return p
		}
		plain(w, http.StatusNotFound, "Not found. The license editor is at /ui/, the API reference at /docs.")
		return "not found"
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Content-Security-Policy", cspNone)
		hdr.Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "Method not allowed; this address answers GET and HEAD.")
		return p
	}
	hdr.Set("Content-Security-Policy", a.csp)
	hdr.Set("Cache-Control", a.cache)
	hdr.Set("Content-Type", a.ctype)
	if a.crossOrg {
		hdr.Set("Access-Control-Allow-Origin", "*")
		hdr.Set("Cross-Origin-Resource-Policy", "cross-origin")
	} else {
		hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	}
	body, etag := a.body, a.etag
	if a.gz != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
			hdr.Set("Content-Encoding", "gzip")
		}
	}
	hdr.Set("ETag", etag)
	// ServeContent answers If-None-Match (304), Range and HEAD.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	return p
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) listed without
// q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if v, err := strconv.ParseFloat(strings.TrimPrefix(q, "q="), 64); strings.HasPrefix(q, "q=") && err == nil && v == 0 {
			return false
		}
		return true
	}
	return false
}

// statusWriter remembers the status for the log line.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
