// Package daemon is the whole licensesd program as a value: it opens the
// store named by a database URL, builds the token verifier and the HTTP
// API, and serves until shut down. cmd/licensesd parses flags into a Config
// and calls it; the end-to-end tests start it the same way.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/netutil"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/graph"
	"github.com/cloudcockpit-oss/userlicenses/internal/graphdir"
	"github.com/cloudcockpit-oss/userlicenses/internal/httpapi"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/metrics"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres"
	"github.com/cloudcockpit-oss/userlicenses/internal/sqlite"
	"github.com/cloudcockpit-oss/userlicenses/internal/webui"
)

// Config is everything licensesd can be told.
type Config struct {
	// Addr is the listen address; port 0 picks a free port (tests).
	Addr string
	// DatabaseURL is sqlite:PATH, file:PATH[?…] or postgres://….
	DatabaseURL string
	// JWTSecret enables HS256 tokens (at least 32 bytes).
	JWTSecret string
	// JWKSURL, JWTIssuer and JWTAudience enable RS256/ES256 tokens.
	JWKSURL, JWTIssuer, JWTAudience string
	// ShutdownTimeout bounds how long in-flight requests may finish.
	ShutdownTimeout time.Duration
	// Limits bounds what one client can hold of the server.
	Limits Limits
	// JWTMaxLifetime refuses tokens whose exp lies further than this after
	// their iat (or, without iat, after now); zero means DefaultJWTMaxLifetime.
	JWTMaxLifetime time.Duration
	// Graph configures how graph provider instances reach Microsoft Graph.
	Graph GraphConfig
	// Postgres tunes the PostgreSQL store (URL is taken from DatabaseURL).
	Postgres postgres.Config
	// SkipMigrations leaves the schema alone at start (PostgreSQL only;
	// the embedded store always migrates itself).
	SkipMigrations bool
	Logger         *slog.Logger
	// PprofAddr, when set, serves net/http/pprof on that loopback address
	// (off by default; never on the public port).
	PprofAddr string
	// MetricsAddr, when set, serves Prometheus metrics at /metrics on that
	// address (off by default; never on the API's own port).
	MetricsAddr string
	// Demo, when set, pre-fills the editor's sign-in form (licensesd demo).
	Demo *webui.Demo
	// Now is the clock of the whole program; nil means time.Now.
	Now func() time.Time
}

// GraphConfig is how licensesd reaches Microsoft Graph for provider
// instances whose seats live there. Zero values take the defaults.
type GraphConfig struct {
	// URL is Graph's base (LICENSES_GRAPH_URL, default graph.DefaultURL);
	// LoginURL the identity platform's (LICENSES_GRAPH_LOGIN_URL, default
	// graph.DefaultLoginURL): national clouds and tests point elsewhere.
	URL, LoginURL string
	// Timeout is the budget of one request's Graph calls, retries
	// included (LICENSES_GRAPH_TIMEOUT, default 20s).
	Timeout time.Duration
	// SyncInterval is how often serve mirrors every linked customer
	// (LICENSES_GRAPH_SYNC_INTERVAL, default 15m); negative turns it off.
	SyncInterval time.Duration
	// HTTP carries Graph calls (tests: the in-process fake); nil means a
	// default client.
	HTTP *http.Client
	// Secret reads a graph app's secret; nil reads its environment
	// variable or file.
	Secret func(licensing.GraphApp) (string, error)
	// Observe, when set, is told of every Graph call attempt (metrics;
	// serve sets it when LICENSES_METRICS_ADDR is).
	Observe func(op string, status, attempt int, took time.Duration)
}

// DefaultGraphSyncInterval is how often serve syncs by default.
const DefaultGraphSyncInterval = 15 * time.Minute

// Limits are the bounds on connections, requests and time that keep a slow
// or hostile client from pinning the server's memory or its database.
// Zero values take the defaults of DefaultLimits.
type Limits struct {
	// ReadTimeout bounds reading a whole request, body included (a body
	// slower than this is answered 408).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response: a client that does not read
	// is dropped instead of pinning the connection and its buffers.
	WriteTimeout time.Duration
	// MaxConnections caps the open connections; more wait in the kernel's
	// accept queue.
	MaxConnections int
	// MaxInFlight caps the requests served at once; beyond it, 503 with
	// Retry-After at once.
	MaxInFlight int
	// RequestTimeout bounds each request's work, database included (503).
	RequestTimeout time.Duration
	// MaxHeaderBytes caps the request line and headers.
	MaxHeaderBytes int
}

