package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Defaults of Config.
const (
	DefaultURL      = "https://graph.microsoft.com/v1.0"
	DefaultLoginURL = "https://login.microsoftonline.com"
	// Scope asks for the app's consented application permissions.
	Scope = "https://graph.microsoft.com/.default"
)

// Config is what a Client needs; everything is passed in.
type Config struct {
	// URL is Graph's base (LICENSES_GRAPH_URL); LoginURL the identity
	// platform's (LICENSES_GRAPH_LOGIN_URL). Empty means the defaults.
	URL, LoginURL string
	// HTTP carries every call, tokens included; nil means a client with
	// sane transport timeouts.
	HTTP *http.Client
	// MaxAttempts bounds the tries of one call on 429/503/504 (default 4);
	// the caller's context deadline bounds their total time.
	MaxAttempts int
	Logger      *slog.Logger
	// Sleep waits between retries; nil means a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Observe, when set, is told of every Graph call attempt (for
	// metrics): the operation, Graph's status (0 when unreachable), the
	// attempt number and how long it took.
	Observe func(op string, status, attempt int, took time.Duration)
}

// Credentials sign in to one customer tenant as the partner's app.
type Credentials struct {
	TenantID     uuid.UUID
	ClientID     string
	ClientSecret string
}

// Client calls Graph for many tenants, caching one token source per
// tenant and app (tokens are reused until shortly before they expire).
type Client struct {
	cfg    Config
	base   string
	login  string
	http   *http.Client
	mu     sync.Mutex
	tokens map[[32]byte]oauth2.TokenSource
}

// New returns a client.
func New(cfg Config) *Client {
	c := &Client{cfg: cfg, base: strings.TrimRight(cfg.URL, "/"), login: strings.TrimRight(cfg.LoginURL, "/"),
		http: cfg.HTTP, tokens: map[[32]byte]oauth2.TokenSource{}}
	if c.base == "" {
		c.base = DefaultURL
	}
	if c.login == "" {
		c.login = DefaultLoginURL
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.cfg.MaxAttempts <= 0 {
		c.cfg.MaxAttempts = 4
	}
	if c.cfg.Logger == nil {
		c.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if c.cfg.Sleep == nil {
		c.cfg.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return c
}

// Error is a failed Graph or token call. Its text names the operation,
// status and Graph's code, never a secret or a token.
type Error struct {
	Op     string
	Status int
	// Code is Graph's error.code, or the token endpoint's error
	// (invalid_client, unauthorized_client, …); may be empty.
	Code string
	// Message is Graph's message, for operators (it is not localized and
	// may change: never decide on it).
	Message string
	// RequestID is Graph's request-id.
	RequestID string
	// RetryAfter is what Graph asked us to wait (throttling), if anything.
	RetryAfter time.Duration
	// Token is set when the token endpoint refused (consent, secret).
	Token bool
}

func (e *Error) Error() string {
	if e.Token {
		return fmt.Sprintf("graph %s: the token endpoint answered %d %s", e.Op, e.Status, e.Code)
	}
	return fmt.Sprintf("graph %s: %d %s (request-id %s)", e.Op, e.Status, e.Code, e.RequestID)
}

// Transient reports whether the failure is throttling or an outage that
// may pass (429, 503, 504).
func (e *Error) Transient() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout
}

type ctxKey struct{}

// WithClientRequestID makes every call under ctx send id as Graph's
// client-request-id (our correlation id), so that a call can be found on
// both sides.
func WithClientRequestID(ctx context.Context, id uuid.UUID) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

func clientRequestID(ctx context.Context) uuid.UUID {
	if id, ok := ctx.Value(ctxKey{}).(uuid.UUID); ok {
		return id
	}
	return uuid.New()
}

// Tenant is the client signed in to one customer tenant.
type Tenant struct {
	c    *Client
	cred Credentials
}

// Tenant returns the client for the credentials' tenant.
func (c *Client) Tenant(cred Credentials) *Tenant { return &Tenant{c: c, cred: cred} }

func (c *Client) key(cred Credentials) [32]byte {
	return sha256.Sum256([]byte(cred.TenantID.String() + "\x00" + cred.ClientID + "\x00" + cred.ClientSecret))
}

// tokenSource returns the cached source of the credentials, or a new one;
// with fresh, it drops the cached one first (Graph refused its token).
func (c *Client) tokenSource(cred Credentials, fresh bool) oauth2.TokenSource {
	k := c.key(cred)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts, ok := c.tokens[k]; ok && !fresh {
		return ts
	}
	cc := clientcredentials.Config{ClientID: cred.ClientID, ClientSecret: cred.ClientSecret,
		TokenURL: c.login + "/" + cred.TenantID.String() + "/oauth2/v2.0/token", Scopes: []string{Scope},
		AuthStyle: oauth2.AuthStyleInParams}
	// The token calls use our HTTP client, not the context's; the context
	// here only carries it (the source outlives any one request).
	ts := oauth2.ReuseTokenSourceWithExpiry(nil, cc.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, c.http)), time.Minute)
	c.tokens[k] = ts
	return ts
}

