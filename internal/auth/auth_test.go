package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/auth/authtest"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// clock is a settable time source safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var secret = []byte("0123456789abcdef0123456789abcdef") // 32 bytes, test only

const resellerID = "3f2b6c1e-8a4d-4c5e-9b7a-1d2e3f4a5b6c"

// validClaims returns claims of a csp token valid at now for an hour.
func validClaims(now time.Time) auth.Claims {
	return auth.Claims{
		Subject:   "ada@portal.contoso.test",
		Tenant:    "Portal.Contoso.Test",
		Roles:     []string{"CSP"},
		ExpiresAt: now.Add(time.Hour),
		IssuedAt:  now,
	}
}

func signHS256(t *testing.T, key []byte, c auth.Claims) string {
	t.Helper()
	s, err := auth.SignHS256(key, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// requireUnauthorized checks the contract of every Verify failure: code
// Unauthorized, a message that does not echo the token, and (when want is
// set) the cause in the chain.
func requireUnauthorized(t *testing.T, err error, token string, want error) {
	t.Helper()
	if code := licensing.ErrorCode(err); code != licensing.Unauthorized {
		t.Fatalf("code = %q (err %v), want Unauthorized", code, err)
	}
	var le *licensing.Error
	errors.As(err, &le)
	if le.Message == "" {
		t.Error("message is empty")
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("error echoes the token: %v", err)
	}
	if strings.Contains(err.Error(), string(secret)) {
		t.Errorf("error reveals the secret: %v", err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Errorf("err = %v, want cause %v", err, want)
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name, header, want string
		ok                 bool
	}{
		{"bearer scheme yields the token", "Bearer abc.def.ghi", "abc.def.ghi", true},
		{"scheme is case-insensitive", "bEaReR abc.def.ghi", "abc.def.ghi", true},
		{"surrounding spaces are ignored", "  Bearer   abc.def.ghi  ", "abc.def.ghi", true},
		{"missing header is refused", "", "", false},
		{"scheme alone is refused", "Bearer", "", false},
		{"scheme with blank token is refused", "Bearer   ", "", false},
		{"basic scheme is refused", "Basic dXNlcjpwdw==", "", false},
		{"token with inner spaces is refused", "Bearer abc def", "", false},
		{"token without scheme is refused", "abc.def.ghi", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.BearerToken(tt.header)
			if !tt.ok {
				requireUnauthorized(t, err, "", nil)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("BearerToken(%q) = %q, %v; want %q", tt.header, got, err, tt.want)
			}
		})
	}
}

func TestNewHS256Verifier_refusesSecretsShorterThan32Bytes(t *testing.T) {
	_, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret[:31]})
	if err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Fatalf("err = %v, want a refusal naming 32 bytes", err)
	}
	if _, err := auth.SignHS256(secret[:31], auth.Claims{}); err == nil {
		t.Fatal("SignHS256 accepted a short secret")
	}
	if _, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret}); err != nil {
		t.Fatalf("32-byte secret refused: %v", err)
	}
}

func TestHS256Verifier_validTokenYieldsPrincipal(t *testing.T) {
	clk := newClock()
	v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c := validClaims(clk.Now())
	c.Roles = []string{" Reseller ", "CSP", "other"}
	c.ResellerID = resellerID
	p, err := v.Verify(context.Background(), signHS256(t, secret, c))
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != c.Subject || p.Tenant != "portal.contoso.test" {
		t.Errorf("principal = %+v", p)
	}
	if !p.Has(licensing.RoleCSP) || !p.Has(licensing.RoleReseller) || len(p.Roles) != 3 {
		t.Errorf("roles = %v, want lowercased reseller, csp, other", p.Roles)
	}
	if p.ResellerID == nil || p.ResellerID.String() != resellerID {
		t.Errorf("resellerId = %v, want %s", p.ResellerID, resellerID)
	}
}