// DefaultLimits are the limits a zero Limits field means.
var DefaultLimits = Limits{
	ReadTimeout:    30 * time.Second,
	WriteTimeout:   60 * time.Second,
	MaxConnections: 1024,
	MaxInFlight:    256,
	RequestTimeout: 25 * time.Second, // above the Graph budget (20s), so that its retries can run out first
	MaxHeaderBytes: 64 << 10,
}

// withDefaults fills the zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.ReadTimeout > 0 {
		d.ReadTimeout = l.ReadTimeout
	}
	if l.WriteTimeout > 0 {
		d.WriteTimeout = l.WriteTimeout
	}
	if l.MaxConnections > 0 {
		d.MaxConnections = l.MaxConnections
	}
	if l.MaxInFlight > 0 {
		d.MaxInFlight = l.MaxInFlight
	}
	if l.RequestTimeout > 0 {
		d.RequestTimeout = l.RequestTimeout
	}
	if l.MaxHeaderBytes > 0 {
		d.MaxHeaderBytes = l.MaxHeaderBytes
	}
	return d
}

// DefaultJWTMaxLifetime is the longest token lifetime accepted by default:
// a day, so that a leaked token does not stay good for months.
const DefaultJWTMaxLifetime = 24 * time.Hour

// OpenStore opens the store the database URL names and applies its
// migrations (unless cfg.SkipMigrations, for PostgreSQL).
//
// Schemes compare case-insensitively (RFC 3986). No error quotes the URL:
// it may carry a password.
func OpenStore(ctx context.Context, cfg Config) (licensing.Store, error) {
	u := cfg.DatabaseURL
	scheme, rest, ok := strings.Cut(u, ":")
	if !ok {
		scheme = ""
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		pc := cfg.Postgres
		pc.URL, pc.Now, pc.SkipMigrations = strings.ToLower(scheme)+":"+rest, cfg.Now, cfg.SkipMigrations
		return postgres.Open(ctx, pc)
	case "sqlite":
		return sqlite.Open(ctx, sqlite.Config{Path: rest, Now: cfg.Now})
	case "file":
		return sqlite.Open(ctx, sqlite.Config{Path: "file:" + rest, Now: cfg.Now})
	case "":
		return nil, errors.New("the database URL has no scheme: use sqlite:PATH, file:PATH or postgres://…")
	default:
		return nil, fmt.Errorf("the database URL's scheme %q is not supported: use sqlite:PATH, file:PATH or postgres://…", safeScheme(scheme, rest))
	}
}

// safeScheme is a scheme fit to print: a mistyped URL may have no scheme,
// and then what precedes the first colon is a user name (user:password@host).
// Only a scheme followed by "//" is surely a scheme.
func safeScheme(s, rest string) string {
	if len(s) > 16 || strings.ContainsAny(s, "@/") || !strings.HasPrefix(rest, "//") {
		return "…"
	}
	return s
}

// Verifier builds the token verifier the configuration asks for. With
// neither a secret nor a JWKS URL there is no safe default, so it refuses.
func Verifier(cfg Config) (httpapi.Verifier, error) {
	switch {
	case cfg.JWTSecret != "" && cfg.JWKSURL != "":
		return nil, errors.New("set either LICENSES_JWT_SECRET or LICENSES_JWKS_URL, not both")
	case cfg.JWTSecret != "":
		return auth.NewHS256Verifier(auth.HS256Config{Secret: []byte(cfg.JWTSecret), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
			MaxLifetime: maxLifetime(cfg), Now: cfg.Now})
	case cfg.JWKSURL != "":
		if cfg.JWTIssuer == "" || cfg.JWTAudience == "" {
			return nil, errors.New("LICENSES_JWKS_URL needs LICENSES_JWT_ISSUER and LICENSES_JWT_AUDIENCE")
		}
		return auth.NewJWKSVerifier(auth.JWKSConfig{URL: cfg.JWKSURL, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
			MaxLifetime: maxLifetime(cfg), Now: cfg.Now})
	default:
		return nil, errors.New("no token verification configured: set LICENSES_JWT_SECRET (HS256, at least 32 bytes) " +
			"or LICENSES_JWKS_URL with LICENSES_JWT_ISSUER and LICENSES_JWT_AUDIENCE")
	}
}

