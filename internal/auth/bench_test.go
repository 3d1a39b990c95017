package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
)

// BenchmarkHS256Verify is the token check of every API request.
func BenchmarkHS256Verify(b *testing.B) {
	secret := []byte("benchmark-secret-of-at-least-32-bytes!")
	v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := auth.SignHS256(secret, auth.Claims{Subject: "alice", Tenant: "portal.contoso.test", Roles: []string{"csp"},
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
}