// do runs one Graph call: a token, client-request-id, retries of 429/503/504
// honouring Retry-After (jittered, within ctx's deadline), one token
// refresh on 401. It decodes a 2xx body into out (when non-nil).
func (t *Tenant) do(ctx context.Context, op, method, rawURL string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	crid := clientRequestID(ctx)
	refreshed := false
	for attempt := 1; ; attempt++ {
		tok, err := t.c.tokenSource(t.cred, false).Token()
		if err != nil {
			return tokenError(op, err)
		}
		req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("client-request-id", crid.String())
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		start := time.Now()
		res, err := t.c.http.Do(req)
		if t.c.cfg.Observe != nil {
			status := 0
			if err == nil {
				status = res.StatusCode
			}
			t.c.cfg.Observe(op, status, attempt, time.Since(start))
		}
		if err != nil {
			if ctx.Err() != nil {
				return &Error{Op: op, Status: http.StatusGatewayTimeout, Code: "timeout"}
			}
			// A connection failure is an outage of Graph for us.
			return &Error{Op: op, Status: http.StatusServiceUnavailable, Code: "unreachable"}
		}
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 32<<20))
		res.Body.Close()
		rid := res.Header.Get("request-id")
		t.c.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "graph call", slog.String("op", op), slog.Int("status", res.StatusCode),
			slog.String("correlation_id", crid.String()), slog.String("graph_request_id", rid), slog.Int("attempt", attempt),
			slog.String("microsoft_tenant_id", t.cred.TenantID.String()), slog.Duration("took", time.Since(start)))
		if res.StatusCode/100 == 2 {
			if out == nil || len(raw) == 0 {
				return nil
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return &Error{Op: op, Status: http.StatusBadGateway, Code: "malformed_response", RequestID: rid}
			}
			return nil
		}
		e := &Error{Op: op, Status: res.StatusCode, RequestID: rid, RetryAfter: retryAfter(res.Header.Get("Retry-After"))}
		var eb errorBody
		if json.Unmarshal(raw, &eb) == nil {
			e.Code, e.Message = eb.Error.Code, eb.Error.Message
		}
		if res.StatusCode == http.StatusUnauthorized && !refreshed {
			// The cached token may have been revoked or expired early.
			refreshed = true
			t.c.tokenSource(t.cred, true)
			continue
		}
		// A write that timed out at the gateway may have been applied;
		// repeating it is the caller's decision, after reading the state.
		if !e.Transient() || attempt >= t.c.cfg.MaxAttempts || (method != http.MethodGet && e.Status == http.StatusGatewayTimeout) {
			return e
		}
		wait := backoff(attempt, e.RetryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return e // the budget cannot cover the wait Graph asks for
		}
		if err := t.c.cfg.Sleep(ctx, wait); err != nil {
			return e
		}
	}
}

// backoff is Graph's Retry-After when given, else exponential from 500ms,
// each with up to 20% jitter so that retries of many requests spread out.
func backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := retryAfter
	if d <= 0 {
		d = 500 * time.Millisecond << (attempt - 1)
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// retryAfter reads a Retry-After header in seconds (Graph's form) or as
// an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

// tokenError turns a token endpoint failure into an Error without its
// body, which may echo the client id or, for some proxies, more.
func tokenError(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := http.StatusUnauthorized
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return &Error{Op: op, Status: status, Code: re.ErrorCode, Token: true}
	}
	return &Error{Op: op, Status: http.StatusServiceUnavailable, Code: "token_endpoint_unreachable", Token: true}
}

