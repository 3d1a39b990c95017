package auth

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// verifiedCache remembers the tokens an HS256Verifier verified, so that a
// client sending the same token on every request pays the signature check
// and the claims' JSON once (profiling the GET put the token check at 13 %
// of it). Only successes are kept, each with the window in which the checks
// that depend on the time pass; a hit outside its window is verified
// afresh (and refused). Keys are SHA-256 digests of the token, so the cache
// holds no bearer token and a token differing in any byte is a miss.
//
// It serves HS256 only, whose outcome depends on nothing but the token,
// the fixed secret and the time; a JWKS-verified token also depends on
// keys that rotate, and is checked every time.
type verifiedCache struct {
	mu  sync.Mutex
	m   map[[sha256.Size]byte]verifiedEntry
	max int
}

type verifiedEntry struct {
	p licensing.Principal
	w window
}

// maxVerifiedTokens bounds the cache; when full it is emptied, which costs
// one verification per live token and keeps memory bounded (about 200 bytes
// per entry) whatever a caller sends.
const maxVerifiedTokens = 10000

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{m: map[[sha256.Size]byte]verifiedEntry{}, max: max}
}

// get returns the principal of a token verified before whose window holds
// now; the roles are a copy, so that no caller changes another's.
func (c *verifiedCache) get(key [sha256.Size]byte, now time.Time) (licensing.Principal, bool) {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if !ok || !e.w.holds(now) {
		return licensing.Principal{}, false
	}
	e.p.Roles = slices.Clone(e.p.Roles)
	return e.p, true
}

func (c *verifiedCache) put(key [sha256.Size]byte, p licensing.Principal, w window) {
	p.Roles = slices.Clone(p.Roles)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[key] = verifiedEntry{p: p, w: w}
}