func maxLifetime(cfg Config) time.Duration {
	if cfg.JWTMaxLifetime > 0 {
		return cfg.JWTMaxLifetime
	}
	return DefaultJWTMaxLifetime
}

// Main is a running licensesd.
type Main struct {
	Store    licensing.Store
	echo     *echo.Echo
	listener net.Listener
	served   chan error
	timeout  time.Duration
	log      *slog.Logger
	// side are the pprof and metrics servers, when enabled.
	side []*sideServer
	// MetricsURL is where /metrics is served, when enabled.
	MetricsURL string
	// stopSync ends the Graph sync loop; syncDone closes when it has.
	stopSync func()
	syncDone chan struct{}
}

// syncLocker is a store that lets one replica at a time sync (PostgreSQL:
// an advisory lock); a store without it syncs in every process.
type syncLocker interface {
	TrySyncLock(ctx context.Context) (unlock func(), ok bool, err error)
}

// syncLoop mirrors the linked customers at start and then every interval,
// on one replica at a time. A pass that fails is logged and retried at the
// next tick.
func (m *Main) syncLoop(ctx context.Context, store licensing.Store, dir *graphdir.Directory, interval time.Duration) {
	defer close(m.syncDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		links, err := store.GraphLinks(ctx)
		if err == nil && len(links) > 0 {
			m.syncOnce(ctx, store, dir)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Main) syncOnce(ctx context.Context, store licensing.Store, dir *graphdir.Directory) {
	if l, ok := store.(syncLocker); ok {
		unlock, got, err := l.TrySyncLock(ctx)
		if err != nil || !got {
			if err != nil {
				m.log.Warn("graph sync: taking the sync lock failed", slog.String("error", err.Error()))
			}
			return // another replica is syncing
		}
		defer unlock()
	}
	res, err := dir.Sync(ctx)
	if err == nil {
		err = res.Err()
	}
	if err != nil && ctx.Err() == nil {
		m.log.Warn("graph sync pass failed", slog.String("error", err.Error()))
		return
	}
	m.log.Info("graph sync pass done", slog.Int("customers", res.Customers), slog.Int("users_seen", res.Users))
}

func (m *Main) closeSide() {
	for _, s := range m.side {
		s.close()
	}
}

// Start opens the store, builds the API and starts serving on cfg.Addr.
// The store is closed again when anything fails.
func Start(ctx context.Context, cfg Config) (*Main, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	verifier, err := Verifier(cfg)
	if err != nil {
		return nil, err
	}
	if jwks, ok := verifier.(*auth.JWKSVerifier); ok {
		// Fetch the keys now so that a wrong URL shows at start; an
		// identity provider that is briefly down must not keep the
		// service from starting, so this only warns (tokens will be 401
		// until the keys can be fetched).
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := jwks.Refresh(rctx); err != nil {
			cfg.Logger.Warn("fetching the JWKS keys failed; retrying on demand", slog.String("error", err.Error()))
		}
		cancel()
	}
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	m, err := serve(store, verifier, cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	return m, nil
}

// GraphDirectory builds the directory of graph provider instances over
// the store.
func GraphDirectory(store licensing.Store, cfg Config) *graphdir.Directory {
	return graphdir.New(graphdir.Config{
		Graph: graph.New(graph.Config{URL: cfg.Graph.URL, LoginURL: cfg.Graph.LoginURL, HTTP: cfg.Graph.HTTP, Logger: cfg.Logger,
			Observe: cfg.Graph.Observe}),
		Mirror:  store,
		Timeout: cfg.Graph.Timeout,
		Secret:  cfg.Graph.Secret,
		Now:     cfg.Now,
		Logger:  cfg.Logger,
	})
}

// Sync runs one Graph sync pass over every linked customer.
func Sync(ctx context.Context, cfg Config) (graphdir.Result, error) {
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return graphdir.Result{}, err
	}
	defer store.Close()
	return GraphDirectory(store, cfg).Sync(ctx)
}

func serve(store licensing.Store, verifier httpapi.Verifier, cfg Config) (*Main, error) {
	limits := cfg.Limits.withDefaults()
	var observer httpapi.Observer
	var mx *metrics.Metrics
	if cfg.MetricsAddr != "" {
		mx = instrument(store)
		observer = mx
		cfg.Graph.Observe = mx.GraphObserver()
	}
	dir := GraphDirectory(store, cfg)
	e, err := httpapi.New(httpapi.Config{
		Service: &licensing.Service{Store: store, Graph: dir, Logger: cfg.Logger}, Verifier: verifier, Ready: store.Ready,
		Logger: cfg.Logger, Now: cfg.Now, MaxInFlight: limits.MaxInFlight, RequestTimeout: limits.RequestTimeout,
		Observer: observer,
	})
	if err != nil {
		return nil, err
	}
	if err := mountWeb(e, cfg); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	ln = netutil.LimitListener(ln, limits.MaxConnections)
	e.Server.ReadHeaderTimeout = min(10*time.Second, limits.ReadTimeout)
	e.Server.ReadTimeout = limits.ReadTimeout
	e.Server.WriteTimeout = limits.WriteTimeout
	e.Server.IdleTimeout = 120 * time.Second
	e.Server.MaxHeaderBytes = limits.MaxHeaderBytes
	m := &Main{Store: store, echo: e, listener: ln, served: make(chan error, 1), timeout: cfg.ShutdownTimeout, log: cfg.Logger}
	if cfg.PprofAddr != "" {
		pln, err := loopbackListener(cfg.PprofAddr, "pprof")
		if err != nil {
			ln.Close()
			return nil, err
		}
		m.side = append(m.side, startSide(pln, pprofMux()))
		cfg.Logger.Info("serving pprof", slog.String("addr", pln.Addr().String()))
	}
	if mx != nil {
		mln, err := metricsListener(cfg.MetricsAddr, ln.Addr())
		if err != nil {
			m.closeSide()
			ln.Close()
			return nil, err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", mx.Handler())
		m.side = append(m.side, startSide(mln, mux))
		m.MetricsURL = "http://" + mln.Addr().String() + "/metrics"
		cfg.Logger.Info("serving metrics", slog.String("addr", mln.Addr().String()))
	}
	interval := cfg.Graph.SyncInterval
	if interval == 0 {
		interval = DefaultGraphSyncInterval
	}
	if interval > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		m.stopSync = cancel
		m.syncDone = make(chan struct{})
		go m.syncLoop(ctx, store, dir, interval)
	}
	go func() {
		err := e.Server.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		m.served <- err
	}()
	cfg.Logger.Info("serving", slog.String("addr", ln.Addr().String()))
	return m, nil
}

// URL is the base URL the server answers on.
func (m *Main) URL() string { return "http://" + m.listener.Addr().String() }

// Done delivers the serving error (nil after a clean shutdown) once.
func (m *Main) Done() <-chan error { return m.served }

// Shutdown stops accepting, lets in-flight requests finish within the
// shutdown timeout, then closes the store.
func (m *Main) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	err := m.echo.Shutdown(ctx)
	m.closeSide()
	if m.stopSync != nil {
		m.stopSync()
		<-m.syncDone
	}
	if cerr := m.Store.Close(); err == nil {
		err = cerr
	}
	return err
}

// Seed validates a snapshot and imports it into the store the database URL
// names, whole or not at all.
func Seed(ctx context.Context, cfg Config, s licensing.Snapshot) error {
	if err := s.Validate(); err != nil {
		return err
	}
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Import(ctx, s)
}

// Migrate applies the pending migrations of the store the URL names; that
// is what opening a store does, so it opens and closes it.
func Migrate(ctx context.Context, cfg Config) error {
	cfg.SkipMigrations = false
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	return store.Close()
}