// SubscribedSkus returns the organization's subscriptions.
func (t *Tenant) SubscribedSkus(ctx context.Context) ([]SubscribedSku, error) {
	var p page[SubscribedSku]
	if err := t.do(ctx, "subscribedSkus", http.MethodGet, t.c.base+"/subscribedSkus", nil, &p); err != nil {
		return nil, err
	}
	return p.Value, nil
}

// User returns one user by object id.
func (t *Tenant) User(ctx context.Context, id uuid.UUID) (User, error) {
	var u User
	err := t.do(ctx, "getUser", http.MethodGet, t.c.base+"/users/"+id.String()+"?$select="+UserFields, nil, &u)
	return u, err
}

// Users calls each with every page of the directory's users.
func (t *Tenant) Users(ctx context.Context, each func([]User) error) error {
	next := t.c.base + "/users?$select=" + UserFields + "&$top=999"
	for next != "" {
		var p page[User]
		if err := t.do(ctx, "listUsers", http.MethodGet, next, nil, &p); err != nil {
			return err
		}
		if err := each(p.Value); err != nil {
			return err
		}
		next = p.NextLink
	}
	return nil
}

// Delta calls each with every page of changes since deltaLink (all users
// when empty) and returns the deltaLink for the next pass. An expired
// link is an Error with Expired() true: start over with a full pass.
func (t *Tenant) Delta(ctx context.Context, deltaLink string, each func([]User) error) (string, error) {
	next := deltaLink
	if next == "" {
		next = t.c.base + "/users/delta?$select=" + UserFields
	} else if !t.sameOrigin(next) {
		// A stored link pointing elsewhere would send our token there.
		return "", &Error{Op: "usersDelta", Status: http.StatusGone, Code: CodeSyncStateNotFound}
	}
	for {
		var p page[User]
		if err := t.do(ctx, "usersDelta", http.MethodGet, next, nil, &p); err != nil {
			return "", err
		}
		if err := each(p.Value); err != nil {
			return "", err
		}
		switch {
		case p.NextLink != "" && t.sameOrigin(p.NextLink):
			next = p.NextLink
		case p.DeltaLink != "" && t.sameOrigin(p.DeltaLink):
			return p.DeltaLink, nil
		default:
			return "", &Error{Op: "usersDelta", Status: http.StatusBadGateway, Code: "malformed_response"}
		}
	}
}

// sameOrigin reports whether link is on Graph's host: we follow
// @odata links only there, since each call carries a token.
func (t *Tenant) sameOrigin(link string) bool {
	a, err1 := url.Parse(link)
	b, err2 := url.Parse(t.c.base)
	return err1 == nil && err2 == nil && a.Scheme == b.Scheme && a.Host == b.Host
}

// Expired reports whether a delta link is no longer valid.
func (e *Error) Expired() bool {
	return e.Status == http.StatusGone || strings.EqualFold(e.Code, CodeSyncStateNotFound) || strings.EqualFold(e.Code, CodeResyncRequired)
}

// AssignLicense adds and removes licenses in one call (Graph applies all or
// nothing) and returns the user as Graph holds it afterwards.
func (t *Tenant) AssignLicense(ctx context.Context, userID uuid.UUID, add, remove []uuid.UUID) (User, error) {
	body := AssignLicenseRequest{AddLicenses: []AddLicense{}, RemoveLicenses: []uuid.UUID{}}
	for _, s := range add {
		body.AddLicenses = append(body.AddLicenses, AddLicense{SkuID: s, DisabledPlans: []uuid.UUID{}})
	}
	body.RemoveLicenses = append(body.RemoveLicenses, remove...)
	var u User
	err := t.do(ctx, "assignLicense", http.MethodPost, t.c.base+"/users/"+userID.String()+"/assignLicense", body, &u)
	return u, err
}

// SetUsageLocation sets a user's usage location (needed before any
// assignment).
func (t *Tenant) SetUsageLocation(ctx context.Context, userID uuid.UUID, location string) error {
	return t.do(ctx, "updateUser", http.MethodPatch, t.c.base+"/users/"+userID.String(), map[string]string{"usageLocation": location}, nil)
}
