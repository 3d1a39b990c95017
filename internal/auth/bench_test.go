package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
)

// BenchmarkHS256Verify is the token check of every API request: "cached"
// a client sending the same token again (the verified-token cache),
// "firstSight" a token the verifier has not seen (signature and claims
// checked; a fresh token per iteration).
func BenchmarkHS256Verify(b *testing.B) {
	secret := []byte("benchmark-secret-of-at-least-32-bytes!")
	sign := func(sub string) string {
		tok, err := auth.SignHS256(secret, auth.Claims{Subject: sub, Tenant: "portal.contoso.test", Roles: []string{"csp"},
			IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	newVerifier := func() *auth.HS256Verifier {
		v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret})
		if err != nil {
			b.Fatal(err)
		}
		return v
	}
	b.Run("cached", func(b *testing.B) {
		v, tok := newVerifier(), sign("alice")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("firstSight", func(b *testing.B) {
		v := newVerifier()
		toks := make([]string, 4096)
		for i := range toks {
			toks[i] = sign(fmt.Sprintf("user-%d", i))
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if i%len(toks) == 0 {
				v = newVerifier() // every token unseen again
			}
			if _, err := v.Verify(context.Background(), toks[i%len(toks)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
