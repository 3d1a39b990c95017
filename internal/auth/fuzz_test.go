package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// FuzzHS256Verify feeds arbitrary tokens to the verifier. Whatever it
// accepts must be, checked independently of the jwt library: three
// base64url parts, header alg HS256, a signature that is the HMAC of the
// first two parts under our secret, a numeric exp in the future within the
// maximum lifetime, the configured iss and aud, and roles that are exactly
// (after ASCII lower-casing) roles the payload names.
func FuzzHS256Verify(f *testing.F) {
	secret := []byte("fuzzing-secret-of-at-least-32-bytes!!")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const maxLife = 24 * time.Hour
	v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: func() time.Time { return now },
		Leeway: -1, Issuer: "https://issuer.test", Audience: "userlicenses", MaxLifetime: maxLife})
	if err != nil {
		f.Fatal(err)
	}
	sign := func(c auth.Claims) string {
		tok, err := auth.SignHS256(secret, c)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	good := auth.Claims{Subject: "alice", Tenant: "contoso", Roles: []string{"csp"}, Issuer: "https://issuer.test",
		Audience: []string{"userlicenses"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	f.Add(sign(good))
	for _, extra := range []map[string]any{
		{"exp": "1900000000"},                   // exp as a string (RFC 7519 wants a number)
		{"roles": []string{"cſp"}},              // U+017F folds to s under Unicode rules
		{"iss": "https://evil.test"},            // another issuer
		{"aud": "someone-else"},                 // another audience
		{"exp": now.Add(48 * time.Hour).Unix()}, // beyond the maximum lifetime
		{"resellerId": 42},
	} {
		c := good
		c.Extra = extra
		f.Add(sign(c))
	}
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.")
	f.Add("a.b.c")
	f.Add("")

	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Verify(context.Background(), token)
		if err != nil {
			// Every refusal is a 401, never a 500 or a panic.
			if code := licensing.ErrorCode(err); code != licensing.Unauthorized {
				t.Fatalf("refused with code %s, want Unauthorized: %v", code, err)
			}
			return
		}
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token of %d parts", len(parts))
		}
		raw := func(i int) []byte {
			b, err := base64.RawURLEncoding.DecodeString(parts[i])
			if err != nil {
				t.Fatalf("accepted a token whose part %d is not base64url: %v", i, err)
			}
			return b
		}
		var header struct {
			Alg string `json:"alg"`
		}
		if err := json.Unmarshal(raw(0), &header); err != nil || header.Alg != "HS256" {
			t.Fatalf("accepted header %s (alg %q)", raw(0), header.Alg)
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(parts[0] + "." + parts[1]))
		if !hmac.Equal(mac.Sum(nil), raw(2)) {
			t.Fatal("accepted a token whose signature is not ours")
		}
		var claims map[string]json.RawMessage
		if err := json.Unmarshal(raw(1), &claims); err != nil {
			t.Fatalf("accepted a payload that is not an object: %v", err)
		}
		var exp, iat float64
		if err := json.Unmarshal(claims["exp"], &exp); err != nil {
			t.Fatalf("accepted exp %s, not a number", claims["exp"])
		}
		if !time.Unix(int64(exp), 0).After(now) {
			t.Fatalf("accepted an expired token (exp %v)", exp)
		}
		start := float64(now.Unix())
		if b, ok := claims["iat"]; ok {
			if err := json.Unmarshal(b, &iat); err != nil {
				t.Fatalf("accepted iat %s, not a number", b)
			}
			start = iat
		}
		if exp-start > maxLife.Seconds() {
			t.Fatalf("accepted a lifetime of %vs, beyond %v", exp-start, maxLife)
		}
		var iss string
		if err := json.Unmarshal(claims["iss"], &iss); err != nil || iss != "https://issuer.test" {
			t.Fatalf("accepted iss %s", claims["iss"])
		}
		if !strings.Contains(string(claims["aud"]), `"userlicenses"`) {
			t.Fatalf("accepted aud %s", claims["aud"])
		}
		var named []string
		_ = json.Unmarshal(claims["roles"], &named)
		for _, r := range p.Roles {
			if r != licensing.RoleCSP && r != licensing.RoleReseller {
				continue
			}
			found := false
			for _, n := range named {
				if asciiLower(n) == string(r) {
					found = true
				}
			}
			if !found {
				t.Fatalf("granted role %q from roles %s", r, claims["roles"])
			}
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
