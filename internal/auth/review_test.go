package auth_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/auth/authtest"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// What the security review found in token handling, one rule per case.

func TestHS256Verifier_enforcesIssuerAndAudienceWhenSet(t *testing.T) {
	clk := newClock()
	v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now, Issuer: "https://issuer.test", Audience: "api://licenses"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		iss      string
		aud      []string
		accepted bool
	}{
		{"the configured issuer and audience", "https://issuer.test", []string{"api://licenses"}, true},
		{"one of several audiences", "https://issuer.test", []string{"api://other", "api://licenses"}, true},
		{"another issuer", "https://evil.test", []string{"api://licenses"}, false},
		{"another audience", "https://issuer.test", []string{"api://other"}, false},
		{"no issuer", "", []string{"api://licenses"}, false},
		{"no audience", "https://issuer.test", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClaims(clk.Now())
			c.Issuer, c.Audience = tt.iss, tt.aud
			tok := signHS256(t, secret, c)
			_, err := v.Verify(context.Background(), tok)
			if tt.accepted {
				if err != nil {
					t.Fatalf("Verify = %v, want accepted", err)
				}
				return
			}
			requireUnauthorized(t, err, tok, nil)
		})
	}
}

func TestHS256Verifier_timeClaimsMustBeNumbers(t *testing.T) {
	clk := newClock()
	v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	exp := clk.Now().Add(time.Hour).Unix()
	for _, claim := range []string{"exp", "nbf", "iat"} {
		t.Run(claim+" as a string", func(t *testing.T) {
			c := validClaims(clk.Now())
			c.Extra = map[string]any{claim: jsonNumberString(exp - 7200*boolInt(claim != "exp"))}
			tok := signHS256(t, secret, c)
			_, err := v.Verify(context.Background(), tok)
			requireUnauthorized(t, err, tok, nil)
		})
	}
}

func jsonNumberString(n int64) string { return strconv.FormatInt(n, 10) }

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestVerifier_refusesTokensLivingLongerThanTheMaximum(t *testing.T) {
	clk := newClock()
	v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now, MaxLifetime: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	tests := []struct {
		name     string
		iat, exp time.Time
		accepted bool
	}{
		{"an hour", now, now.Add(time.Hour), true},
		{"exactly the maximum", now, now.Add(24 * time.Hour), true},
		{"a year", now, now.Add(365 * 24 * time.Hour), false},
		{"a year without iat", time.Time{}, now.Add(365 * 24 * time.Hour), false},
		{"a day without iat", time.Time{}, now.Add(23 * time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClaims(now)
			c.IssuedAt, c.ExpiresAt = tt.iat, tt.exp
			tok := signHS256(t, secret, c)
			_, err := v.Verify(context.Background(), tok)
			if tt.accepted {
				if err != nil {
					t.Fatalf("Verify = %v, want accepted", err)
				}
				return
			}
			requireUnauthorized(t, err, tok, nil)
		})
	}
}

// TestRoles_noUnicodeFoldingGrantsARole: strings.EqualFold("cſp", "csp")
// is true (U+017F folds to s); a role is matched after ASCII lower-casing
// only.
func TestRoles_noUnicodeFoldingGrantsARole(t *testing.T) {
	clk := newClock()
	v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"cſp", "reſeller", "\u212Asp", "ＣＳＰ"} {
		t.Run(role, func(t *testing.T) {
			c := validClaims(clk.Now())
			c.Roles = []string{role}
			p, err := v.Verify(context.Background(), signHS256(t, secret, c))
			if err != nil {
				t.Fatal(err)
			}
			if p.Has(licensing.RoleCSP) || p.Has(licensing.RoleReseller) {
				t.Errorf("role %q grants %v", role, p.Roles)
			}
			if code := licensing.ErrorCode(auth.Authorize(p, "portal.contoso.test")); code != licensing.Forbidden {
				t.Errorf("Authorize = %q, want Forbidden", code)
			}
		})
	}
	if !(licensing.Principal{Roles: []licensing.Role{" CSP "}}).Has(licensing.RoleCSP) {
		t.Error("ASCII case and spaces must still match")
	}
}

// TestJWKSVerifier_refusesARedirectToPlainHTTP: the https rule holds for
// every hop, or a redirect would have the keys fetched in clear.
func TestJWKSVerifier_refusesARedirectToPlainHTTP(t *testing.T) {
	clk := newClock()
	key := authtest.NewKey(t, "RS256")
	keys := authtest.NewServer(t, key) // a loopback http server (allowed as the configured URL in tests)
	// A TLS front that redirects to a plain-http address that is not
	// loopback by name: the rule must refuse to follow it.
	front := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://keys.example.test/keys", http.StatusFound)
	}))
	t.Cleanup(front.Close)
	// keys.example.test resolves to the key server, so that without the
	// rule the redirect would succeed (and the test prove nothing).
	client := front.Client()
	tr := client.Transport.(*http.Transport).Clone()
	keysAddr := strings.TrimPrefix(keys.Config().URL, "http://")
	keysAddr = keysAddr[:strings.Index(keysAddr, "/")]
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "keys.example.test:") {
			addr = keysAddr
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	client.Transport = tr
	front.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://keys.example.test:80"+strings.TrimPrefix(keys.Config().URL, "http://"+keysAddr), http.StatusFound)
	})
	cfg := keys.Config()
	cfg.URL, cfg.Client, cfg.Now = front.URL+"/keys", client, clk.Now
	v, err := auth.NewJWKSVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = v.Refresh(context.Background())
	if err == nil {
		t.Fatal("the keys were fetched through a redirect to plain http")
	}
	tok := authtest.Token(t, key, validClaims(clk.Now()))
	_, verr := v.Verify(context.Background(), tok)
	requireUnauthorized(t, verr, tok, nil)
}
