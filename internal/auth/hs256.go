package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// MinSecretBytes is the shortest HS256 secret accepted: RFC 7518 §3.2 asks
// for a key at least as long as the hash output (256 bits).
const MinSecretBytes = 32

// HS256Config configures an HS256Verifier.
type HS256Config struct {
	// Secret is the shared key: the raw bytes of LICENSES_JWT_SECRET.
	Secret []byte
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock skew tolerated on exp, nbf and iat; zero means
	// DefaultLeeway and a negative value means none.
	Leeway time.Duration
	// Issuer and Audience, when set, are required of every token (iss,
	// and one of aud), as for JWKS-verified tokens.
	Issuer, Audience string
	// MaxLifetime, when positive, refuses a token whose exp lies further
	// than this after its iat (or after now, without iat).
	MaxLifetime time.Duration
}

// HS256Verifier verifies tokens signed with a shared secret, for development
// and tests. It accepts HS256 only.
type HS256Verifier struct {
	secret []byte
	parser parser
	cache  *verifiedCache
}

var _ Verifier = (*HS256Verifier)(nil)

// NewHS256Verifier returns a verifier for the secret, refusing one shorter
// than MinSecretBytes.
func NewHS256Verifier(cfg HS256Config) (*HS256Verifier, error) {
	if err := checkSecret(cfg.Secret); err != nil {
		return nil, err
	}
	// Copy so that a caller reusing its slice cannot change our key.
	secret := append([]byte(nil), cfg.Secret...)
	var extra []jwt.ParserOption
	if cfg.Issuer != "" {
		extra = append(extra, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		extra = append(extra, jwt.WithAudience(cfg.Audience))
	}
	p := newParser([]string{jwt.SigningMethodHS256.Alg()}, cfg.Now, cfg.Leeway, extra...)
	p.maxLifetime = cfg.MaxLifetime
	return &HS256Verifier{secret: secret, parser: p, cache: newVerifiedCache(maxVerifiedTokens)}, nil
}

// Verify checks the token's signature and claims and returns its principal.
// A token verified before is answered from the cache while its time
// window holds (see verifiedCache).
func (v *HS256Verifier) Verify(_ context.Context, token string) (licensing.Principal, error) {
	if token == "" || len(token) > maxTokenBytes {
		return v.parser.parse(token, nil) // refused before any key is asked for
	}
	key := sha256.Sum256([]byte(token))
	if p, ok := v.cache.get(key, v.parser.now()); ok {
		return p, nil
	}
	p, w, err := v.parser.parseWindow(token, func(*jwt.Token) (any, error) { return v.secret, nil })
	if err == nil {
		v.cache.put(key, p, w)
	}
	return p, err
}

func checkSecret(secret []byte) error {
	if len(secret) < MinSecretBytes {
		return licensing.Errorf(licensing.Invalid,
			"HS256 secret must be at least %d bytes, got %d", MinSecretBytes, len(secret))
	}
	return nil
}

// String keeps the secret out of logs that print the verifier.
func (v *HS256Verifier) String() string {
	return fmt.Sprintf("HS256Verifier(%d-byte secret)", len(v.secret))
}
