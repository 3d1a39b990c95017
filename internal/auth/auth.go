// Package auth verifies the bearer tokens of requests and decides whether
// the principal they name may act in a tenant. It turns every failure into a
// licensing.Error: Unauthorized when the token cannot be trusted, Forbidden
// when it can but does not grant access.
package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Verifier checks a raw bearer token and returns the principal it names.
// Every failure is a *licensing.Error with code licensing.Unauthorized whose
// Cause holds the underlying reason for logs.
type Verifier interface {
	Verify(ctx context.Context, token string) (licensing.Principal, error)
}

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat when a
// configuration leaves Leeway at zero: issuers and this server never share a
// perfect clock.
const DefaultLeeway = 30 * time.Second

// maxTokenBytes bounds the work an anonymous caller can make us do; real
// tokens (Entra ID included) are a few kilobytes.
const maxTokenBytes = 16 << 10

// BearerToken extracts the token from an Authorization header value of the
// form "Bearer <token>"; the scheme is matched case-insensitively (RFC 7235).
// A missing header, another scheme or an empty token is Unauthorized.
func BearerToken(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", licensing.Errorf(licensing.Unauthorized, "missing bearer token")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", licensing.Errorf(licensing.Unauthorized, "authorization scheme must be Bearer")
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", licensing.Errorf(licensing.Unauthorized, "missing bearer token")
	}
	if strings.ContainsAny(token, " \t") {
		return "", licensing.Errorf(licensing.Unauthorized, "bearer token is malformed")
	}
	return token, nil
}

// Authorize decides whether an authenticated principal may act in the tenant
// named by the X-Tenant header. It answers Forbidden when the token belongs
// to another tenant (compared case-insensitively), when it holds neither the
// csp nor the reseller role (roles compared case-insensitively), or when its
// only allowed role is reseller and it carries no valid resellerId, since
// such a token could not be limited to one reseller's customers.
func Authorize(p licensing.Principal, xTenant string) error {
	tenant := licensing.NormalizeTenant(p.Tenant)
	if tenant == "" || tenant != licensing.NormalizeTenant(xTenant) {
		return licensing.Errorf(licensing.Forbidden, "token is not valid for this tenant")
	}
	csp, reseller := p.Has(licensing.RoleCSP), p.Has(licensing.RoleReseller)
	switch {
	case !csp && !reseller:
		return licensing.Errorf(licensing.Forbidden, "token grants neither the csp nor the reseller role")
	case !csp && (p.ResellerID == nil || *p.ResellerID == uuid.Nil):
		return licensing.Errorf(licensing.Forbidden, "reseller token lacks a valid resellerId")
	}
	return nil
}

// Claims are the claims of a token minted by SignHS256 or by the authtest
// package, for development and tests. Zero fields are left out of the token;
// in particular a zero ExpiresAt yields a token without exp, which every
// verifier rejects (tests use this to prove it).
type Claims struct {
	Subject    string
	Tenant     string
	Roles      []string
	ResellerID string
	ExpiresAt  time.Time
	NotBefore  time.Time
	IssuedAt   time.Time
	Issuer     string
	Audience   []string
	// Extra claims are set last and override the fields above, so that tests
	// can produce malformed claims (e.g. a numeric resellerId).
	Extra map[string]any
}

// MapClaims returns the claims in their JWT form.
func (c Claims) MapClaims() jwt.MapClaims {
	m := jwt.MapClaims{}
	set := func(name, v string) {
		if v != "" {
			m[name] = v
		}
	}
	setTime := func(name string, t time.Time) {
		if !t.IsZero() {
			m[name] = t.Unix()
		}
	}
	set("sub", c.Subject)
	set("tenant", c.Tenant)
	set("resellerId", c.ResellerID)
	set("iss", c.Issuer)
	if c.Roles != nil {
		m["roles"] = c.Roles
	}
	if len(c.Audience) > 0 {
		m["aud"] = c.Audience
	}
	setTime("exp", c.ExpiresAt)
	setTime("nbf", c.NotBefore)
	setTime("iat", c.IssuedAt)
	for k, v := range c.Extra {
		m[k] = v
	}
	return m
}

// SignHS256 mints an HS256 token that an HS256Verifier with the same secret
// accepts; licensesd demo prints one and end-to-end tests use it. The secret
// must be at least MinSecretBytes long, as for the verifier.
func SignHS256(secret []byte, c Claims) (string, error) {
	if err := checkSecret(secret); err != nil {
		return "", err
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c.MapClaims()).SignedString(secret)
}

// tokenClaims is the wire form of the claims we read. Roles and resellerId
// stay raw: a token whose signature is good but whose grants are malformed
// is authentic, so it yields a principal without those grants and Authorize
// answers Forbidden, rather than failing to decode.
type tokenClaims struct {
	jwt.RegisteredClaims
	Tenant     string          `json:"tenant"`
	Roles      json.RawMessage `json:"roles"`
	ResellerID json.RawMessage `json:"resellerId"`
}

// errNonNumericDate rejects a time claim that is not a JSON number: RFC
// 7519 §2 defines NumericDate as a number, and jwt's decoder would take
// "exp":"1700000000" as well.
var errNonNumericDate = errors.New("a time claim (exp, nbf, iat) is not a JSON number")

// UnmarshalJSON decodes the claims, refusing time claims that are not
// JSON numbers.
func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		v, ok := raw[name]
		if !ok {
			continue
		}
		if v = bytes.TrimSpace(v); len(v) == 0 || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
			return errNonNumericDate
		}
	}
	type plain tokenClaims // without this method, so no recursion
	return json.Unmarshal(b, (*plain)(c))
}

