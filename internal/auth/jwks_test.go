package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/auth/authtest"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// jwksFixture is a JWKS server with one RS256 and one ES256 key and a
// verifier for it on a fake clock.
type jwksFixture struct {
	clk      *clock
	rsa, ec  *authtest.Key
	server   *authtest.Server
	verifier *auth.JWKSVerifier
}

func newJWKSFixture(t *testing.T) *jwksFixture {
	t.Helper()
	f := &jwksFixture{clk: newClock(), rsa: authtest.NewKey(t, "RS256"), ec: authtest.NewKey(t, "ES256")}
	f.server = authtest.NewServer(t, f.rsa, f.ec)
	cfg := f.server.Config()
	cfg.Now = f.clk.Now
	v, err := auth.NewJWKSVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.verifier = v
	return f
}

func (f *jwksFixture) token(t *testing.T, key *authtest.Key) string {
	t.Helper()
	return authtest.Token(t, key, validClaims(f.clk.Now()))
}

func (f *jwksFixture) requireFetches(t *testing.T, want int) {
	t.Helper()
	if got := f.server.Fetches(); got != want {
		t.Fatalf("fetches = %d, want %d", got, want)
	}
}

func TestJWKSVerifier_validRS256AndES256TokensYieldPrincipal(t *testing.T) {
	f := newJWKSFixture(t)
	for _, key := range []*authtest.Key{f.rsa, f.ec} {
		t.Run(key.Alg, func(t *testing.T) {
			p, err := f.verifier.Verify(context.Background(), f.token(t, key))
			if err != nil {
				t.Fatal(err)
			}
			if p.Subject != "ada@portal.contoso.test" || p.Tenant != "portal.contoso.test" || !p.Has(licensing.RoleCSP) {
				t.Fatalf("principal = %+v", p)
			}
		})
	}
	f.requireFetches(t, 1) // both keys came from one cached fetch
}

func TestJWKSVerifier_rejects(t *testing.T) {
	f := newJWKSFixture(t)
	now := f.clk.Now()
	claims := func(mod func(*auth.Claims)) auth.Claims {
		c := validClaims(now)
		c.Issuer, c.Audience = authtest.Issuer, []string{authtest.Audience}
		mod(&c)
		return c
	}
	valid := claims(func(*auth.Claims) {})

	// The classic confusion: an HS256 token whose HMAC key is the RSA public
	// key as the server could obtain it, naming the RSA key's kid.
	der, err := x509.MarshalPKIXPublicKey(f.rsa.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	confused := jwt.NewWithClaims(jwt.SigningMethodHS256, valid.MapClaims())
	confused.Header["kid"] = f.rsa.ID
	confusedToken, err := confused.SignedString(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, valid.MapClaims())
	none.Header["kid"] = f.rsa.ID
	noneToken, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	stranger := authtest.NewKey(t, "ES256") // same kid as a published key, other key material
	stranger.ID = f.ec.ID

	tests := []struct {
		name  string
		token string
		cause error
		msg   string
	}{
		{"HS256 token from the shared secret", signHS256(t, secret, valid), jwt.ErrTokenSignatureInvalid, "token signing algorithm is not accepted"},
		{"HS256 token keyed with the RSA public key", confusedToken, jwt.ErrTokenSignatureInvalid, "token signing algorithm is not accepted"},
		{"alg none", noneToken, jwt.ErrTokenSignatureInvalid, "token signing algorithm is not accepted"},
		{"ES256 token naming the RSA key", f.ec.SignHeader(t, map[string]any{"kid": f.rsa.ID}, valid), jwt.ErrTokenSignatureInvalid, "token signature is invalid"},
		{"RS256 token naming the EC key", f.rsa.SignHeader(t, map[string]any{"kid": f.ec.ID}, valid), jwt.ErrTokenSignatureInvalid, "token signature is invalid"},
		{"signed by another key with a published kid", stranger.Sign(t, valid), jwt.ErrTokenSignatureInvalid, "token signature is invalid"},
		{"no kid", f.rsa.SignHeader(t, map[string]any{"kid": nil}, valid), nil, "token is signed by an unknown key"},
		{"wrong issuer", f.rsa.Sign(t, claims(func(c *auth.Claims) { c.Issuer = "https://evil.test/" })), jwt.ErrTokenInvalidIssuer, "token issuer is not accepted"},
		{"missing issuer", f.rsa.Sign(t, claims(func(c *auth.Claims) { c.Issuer = "" })), jwt.ErrTokenRequiredClaimMissing, ""},
		{"wrong audience", f.rsa.Sign(t, claims(func(c *auth.Claims) { c.Audience = []string{"api://other"} })), jwt.ErrTokenInvalidAudience, "token audience is not accepted"},
		{"missing audience", f.rsa.Sign(t, claims(func(c *auth.Claims) { c.Audience = nil })), jwt.ErrTokenRequiredClaimMissing, ""},
		{"expired", f.ec.Sign(t, claims(func(c *auth.Claims) { c.ExpiresAt = now.Add(-time.Minute) })), jwt.ErrTokenExpired, "token has expired"},
		{"missing exp", f.ec.Sign(t, claims(func(c *auth.Claims) { c.ExpiresAt = time.Time{} })), jwt.ErrTokenRequiredClaimMissing, "token lacks a required claim"},
		{"missing tenant", f.ec.Sign(t, claims(func(c *auth.Claims) { c.Tenant = "" })), nil, "token lacks the tenant claim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.verifier.Verify(context.Background(), tt.token)
			requireUnauthorized(t, err, tt.token, tt.cause)
			var le *licensing.Error
			if errors.As(err, &le) && tt.msg != "" && le.Message != tt.msg {
				t.Errorf("message = %q, want %q", le.Message, tt.msg)
			}
		})
	}
}

