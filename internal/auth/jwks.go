package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Defaults of JWKSConfig.
const (
	// DefaultCacheTTL is how long fetched keys are trusted before they are
	// fetched again; Entra ID announces rotations well ahead.
	DefaultCacheTTL = time.Hour
	// DefaultMinRefetchInterval bounds how often tokens with unknown key ids
	// (or a stale cache) can make us fetch: anyone can send such a token, so
	// they must not be able to turn us into a load generator for the IdP.
	DefaultMinRefetchInterval = 30 * time.Second
	// DefaultFetchTimeout bounds one fetch of the key set.
	DefaultFetchTimeout = 10 * time.Second
)

// maxJWKSBytes bounds the key set we read; Entra ID's is a few kilobytes.
const maxJWKSBytes = 1 << 20

// JWKSConfig configures a JWKSVerifier.
type JWKSConfig struct {
	// URL of the JWK Set, e.g. https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys.
	// It must be https, except on a loopback host (tests).
	URL string
	// Issuer is the required iss claim.
	Issuer string
	// Audience is the required aud claim (one of the token's audiences).
	Audience string
	// Client fetches the key set; nil means a client with DefaultFetchTimeout.
	Client *http.Client
	// Now returns the current time, for claims and the cache; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock skew tolerated on exp, nbf and iat; zero means
	// DefaultLeeway and a negative value means none.
	Leeway time.Duration
	// CacheTTL is how long fetched keys are used before a refetch; zero
	// means DefaultCacheTTL.
	CacheTTL time.Duration
	// MinRefetchInterval is the least time between two fetches; zero means
	// DefaultMinRefetchInterval.
	MinRefetchInterval time.Duration
	// FetchTimeout bounds one fetch; zero means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MaxLifetime, when positive, refuses a token whose exp lies further
	// than this after its iat (or after now, without iat).
	MaxLifetime time.Duration
}

// JWKSVerifier verifies RS256 and ES256 tokens with keys fetched from a JWK
// Set URL, as Microsoft Entra ID publishes them, and checks iss and aud.
//
// Keys are cached for CacheTTL. A token naming a key id the cache does not
// know triggers a refetch (key rotation), at most once per
// MinRefetchInterval; concurrent requests share one fetch. When a refetch
// fails, keys already cached keep answering; when the cache cannot answer,
// the token is Unauthorized and the fetch error is its cause.
type JWKSVerifier struct {
	url          string
	client       *http.Client
	now          func() time.Time
	ttl          time.Duration
	minInterval  time.Duration
	fetchTimeout time.Duration
	parser       parser

	mu          sync.Mutex
	keys        map[string]publicKey
	fetchedAt   time.Time // of the last successful fetch
	attemptedAt time.Time // of the last fetch started
	lastErr     error     // of the last fetch, nil when it succeeded
	inflight    *fetchCall
}

var _ Verifier = (*JWKSVerifier)(nil)

// fetchCall is one fetch that concurrent requests wait for together.
type fetchCall struct {
	done chan struct{}
	err  error // written before done is closed
}

// keysUnavailableError says the key set could not be fetched; the token
// may be fine, but we cannot tell.
type keysUnavailableError struct{ err error }

func (e *keysUnavailableError) Error() string {
	return "signing keys are unavailable: " + e.err.Error()
}
func (e *keysUnavailableError) Unwrap() error { return e.err }

// errUnknownKey says the token names a key id the key set does not hold.
var errUnknownKey = errors.New("token key id is not in the key set")

// NewJWKSVerifier returns a verifier for the configuration. It does not
// fetch; call Refresh to fail fast at start-up.
func NewJWKSVerifier(cfg JWKSConfig) (*JWKSVerifier, error) {
	if err := checkJWKSURL(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Issuer == "" {
		return nil, licensing.Errorf(licensing.Invalid, "JWKS verifier needs the expected issuer")
	}
	if cfg.Audience == "" {
		return nil, licensing.Errorf(licensing.Invalid, "JWKS verifier needs the expected audience")
	}
	v := &JWKSVerifier{
		url:          cfg.URL,
		client:       cfg.Client,
		now:          cfg.Now,
		ttl:          orDefault(cfg.CacheTTL, DefaultCacheTTL),
		minInterval:  orDefault(cfg.MinRefetchInterval, DefaultMinRefetchInterval),
		fetchTimeout: orDefault(cfg.FetchTimeout, DefaultFetchTimeout),
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: v.fetchTimeout}
	}
	v.client = checkingRedirects(v.client)
	v.parser = newParser([]string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()},
		v.now, cfg.Leeway, jwt.WithIssuer(cfg.Issuer), jwt.WithAudience(cfg.Audience))
	v.parser.maxLifetime = cfg.MaxLifetime
	return v, nil
}