func TestHS256Verifier_rejects(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*auth.Claims)) string {
		c := validClaims(now)
		f(&c)
		return signHS256(t, secret, c)
	}
	valid := with(func(*auth.Claims) {})
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims(now).MapClaims()).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := authtest.NewKey(t, "RS256")
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(
		[]byte(`{"sub":"root","tenant":"portal.contoso.test","roles":["csp"],"exp":9999999999}`)) + "." + parts[2]
	other := []byte("another-secret-of-at-least-32-bytes!")

	tests := []struct {
		name  string
		token string
		cause error
	}{
		{"empty token", "", nil},
		{"garbage", "not-a-token", jwt.ErrTokenMalformed},
		{"two segments", parts[0] + "." + parts[1], jwt.ErrTokenMalformed},
		{"expired beyond leeway", with(func(c *auth.Claims) { c.ExpiresAt = now.Add(-31 * time.Second) }), jwt.ErrTokenExpired},
		{"missing exp", with(func(c *auth.Claims) { c.ExpiresAt = time.Time{} }), jwt.ErrTokenRequiredClaimMissing},
		{"exp not a number", with(func(c *auth.Claims) { c.Extra = map[string]any{"exp": "tomorrow"} }), jwt.ErrTokenMalformed},
		{"nbf beyond leeway", with(func(c *auth.Claims) { c.NotBefore = now.Add(time.Minute) }), jwt.ErrTokenNotValidYet},
		{"iat beyond leeway", with(func(c *auth.Claims) { c.IssuedAt = now.Add(time.Minute) }), jwt.ErrTokenUsedBeforeIssued},
		{"signed with another secret", signHS256(t, other, validClaims(now)), jwt.ErrTokenSignatureInvalid},
		{"payload tampered", tampered, jwt.ErrTokenSignatureInvalid},
		{"alg none", none, jwt.ErrTokenSignatureInvalid},
		{"RS256 token (alg confusion)", rsaKey.Sign(t, validClaims(now)), jwt.ErrTokenSignatureInvalid},
		{"missing sub", with(func(c *auth.Claims) { c.Subject = "" }), nil},
		{"blank sub", with(func(c *auth.Claims) { c.Subject = "  " }), nil},
		{"missing tenant", with(func(c *auth.Claims) { c.Tenant = "" }), nil},
		{"tenant not a string", with(func(c *auth.Claims) { c.Extra = map[string]any{"tenant": 7} }), jwt.ErrTokenMalformed},
		{"crit header", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims(now).MapClaims())
			tok.Header["crit"] = []string{"exp"}
			s, _ := tok.SignedString(secret)
			return s
		}(), nil},
		{"longer than 16 KiB", with(func(c *auth.Claims) { c.Extra = map[string]any{"pad": strings.Repeat("x", 17<<10)} }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.token)
			requireUnauthorized(t, err, tt.token, tt.cause)
		})
	}
}

func TestHS256Verifier_messagesNameTheReason(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	v, _ := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now})
	expired := validClaims(now)
	expired.ExpiresAt = now.Add(-time.Hour)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims(now).MapClaims()).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	tests := []struct{ name, token, want string }{
		{"expired", signHS256(t, secret, expired), "token has expired"},
		{"alg none", none, "token signing algorithm is not accepted"},
		{"bad signature", signHS256(t, []byte("another-secret-of-at-least-32-bytes!"), validClaims(now)), "token signature is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.token)
			var le *licensing.Error
			if !errors.As(err, &le) || le.Message != tt.want {
				t.Fatalf("err = %v, want message %q", err, tt.want)
			}
		})
	}
}

func TestHS256Verifier_leewayToleratesSmallSkew(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	v, _ := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now})
	c := validClaims(now)
	c.ExpiresAt = now.Add(-20 * time.Second)
	c.NotBefore = now.Add(20 * time.Second)
	c.IssuedAt = now.Add(20 * time.Second)
	if _, err := v.Verify(context.Background(), signHS256(t, secret, c)); err != nil {
		t.Fatalf("token 20s off was refused: %v", err)
	}
	strict, _ := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now, Leeway: -1})
	if _, err := strict.Verify(context.Background(), signHS256(t, secret, c)); err == nil {
		t.Fatal("negative leeway still tolerated skew")
	}
}