func TestJWKSVerifier_acceptsAnyOfSeveralAudiencesInTheToken(t *testing.T) {
	f := newJWKSFixture(t)
	c := validClaims(f.clk.Now())
	c.Audience = []string{"api://other", authtest.Audience}
	if _, err := f.verifier.Verify(context.Background(), authtest.Token(t, f.rsa, c)); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSVerifier_unknownKidTriggersOneRateLimitedRefetch(t *testing.T) {
	f := newJWKSFixture(t)
	ctx := context.Background()
	if _, err := f.verifier.Verify(ctx, f.token(t, f.rsa)); err != nil {
		t.Fatal(err)
	}
	f.requireFetches(t, 1)

	// Rotation: the IdP publishes a new key and starts signing with it.
	rotated := authtest.NewKey(t, "RS256")
	f.server.Publish(f.rsa, f.ec, rotated)
	f.clk.Add(time.Minute)
	if _, err := f.verifier.Verify(ctx, f.token(t, rotated)); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	f.requireFetches(t, 2)

	// A kid nobody published: refetching once more is allowed only after
	// the interval, however many such tokens arrive.
	unknown := authtest.NewKey(t, "ES256")
	for range 5 {
		_, err := f.verifier.Verify(ctx, f.token(t, unknown))
		requireUnauthorized(t, err, "", nil)
	}
	f.requireFetches(t, 2)
	f.clk.Add(auth.DefaultMinRefetchInterval)
	_, err := f.verifier.Verify(ctx, f.token(t, unknown))
	requireUnauthorized(t, err, "", nil)
	var le *licensing.Error
	if errors.As(err, &le); le.Message != "token is signed by an unknown key" {
		t.Errorf("message = %q", le.Message)
	}
	f.requireFetches(t, 3)

	// Known keys keep working without fetches meanwhile.
	if _, err := f.verifier.Verify(ctx, f.token(t, f.ec)); err != nil {
		t.Fatal(err)
	}
	f.requireFetches(t, 3)
}

func TestJWKSVerifier_concurrentRequestsShareOneFetch(t *testing.T) {
	f := newJWKSFixture(t)
	tokens := []string{f.token(t, f.rsa), f.token(t, f.ec)}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			_, err := f.verifier.Verify(context.Background(), tokens[i%2])
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.requireFetches(t, 1)
}

func TestJWKSVerifier_cacheExpiresAfterTTL(t *testing.T) {
	f := newJWKSFixture(t)
	ctx := context.Background()
	if _, err := f.verifier.Verify(ctx, f.token(t, f.rsa)); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(auth.DefaultCacheTTL - time.Second)
	if _, err := f.verifier.Verify(ctx, f.token(t, f.rsa)); err != nil {
		t.Fatal(err)
	}
	f.requireFetches(t, 1)

	// The IdP retired the RSA key; after the TTL its tokens stop working.
	f.server.Publish(f.ec)
	f.clk.Add(2 * time.Second)
	if _, err := f.verifier.Verify(ctx, f.token(t, f.ec)); err != nil {
		t.Fatal(err)
	}
	f.requireFetches(t, 2)
	_, err := f.verifier.Verify(ctx, f.token(t, f.rsa))
	requireUnauthorized(t, err, "", nil)
}

func TestJWKSVerifier_fetchFailureWithEmptyCacheIsUnauthorizedWithCause(t *testing.T) {
	f := newJWKSFixture(t)
	f.server.Fail(http.StatusServiceUnavailable)
	ctx := context.Background()
	for range 3 { // the failure is remembered and not refetched at once
		_, err := f.verifier.Verify(ctx, f.token(t, f.rsa))
		requireUnauthorized(t, err, "", nil)
		var le *licensing.Error
		errors.As(err, &le)
		if le.Message != "token cannot be verified: signing keys are unavailable" {
			t.Errorf("message = %q", le.Message)
		}
		if !strings.Contains(err.Error(), "503") {
			t.Errorf("cause does not show the fetch failure: %v", err)
		}
	}
	f.requireFetches(t, 1)

	f.server.Fail(0)
	f.clk.Add(auth.DefaultMinRefetchInterval)
	if _, err := f.verifier.Verify(ctx, f.token(t, f.rsa)); err != nil {
		t.Fatalf("after the IdP recovered: %v", err)
	}
	f.requireFetches(t, 2)
}

func TestJWKSVerifier_staleKeysAnswerWhileRefetchFails(t *testing.T) {
	f := newJWKSFixture(t)
	ctx := context.Background()
	if _, err := f.verifier.Verify(ctx, f.token(t, f.rsa)); err != nil {
		t.Fatal(err)
	}
	f.server.Fail(http.StatusInternalServerError)
	f.clk.Add(auth.DefaultCacheTTL + time.Minute)
	if _, err := f.verifier.Verify(ctx, f.token(t, f.rsa)); err != nil {
		t.Fatalf("cached key refused while the IdP is down: %v", err)
	}
	f.requireFetches(t, 2)
}

func TestJWKSVerifier_unusableKeysInTheSetAreSkipped(t *testing.T) {
	f := newJWKSFixture(t)
	b64 := base64.RawURLEncoding.EncodeToString
	offCurve := map[string]any{"kty": "EC", "kid": "off-curve", "crv": "P-256",
		"x": b64(make([]byte, 32)), "y": b64([]byte(strings.Repeat("\x01", 32)))}
	shortRSA := map[string]any{"kty": "RSA", "kid": "short", "n": b64([]byte{0xc3, 0x01}), "e": "AQAB"}
	f.server.PublishJWK(
		map[string]any{"kty": "oct", "kid": "hmac", "k": b64(secret)},
		map[string]any{"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},
		map[string]any{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AA", "e": "AQAB"},
		offCurve, shortRSA,
		f.ec.JWK(),
	)
	if _, err := f.verifier.Verify(context.Background(), f.token(t, f.ec)); err != nil {
		t.Fatal(err)
	}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims(f.clk.Now()).MapClaims())
	hs.Header["kid"] = "hmac"
	hsToken, _ := hs.SignedString(secret)
	_, err := f.verifier.Verify(context.Background(), hsToken)
	requireUnauthorized(t, err, hsToken, nil)
}

func TestJWKSVerifier_setWithoutUsableKeysIsAFetchFailure(t *testing.T) {
	f := newJWKSFixture(t)
	f.server.PublishJWK(map[string]any{"kty": "oct", "kid": "hmac", "k": "AA"})
	_, err := f.verifier.Verify(context.Background(), f.token(t, f.rsa))
	requireUnauthorized(t, err, "", nil)
	if !strings.Contains(err.Error(), "no usable signature key") {
		t.Fatalf("cause = %v", err)
	}
	if err := f.verifier.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh reported no error")
	}
}

// gatedTransport holds every fetch until the gate is closed.
type gatedTransport struct {
	gate <-chan struct{}
	next http.RoundTripper
}

func (g gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	<-g.gate
	return g.next.RoundTrip(r)
}

func TestJWKSVerifier_canceledRequestStopsWaitingButTheFetchCompletes(t *testing.T) {
	f := newJWKSFixture(t)
	gate := make(chan struct{})
	cfg := f.server.Config()
	cfg.Now = f.clk.Now
	cfg.Client = &http.Client{Transport: gatedTransport{gate: gate, next: http.DefaultTransport}}
	v, err := auth.NewJWKSVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.Verify(ctx, f.token(t, f.rsa))
	requireUnauthorized(t, err, "", context.Canceled)

	close(gate)
	// The next request joins the fetch the canceled one started, or finds
	// its result cached: either way that fetch was not abandoned.
	if _, err := v.Verify(context.Background(), f.token(t, f.rsa)); err != nil {
		t.Fatal(err)
	}
	f.requireFetches(t, 1)
}

func TestNewJWKSVerifier_refusesIncompleteConfig(t *testing.T) {
	ok := auth.JWKSConfig{URL: "https://login.microsoftonline.com/x/discovery/v2.0/keys", Issuer: "i", Audience: "a"}
	tests := []struct {
		name string
		mod  func(*auth.JWKSConfig)
		ok   bool
	}{
		{"https URL is accepted", func(*auth.JWKSConfig) {}, true},
		{"http on loopback is accepted", func(c *auth.JWKSConfig) { c.URL = "http://127.0.0.1:9/keys" }, true},
		{"http elsewhere is refused", func(c *auth.JWKSConfig) { c.URL = "http://login.example.test/keys" }, false},
		{"relative URL is refused", func(c *auth.JWKSConfig) { c.URL = "/keys" }, false},
		{"missing issuer is refused", func(c *auth.JWKSConfig) { c.Issuer = "" }, false},
		{"missing audience is refused", func(c *auth.JWKSConfig) { c.Audience = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mod(&cfg)
			_, err := auth.NewJWKSVerifier(cfg)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && licensing.ErrorCode(err) != licensing.Invalid {
				t.Fatalf("code = %q, want Invalid", licensing.ErrorCode(err))
			}
		})
	}
}

func TestJWKSVerifier_refreshFetchesAtStartUp(t *testing.T) {
	f := newJWKSFixture(t)
	if err := f.verifier.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.requireFetches(t, 1)
	if _, err := f.verifier.Verify(context.Background(), f.token(t, f.ec)); err != nil {
		t.Fatal(err)
	}
	f.requireFetches(t, 1)
}
