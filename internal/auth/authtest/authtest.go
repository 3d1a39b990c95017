// Package authtest mints RS256 and ES256 tokens and serves their keys as a
// JWK Set on a local test server, for tests of code that verifies tokens
// with package auth (unit tests of auth itself and end-to-end tests of the
// server configured with a JWKS URL).
package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
)

// The issuer and audience a Server's Config expects and its Token sets.
const (
	Issuer   = "https://login.authtest.invalid/tenant/v2.0"
	Audience = "api://userlicenses-authtest"
)

// Key is a generated signing key with its key id.
type Key struct {
	// ID is the kid of the key in tokens and in the JWK Set.
	ID string
	// Alg is RS256 or ES256.
	Alg     string
	private any
}

// NewKey generates a key for alg ("RS256" or "ES256") with a random kid.
func NewKey(tb testing.TB, alg string) *Key {
	tb.Helper()
	k := &Key{ID: randomID(tb), Alg: alg}
	var err error
	switch alg {
	case "RS256":
		k.private, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		k.private, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		tb.Fatalf("authtest: unsupported alg %q", alg)
	}
	if err != nil {
		tb.Fatalf("authtest: generate %s key: %v", alg, err)
	}
	return k
}

func randomID(tb testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("authtest: %v", err)
	}
	return hex.EncodeToString(b)
}

// Public returns the public key (*rsa.PublicKey or *ecdsa.PublicKey), e.g.
// to attempt algorithm confusion with it.
func (k *Key) Public() any {
	switch p := k.private.(type) {
	case *rsa.PrivateKey:
		return &p.PublicKey
	case *ecdsa.PrivateKey:
		return &p.PublicKey
	}
	return nil
}

// JWK returns the public key as a JSON Web Key, shaped as Entra ID publishes
// them: RSA keys without alg, EC keys with it.
func (k *Key) JWK() map[string]any {
	b64 := base64.RawURLEncoding.EncodeToString
	switch p := k.private.(type) {
	case *rsa.PrivateKey:
		return map[string]any{"kty": "RSA", "use": "sig", "kid": k.ID,
			"n": b64(p.N.Bytes()), "e": b64(big.NewInt(int64(p.E)).Bytes())}
	case *ecdsa.PrivateKey:
		raw, _ := p.PublicKey.Bytes() // 0x04 || x || y for P-256
		return map[string]any{"kty": "EC", "use": "sig", "alg": "ES256", "kid": k.ID, "crv": "P-256",
			"x": b64(raw[1:33]), "y": b64(raw[33:65])}
	}
	return nil
}

// Sign mints a token with the claims, signed by the key and naming it in kid.
func (k *Key) Sign(tb testing.TB, c auth.Claims) string {
	tb.Helper()
	return k.SignHeader(tb, nil, c)
}

// SignHeader is Sign with header parameters set (or, with a nil value,
// removed) after alg and kid, to produce odd tokens.
func (k *Key) SignHeader(tb testing.TB, header map[string]any, c auth.Claims) string {
	tb.Helper()
	t := jwt.NewWithClaims(jwt.GetSigningMethod(k.Alg), c.MapClaims())
	t.Header["kid"] = k.ID
	for name, v := range header {
		if v == nil {
			delete(t.Header, name)
		} else {
			t.Header[name] = v
		}
	}
	s, err := t.SignedString(k.private)
	if err != nil {
		tb.Fatalf("authtest: sign: %v", err)
	}
	return s
}

// Server serves a JWK Set on 127.0.0.1 and counts the fetches. It is closed
// when the test ends.
type Server struct {
	// URL is the address of the JWK Set.
	URL string

	srv     *httptest.Server
	fetches atomic.Int64

	mu     sync.Mutex
	keys   []map[string]any
	status int
}

// NewServer starts a server publishing the keys.
func NewServer(tb testing.TB, keys ...*Key) *Server {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("authtest: listen: %v", err)
	}
	s := &Server{}
	s.Publish(keys...)
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.srv.URL + "/discovery/v2.0/keys"
	tb.Cleanup(s.srv.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	s.mu.Lock()
	status, body := s.status, map[string]any{"keys": s.keys}
	b, err := json.Marshal(body)
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// Publish replaces the published keys, e.g. to rotate them.
func (s *Server) Publish(keys ...*Key) {
	jwks := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		jwks = append(jwks, k.JWK())
	}
	s.PublishJWK(jwks...)
}

// PublishJWK replaces the published keys with raw JSON Web Keys, e.g. ones a
// verifier must skip.
func (s *Server) PublishJWK(jwks ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = jwks
}

// Fail makes the server answer every fetch with the status; 0 heals it.
func (s *Server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Fetches returns how many times the key set was requested.
func (s *Server) Fetches() int { return int(s.fetches.Load()) }

// Config returns a verifier configuration for this server, with Issuer and
// Audience; callers add a clock and intervals as they need.
func (s *Server) Config() auth.JWKSConfig {
	return auth.JWKSConfig{URL: s.URL, Issuer: Issuer, Audience: Audience, Client: s.srv.Client()}
}

// Token mints a token signed by key, filling in Issuer and Audience when the
// claims leave them empty.
func Token(tb testing.TB, key *Key, c auth.Claims) string {
	tb.Helper()
	if c.Issuer == "" {
		c.Issuer = Issuer
	}
	if c.Audience == nil {
		c.Audience = []string{Audience}
	}
	return key.Sign(tb, c)
}