func TestHS256Verifier_malformedGrantsYieldPrincipalWithoutThem(t *testing.T) {
	clk := newClock()
	v, _ := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now})
	tests := []struct {
		name      string
		extra     map[string]any
		wantRoles int
	}{
		{"numeric resellerId", map[string]any{"roles": []string{"reseller"}, "resellerId": 42}, 1},
		{"non-uuid resellerId", map[string]any{"roles": []string{"reseller"}, "resellerId": "reseller-7"}, 1},
		{"nil uuid resellerId", map[string]any{"roles": []string{"reseller"}, "resellerId": uuid.Nil.String()}, 1},
		{"object resellerId", map[string]any{"roles": []string{"reseller"}, "resellerId": map[string]any{"id": 1}}, 1},
		{"roles an object", map[string]any{"roles": map[string]any{"csp": true}}, 0},
		{"roles with non-strings", map[string]any{"roles": []any{1, "CSP", nil}}, 1},
		{"roles one string", map[string]any{"roles": "csp"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClaims(clk.Now())
			c.Extra = tt.extra
			p, err := v.Verify(context.Background(), signHS256(t, secret, c))
			if err != nil {
				t.Fatalf("authentic token refused: %v", err)
			}
			if p.ResellerID != nil {
				t.Errorf("resellerId = %v, want none", p.ResellerID)
			}
			if len(p.Roles) != tt.wantRoles {
				t.Errorf("roles = %v, want %d", p.Roles, tt.wantRoles)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	rid := uuid.MustParse(resellerID)
	nilID := uuid.Nil
	tests := []struct {
		name    string
		p       licensing.Principal
		xTenant string
		allowed bool
	}{
		{"csp of the tenant is allowed", licensing.Principal{Tenant: "portal.contoso.test", Roles: []licensing.Role{"csp"}}, "portal.contoso.test", true},
		{"tenant matches case-insensitively", licensing.Principal{Tenant: "Portal.Contoso.TEST", Roles: []licensing.Role{"csp"}}, " portal.CONTOSO.test ", true},
		{"roles match case-insensitively", licensing.Principal{Tenant: "portal.contoso.test", Roles: []licensing.Role{"CSP"}}, "portal.contoso.test", true},
		{"reseller with resellerId is allowed", licensing.Principal{Tenant: "portal.contoso.test", Roles: []licensing.Role{"reseller"}, ResellerID: &rid}, "portal.contoso.test", true},
		{"csp and reseller without resellerId is allowed as csp", licensing.Principal{Tenant: "portal.contoso.test", Roles: []licensing.Role{"reseller", "csp"}}, "portal.contoso.test", true},
		{"another tenant is forbidden", licensing.Principal{Tenant: "portal.fabrikam.test", Roles: []licensing.Role{"csp"}}, "portal.contoso.test", false},
		{"empty X-Tenant is forbidden", licensing.Principal{Tenant: "portal.contoso.test", Roles: []licensing.Role{"csp"}}, "", false},
		{"principal without tenant is forbidden", licensing.Principal{Roles: []licensing.Role{"csp"}}, "", false},
		{"no role is forbidden", licensing.Principal{Tenant: "portal.contoso.test"}, "portal.contoso.test", false},
		{"unknown role is forbidden", licensing.Principal{Tenant: "portal.contoso.test", Roles: []licensing.Role{"admin"}}, "portal.contoso.test", false},
		{"reseller without resellerId is forbidden", licensing.Principal{Tenant: "portal.contoso.test", Roles: []licensing.Role{"reseller"}}, "portal.contoso.test", false},
		{"reseller with nil uuid is forbidden", licensing.Principal{Tenant: "portal.contoso.test", Roles: []licensing.Role{"reseller"}, ResellerID: &nilID}, "portal.contoso.test", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := auth.Authorize(tt.p, tt.xTenant)
			if tt.allowed {
				if err != nil {
					t.Fatalf("Authorize = %v, want allowed", err)
				}
				return
			}
			if code := licensing.ErrorCode(err); code != licensing.Forbidden {
				t.Fatalf("code = %q (err %v), want Forbidden", code, err)
			}
		})
	}
}

// TestVerifyThenAuthorize_resellerWithMalformedIdIsForbidden follows a token
// with a malformed resellerId through both steps: authentic, so 401 would be
// wrong, but not limited to one reseller, so it must not get in.
func TestVerifyThenAuthorize_resellerWithMalformedIdIsForbidden(t *testing.T) {
	clk := newClock()
	v, _ := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now})
	c := validClaims(clk.Now())
	c.Roles = []string{"Reseller"}
	c.ResellerID = "not-a-uuid"
	p, err := v.Verify(context.Background(), signHS256(t, secret, c))
	if err != nil {
		t.Fatal(err)
	}
	if code := licensing.ErrorCode(auth.Authorize(p, "portal.contoso.test")); code != licensing.Forbidden {
		t.Fatalf("code = %q, want Forbidden", code)
	}
	c.ResellerID = resellerID
	p, err = v.Verify(context.Background(), signHS256(t, secret, c))
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Authorize(p, "PORTAL.contoso.test"); err != nil {
		t.Fatalf("reseller with valid id: %v", err)
	}
	if s := p.Scope(); s.ResellerID == nil || s.ResellerID.String() != resellerID {
		t.Fatalf("scope = %+v, want limited to the reseller", s)
	}
}