// parser holds what the HS256 and JWKS verifiers share: the jwt parser with
// the configured algorithms and time checks, and the mapping of its results
// to principals and licensing errors.
type parser struct {
	algs []string
	jwt  *jwt.Parser
	now  func() time.Time
	// maxLifetime, when positive, bounds exp − iat (or exp − now).
	maxLifetime time.Duration
	leeway      time.Duration
}

func newParser(algs []string, now func() time.Time, leeway time.Duration, extra ...jwt.ParserOption) parser {
	if now == nil {
		now = time.Now
	}
	switch {
	case leeway == 0:
		leeway = DefaultLeeway
	case leeway < 0:
		leeway = 0
	}
	opts := append([]jwt.ParserOption{
		// The allow-list is what rules out none and algorithm confusion:
		// the key type checks in jwt's signing methods are a second line.
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	}, extra...)
	return parser{algs: algs, jwt: jwt.NewParser(opts...), now: now, leeway: leeway}
}

// errCritical rejects tokens that demand extensions we do not implement, as
// RFC 7515 §4.1.11 requires.
var errCritical = errors.New(`token header has a "crit" parameter`)

// parse verifies the token with the key keyFor returns and maps the result.
func (p parser) parse(token string, keyFor func(*jwt.Token) (any, error)) (licensing.Principal, error) {
	pr, _, err := p.parseWindow(token, keyFor)
	return pr, err
}

// window is when a verified token stays valid: from (inclusive) until
// (exclusive), its nbf or iat and its exp widened by the leeway, exactly
// the checks jwt made. The other checks (signature, claims, the lifetime
// bound, which only gets easier to meet as time passes) do not depend on
// the time, so a verified token holds for its whole window.
type window struct{ from, until time.Time }

func (w window) holds(now time.Time) bool { return !now.Before(w.from) && now.Before(w.until) }

// parseWindow is parse, also returning the verified token's window.
func (p parser) parseWindow(token string, keyFor func(*jwt.Token) (any, error)) (licensing.Principal, window, error) {
	if token == "" {
		return licensing.Principal{}, window{}, licensing.Errorf(licensing.Unauthorized, "missing bearer token")
	}
	if len(token) > maxTokenBytes {
		return licensing.Principal{}, window{}, licensing.Errorf(licensing.Unauthorized, "token is too long")
	}
	var claims tokenClaims
	tok, err := p.jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errCritical
		}
		return keyFor(t)
	})
	if err != nil {
		return licensing.Principal{}, window{}, licensing.Wrap(licensing.Unauthorized, err, "%s", p.message(tok, err))
	}
	if p.maxLifetime > 0 {
		from := p.now()
		if claims.IssuedAt != nil {
			from = claims.IssuedAt.Time
		}
		if claims.ExpiresAt.Sub(from) > p.maxLifetime+p.leeway {
			return licensing.Principal{}, window{}, licensing.Errorf(licensing.Unauthorized,
				"token lifetime exceeds the maximum of %s", p.maxLifetime)
		}
	}
	sub := strings.TrimSpace(claims.Subject)
	if sub == "" {
		return licensing.Principal{}, window{}, licensing.Errorf(licensing.Unauthorized, "token lacks the sub claim")
	}
	tenant := licensing.NormalizeTenant(claims.Tenant)
	if tenant == "" {
		return licensing.Principal{}, window{}, licensing.Errorf(licensing.Unauthorized, "token lacks the tenant claim")
	}
	w := window{until: claims.ExpiresAt.Add(p.leeway)}
	for _, t := range []*jwt.NumericDate{claims.NotBefore, claims.IssuedAt} {
		if t != nil && t.Add(-p.leeway).After(w.from) {
			w.from = t.Add(-p.leeway)
		}
	}
	return licensing.Principal{
		Subject:    sub,
		Tenant:     tenant,
		Roles:      roles(claims.Roles),
		ResellerID: resellerID(claims.ResellerID),
	}, w, nil
}

// message is the short reason a caller may see; it never repeats the token
// or key material, which stay in the cause for logs.
func (p parser) message(tok *jwt.Token, err error) string {
	var unavailable *keysUnavailableError
	switch {
	case errors.As(err, &unavailable):
		return "token cannot be verified: signing keys are unavailable"
	case errors.Is(err, errUnknownKey):
		return "token is signed by an unknown key"
	case errors.Is(err, errCritical):
		return "token requires unsupported extensions"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token is malformed"
	case tok != nil && !p.allows(tok):
		return "token signing algorithm is not accepted"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "token signature is invalid"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token lacks a required claim"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token is issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token issuer is not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token audience is not accepted"
	}
	return "token is invalid"
}

// allows reports whether the token's alg header names an accepted algorithm.
func (p parser) allows(tok *jwt.Token) bool {
	alg, _ := tok.Header["alg"].(string)
	for _, a := range p.algs {
		if a == alg {
			return true
		}
	}
	return false
}

// roles accepts an array of strings (or, leniently, one string) and returns
// them normalized (licensing.NormalizeRole: trimmed, ASCII lower case only,
// so that "CSP" is csp but "cſp" with U+017F is no role). Anything else
// grants no role.
func roles(raw json.RawMessage) []licensing.Role {
	var list []any
	if err := json.Unmarshal(raw, &list); err != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return nil
		}
		list = []any{one}
	}
	var out []licensing.Role
	for _, v := range list {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			out = append(out, licensing.NormalizeRole(s))
		}
	}
	return out
}

// resellerID returns the claim as a uuid, or nil when it is absent, not a
// string, not a uuid or the nil uuid: Authorize then refuses a reseller-only
// token instead of anything panicking or widening its scope.
func resellerID(raw json.RawMessage) *uuid.UUID {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil || id == uuid.Nil {
		return nil
	}
	return &id
}
