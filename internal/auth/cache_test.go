package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// TestHS256Verifier_cachedTokenKeepsEveryTimeCheck: a token verified once
// is answered from the verified-token cache, but only inside the window the
// time checks allow; the same token seen again after its exp, or a token
// first seen before its nbf, is refused as without the cache.
func TestHS256Verifier_cachedTokenKeepsEveryTimeCheck(t *testing.T) {
	tests := []struct {
		name   string
		claims func(now time.Time) auth.Claims
		// steps: clock offsets from the start, and whether Verify must
		// accept at each.
		steps []struct {
			at time.Duration
			ok bool
		}
	}{
		{"expiresWhileCached", func(now time.Time) auth.Claims {
			c := validClaims(now)
			c.ExpiresAt = now.Add(time.Minute)
			return c
		}, []struct {
			at time.Duration
			ok bool
		}{{0, true}, {time.Minute, true}, {time.Minute + auth.DefaultLeeway - time.Nanosecond, true}, {time.Minute + auth.DefaultLeeway, false}, {time.Hour, false}}},
		{"notValidYetThenValid", func(now time.Time) auth.Claims {
			c := validClaims(now)
			c.IssuedAt = now
			c.NotBefore = now.Add(time.Minute)
			return c
		}, []struct {
			at time.Duration
			ok bool
		}{{0, false}, {time.Minute - auth.DefaultLeeway, true}, {2 * time.Minute, true}}},
		{"clockGoingBackBeforeIat", func(now time.Time) auth.Claims {
			c := validClaims(now)
			c.IssuedAt = now
			return c
		}, []struct {
			at time.Duration
			ok bool
		}{{0, true}, {-auth.DefaultLeeway - time.Second, false}, {0, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			start := clk.Now()
			v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			token := signHS256(t, secret, tt.claims(start))
			for i, st := range tt.steps {
				clk.Add(start.Add(st.at).Sub(clk.Now()))
				_, err := v.Verify(context.Background(), token)
				if (err == nil) != st.ok {
					t.Fatalf("step %d (at %s): Verify err = %v, want accepted %v", i, st.at, err, st.ok)
				}
				if err != nil && licensing.ErrorCode(err) != licensing.Unauthorized {
					t.Fatalf("step %d: code %q, want Unauthorized", i, licensing.ErrorCode(err))
				}
			}
		})
	}
}

// TestHS256Verifier_cacheNeverAnswersAnotherToken: after a valid token is
// cached, a token differing in its signature or its claims is verified on
// its own and refused, and a caller changing the roles it was given does
// not change what the next caller gets.
func TestHS256Verifier_cacheNeverAnswersAnotherToken(t *testing.T) {
	clk := newClock()
	v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: secret, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c := validClaims(clk.Now())
	token := signHS256(t, secret, c)
	p, err := v.Verify(context.Background(), token)
	if err != nil || len(p.Roles) == 0 {
		t.Fatalf("valid token: %+v, %v", p, err)
	}
	p.Roles[0] = "tampered"
	again, err := v.Verify(context.Background(), token)
	if err != nil || again.Roles[0] == "tampered" {
		t.Fatalf("second Verify of the same token: %+v, %v; want the original roles", again, err)
	}
	last := token[len(token)-1]
	flipped := token[:len(token)-1] + string(map[bool]byte{true: 'A', false: 'B'}[last != 'A'])
	if _, err := v.Verify(context.Background(), flipped); err == nil {
		t.Fatal("a token with another signature was accepted after the valid one was cached")
	}
	other := c
	other.Tenant = "other.test"
	forged := signHS256(t, []byte("another secret, also 32 bytes long!"), other)
	if _, err := v.Verify(context.Background(), forged); err == nil {
		t.Fatal("a token signed with another secret was accepted")
	}
}