// checkingRedirects returns a copy of c that applies the https rule of
// checkJWKSURL to every redirect too: otherwise an https URL answering
// "302 http://…" would have the keys fetched in clear, where whoever alters
// them can mint tokens. A redirect the rule allows still goes through c's
// own policy.
func checkingRedirects(c *http.Client) *http.Client {
	cp := *c
	own := c.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkJWKSURL(req.URL.String()); err != nil {
			return fmt.Errorf("refusing the JWKS redirect: %w", err)
		}
		if own != nil {
			return own(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// checkJWKSURL refuses plain http off the loopback interface: whoever can
// alter the key set in transit can mint tokens.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return licensing.Errorf(licensing.Invalid, "JWKS URL %q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return licensing.Errorf(licensing.Invalid, "JWKS URL %q must use https", raw)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Verify checks the token's signature against the key set and its claims,
// and returns its principal.
func (v *JWKSVerifier) Verify(ctx context.Context, token string) (licensing.Principal, error) {
	return v.parser.parse(token, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, fmt.Errorf("%w: token header has no kid", errUnknownKey)
		}
		pk, err := v.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		// The parser already limits alg to RS256/ES256; this also keeps an
		// RSA key from verifying an ES256 token and vice versa.
		if pk.alg != t.Method.Alg() {
			return nil, fmt.Errorf("%w: key %q verifies %s, token uses %s",
				jwt.ErrTokenSignatureInvalid, kid, pk.alg, t.Method.Alg())
		}
		return pk.key, nil
	})
}

// Refresh fetches the key set now, regardless of the cache and the refetch
// interval (joining a fetch under way), and returns the fetch error. Use it
// at start-up to find a wrong URL early.
func (v *JWKSVerifier) Refresh(ctx context.Context) error {
	v.mu.Lock()
	f := v.inflight
	if f == nil {
		f = v.startFetch(ctx)
	}
	v.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// key returns the key with the id, fetching the key set when the cache is
// stale or does not know the id and the refetch interval allows.
func (v *JWKSVerifier) key(ctx context.Context, kid string) (publicKey, error) {
	v.mu.Lock()
	now := v.now()
	pk, found := v.keys[kid]
	if found && now.Sub(v.fetchedAt) < v.ttl {
		v.mu.Unlock()
		return pk, nil
	}
	f := v.inflight
	if f == nil && (v.attemptedAt.IsZero() || now.Sub(v.attemptedAt) >= v.minInterval) {
		f = v.startFetch(ctx)
	}
	lastErr := v.lastErr
	v.mu.Unlock()

	if f != nil {
		select {
		case <-f.done:
		case <-ctx.Done():
			return publicKey{}, &keysUnavailableError{ctx.Err()}
		}
		v.mu.Lock()
		pk, found = v.keys[kid]
		v.mu.Unlock()
		lastErr = f.err
	}
	switch {
	case found:
		// Fresh from the fetch, or stale while the refetch failed or is
		// rate-limited: a key we trusted minutes ago is better than none.
		return pk, nil
	case lastErr != nil:
		return publicKey{}, &keysUnavailableError{lastErr}
	}
	return publicKey{}, fmt.Errorf("%w: kid %q", errUnknownKey, kid)
}

// startFetch starts one fetch; v.mu must be held. The fetch does not end
// with the request that started it, since others may be waiting for it, but
// it is bounded by fetchTimeout.
func (v *JWKSVerifier) startFetch(ctx context.Context) *fetchCall {
	f := &fetchCall{done: make(chan struct{})}
	v.inflight = f
	v.attemptedAt = v.now()
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.fetchTimeout)
		defer cancel()
		keys, err := v.fetch(ctx)
		v.mu.Lock()
		if err == nil {
			v.keys, v.fetchedAt = keys, v.now()
		}
		v.lastErr, f.err = err, err
		v.inflight = nil
		v.mu.Unlock()
		close(f.done)
	}()
	return f
}

func (v *JWKSVerifier) fetch(ctx context.Context) (map[string]publicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: fetch %s: status %s", v.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks: read %s: %w", v.url, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("jwks: %s is larger than %d bytes", v.url, maxJWKSBytes)
	}
	return parseJWKS(body)
}
