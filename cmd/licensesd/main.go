// Command licensesd serves the customer user licenses API. It only parses
// flags (each with an environment fallback) and wires internal/daemon.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
	"github.com/cloudcockpit-oss/userlicenses/internal/graph"
	"github.com/cloudcockpit-oss/userlicenses/internal/graphdir"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/webui"
)

const usage = `licensesd serves the CloudCockpit "update a customer user's licenses" API.

Usage:
  licensesd serve [flags]        serve the API
  licensesd seed [flags] FILE    import a directory snapshot (JSON), idempotently
  licensesd migrate [flags]      apply the schema migrations and exit
  licensesd sync [flags]         mirror every customer linked to a Microsoft Graph instance once, and exit
                                 (0 when every customer synced; 1 naming those that failed)
  licensesd demo [flags]         serve a fresh database with demo data; prints a token and a curl example
                                 (--graph-sandbox: one more customer behind an in-process fake Microsoft Graph)

Every flag falls back to the environment variable named in its description.
Run "licensesd COMMAND --help" for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("licensesd "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, logLevel := flags(fs, cmd)
	sandbox := false
	if cmd == "demo" {
		fs.BoolVar(&sandbox, "graph-sandbox", false, "add a customer whose licenses live behind an in-process fake Microsoft Graph")
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, *cfg, nil)
	case "seed":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "licensesd seed: exactly one FILE is required")
			return 2
		}
		err = seed(ctx, *cfg, fs.Arg(0), stdout)
	case "migrate":
		err = daemon.Migrate(ctx, *cfg)
	case "sync":
		err = runSync(ctx, *cfg, stdout)
	case "demo":
		err = runDemo(ctx, *cfg, sandbox, stdout)
	default:
		fmt.Fprintf(stderr, "licensesd: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "licensesd %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// flags declares the flags of a command; their defaults come from the
// environment so that containers and CI can configure by variables.
func flags(fs *flag.FlagSet, cmd string) (*daemon.Config, *slog.LevelVar) {
	cfg := &daemon.Config{}
	dbDefault := "sqlite:licenses.db"
	if cmd == "demo" {
		dbDefault = "" // a fresh temporary database unless one is named
	}
	str := func(p *string, name, env, def, help string) {
		fs.StringVar(p, name, envOr(env, def), help+" ($"+env+")")
	}
	dur := func(p *time.Duration, name, env string, def time.Duration, help string) {
		d := def
		if v, err := time.ParseDuration(os.Getenv(env)); err == nil {
			d = v
		}
		fs.DurationVar(p, name, d, help+" ($"+env+")")
	}
	str(&cfg.Addr, "addr", "LICENSES_ADDR", "127.0.0.1:8080", "listen address")
	str(&cfg.DatabaseURL, "database", "LICENSES_DATABASE_URL", dbDefault,
		"database: sqlite:PATH or file:PATH (embedded), or postgres://USER@HOST:PORT/DB")
	str(&cfg.JWTSecret, "jwt-secret", "LICENSES_JWT_SECRET", "", "HS256 key, the raw bytes of the value, at least 32 (development and tests)")
	str(&cfg.JWKSURL, "jwks-url", "LICENSES_JWKS_URL", "", "JWKS URL for RS256/ES256 tokens (e.g. Entra ID's discovery/v2.0/keys)")
	str(&cfg.JWTIssuer, "jwt-issuer", "LICENSES_JWT_ISSUER", "", "required iss of tokens (required with a JWKS URL; enforced for HS256 when set)")
	str(&cfg.JWTAudience, "jwt-audience", "LICENSES_JWT_AUDIENCE", "", "required aud of tokens (required with a JWKS URL; enforced for HS256 when set)")
	dur(&cfg.ShutdownTimeout, "shutdown-timeout", "LICENSES_SHUTDOWN_TIMEOUT", 15*time.Second, "how long in-flight requests may finish after SIGTERM")
	d := daemon.DefaultLimits
	dur(&cfg.Limits.ReadTimeout, "read-timeout", "LICENSES_READ_TIMEOUT", d.ReadTimeout, "how long reading a request, body included, may take (then 408)")
	dur(&cfg.Limits.WriteTimeout, "write-timeout", "LICENSES_WRITE_TIMEOUT", d.WriteTimeout, "how long writing a response may take (a client that does not read is dropped)")
	dur(&cfg.Limits.RequestTimeout, "request-timeout", "LICENSES_REQUEST_TIMEOUT", d.RequestTimeout, "how long one request's work, database included, may take (then 503)")
	intVar := func(p *int, name, env string, def int, help string) {
		v := def
		if n, err := strconv.Atoi(os.Getenv(env)); err == nil {
			v = n
		}
		fs.IntVar(p, name, v, help+" ($"+env+")")
	}
	intVar(&cfg.Limits.MaxConnections, "max-connections", "LICENSES_MAX_CONNECTIONS", d.MaxConnections, "open connections at most")
	intVar(&cfg.Limits.MaxInFlight, "max-in-flight", "LICENSES_MAX_IN_FLIGHT", d.MaxInFlight, "requests served at once at most (beyond: 503 with Retry-After)")
	dur(&cfg.JWTMaxLifetime, "jwt-max-lifetime", "LICENSES_JWT_MAX_LIFETIME", daemon.DefaultJWTMaxLifetime, "the longest token lifetime (exp - iat) accepted")
	maxConns := int64(0)
	if v, err := strconv.ParseInt(os.Getenv("LICENSES_PG_MAX_CONNS"), 10, 32); err == nil {
		maxConns = v
	}
	fs.Func("pg-max-conns", fmt.Sprintf("PostgreSQL pool size; 0 = max(4, CPUs) (default %d) ($LICENSES_PG_MAX_CONNS)", maxConns), func(s string) error {
		v, err := strconv.ParseInt(s, 10, 32)
		maxConns = v
		return err
	})
	dur(&cfg.Postgres.ConnectTimeout, "pg-connect-timeout", "LICENSES_PG_CONNECT_TIMEOUT", 5*time.Second, "PostgreSQL connect timeout")
	dur(&cfg.Postgres.StatementTimeout, "pg-statement-timeout", "LICENSES_PG_STATEMENT_TIMEOUT", 30*time.Second, "PostgreSQL statement_timeout")
	str(&cfg.Graph.URL, "graph-url", "LICENSES_GRAPH_URL", graph.DefaultURL, "Microsoft Graph's base URL (national clouds: their own)")
	str(&cfg.Graph.LoginURL, "graph-login-url", "LICENSES_GRAPH_LOGIN_URL", graph.DefaultLoginURL, "the identity platform's base URL; tokens come from {URL}/{tenant}/oauth2/v2.0/token")
	dur(&cfg.Graph.Timeout, "graph-timeout", "LICENSES_GRAPH_TIMEOUT", graphdir.DefaultTimeout, "the budget of one request's Graph calls, retries included")
	// 0 means off here; in daemon.Config a zero interval is the default
	// and off is negative.
	syncDefault := daemon.DefaultGraphSyncInterval
	if v, err := time.ParseDuration(os.Getenv("LICENSES_GRAPH_SYNC_INTERVAL")); err == nil {
		syncDefault = v
	}
	setSync := func(d time.Duration) {
		if d == 0 {
			d = -1
		}
		cfg.Graph.SyncInterval = d
	}
	setSync(syncDefault)
	fs.Func("graph-sync-interval", fmt.Sprintf("how often serve mirrors the customers linked to Graph instances; 0 = off (default %s) ($LICENSES_GRAPH_SYNC_INTERVAL)", syncDefault),
		func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			setSync(d)
			return nil
		})
	skip, _ := strconv.ParseBool(os.Getenv("LICENSES_SKIP_MIGRATIONS"))
	fs.BoolVar(&cfg.SkipMigrations, "skip-migrations", skip, "do not apply PostgreSQL migrations at start (run `licensesd migrate` instead) ($LICENSES_SKIP_MIGRATIONS)")
	level := new(slog.LevelVar)
	fs.Func("log-level", "debug, info, warn or error (default info) ($LICENSES_LOG_LEVEL)", func(s string) error { return level.UnmarshalText([]byte(s)) })
	if v := os.Getenv("LICENSES_LOG_LEVEL"); v != "" {
		_ = level.UnmarshalText([]byte(v))
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of licensesd %s:\n", cmd)
		fs.PrintDefaults()
	}
	cfg.Postgres.MaxConns = int32(maxConns)
	return cfg, level
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// serve runs until ctx is done (SIGINT/SIGTERM), then shuts down
// gracefully. started, when not nil, is called once the server listens.
func serve(ctx context.Context, cfg daemon.Config, started func(*daemon.Main)) error {
	m, err := daemon.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if started != nil {
		started(m)
	}
	select {
	case err := <-m.Done():
		m.Store.Close()
		return err
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down")
	if err := m.Shutdown(context.Background()); err != nil {
		return err
	}
	return <-m.Done()
}

func seed(ctx context.Context, cfg daemon.Config, path string, stdout io.Writer) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var s licensing.Snapshot
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("%s is not a valid snapshot: %w", path, err)
	}
	if err := daemon.Seed(ctx, cfg, s); err != nil {
		return fmt.Errorf("%s rejected: %w", path, err)
	}
	fmt.Fprintf(stdout, "imported %s\n", path) // never echo the URL: it may hold a password
	return nil
}

// runSync runs one Graph sync pass and says how it went.
func runSync(ctx context.Context, cfg daemon.Config, stdout io.Writer) error {
	res, err := daemon.Sync(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "synced %d of %d customers (%d users seen)\n", res.Customers-len(res.Failed), res.Customers, res.Users)
	return res.Err()
}

// runDemo serves a freshly seeded database and prints how to call it.
func runDemo(ctx context.Context, cfg daemon.Config, sandbox bool, stdout io.Writer) error {
	if cfg.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "licensesd-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DatabaseURL = "sqlite:" + filepath.Join(dir, "demo.db")
	}
	if cfg.JWTSecret == "" && cfg.JWKSURL == "" {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		cfg.JWTSecret = hex.EncodeToString(key)
	}
	s, err := demo.Snapshot()
	if err != nil {
		return err
	}
	var box *demo.Sandbox
	if sandbox {
		box = demo.StartSandbox(&s)
		defer box.Close()
		cfg.Graph.URL, cfg.Graph.LoginURL, cfg.Graph.Secret = box.GraphURL(), box.LoginURL(), box.Secret
	}
	if err := daemon.Seed(ctx, cfg, s); err != nil {
		return err
	}
	if box != nil {
		res, err := daemon.Sync(ctx, cfg)
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			return fmt.Errorf("syncing the Graph sandbox: %w", err)
		}
	}
	csp, reseller := demoTokens(cfg.JWTSecret)
	if cfg.JWTSecret != "" {
		// The editor at /ui/ pre-fills these (only with our own HS256 key:
		// with a JWKS there are no demo tokens to give).
		cfg.Demo = &webui.Demo{Tenant: demo.Tenant, Token: csp, ResellerToken: reseller}
	}
	return serve(ctx, cfg, func(m *daemon.Main) {
		printDemo(stdout, m.URL(), csp, reseller)
		if box != nil {
			printSandbox(stdout, m.URL(), box)
		}
	})
}

func demoTokens(secret string) (csp, reseller string) {
	exp := time.Now().Add(24 * time.Hour)
	csp, _ = auth.SignHS256([]byte(secret), auth.Claims{Subject: "demo-csp", Tenant: demo.Tenant, Roles: []string{"csp"}, ExpiresAt: exp})
	reseller, _ = auth.SignHS256([]byte(secret), auth.Claims{Subject: "demo-reseller", Tenant: demo.Tenant,
		Roles: []string{"reseller"}, ResellerID: demo.AdatumResellerID, ExpiresAt: exp})
	return csp, reseller
}

func printDemo(w io.Writer, url, csp, reseller string) {
	fmt.Fprintf(w, `licensesd demo is serving %[1]s with demo data (tenant %[2]s).

In a browser: the license editor %[1]s/ui/ (signed in with the csp token below at one click)
and the API reference %[1]s/docs (spec: %[1]s/openapi.yaml).

A csp token (valid 24h):
TOKEN=%[3]s

A reseller token for Adatum Reseller (sees Northwind Traders only):
RESELLER_TOKEN=%[4]s

The check boxes of Ada Lovelace's licenses:
curl -s -H "X-Tenant: %[2]s" -H "Authorization: Bearer $TOKEN" \
  '%[1]s/v1/Customers/%[5]s/users/%[6]s/licenses?providerInstanceId=%[7]s'

Give her Microsoft 365 E3:
curl -i -X PATCH -H "X-Tenant: %[2]s" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
  -d '{"providerInstanceId":"%[7]s","customerUserLicenses":[{"skuId":"%[8]s","isSelected":true}]}' \
  '%[1]s/v1/Customers/%[5]s/users/%[6]s/licenses'

Try Exchange Online (Plan 1), which has no seat left (400), then read the audit trail:
curl -s -H "X-Tenant: %[2]s" -H "Authorization: Bearer $TOKEN" '%[1]s/v1/AuditLogs'

Stop with Ctrl-C.
`, url, demo.Tenant, csp, reseller, demo.FabrikamID, demo.AdaID, demo.MicrosoftInstanceID, demo.E3SKU)
}

func printSandbox(w io.Writer, url string, box *demo.Sandbox) {
	fmt.Fprintf(w, `
Graph sandbox: customer %[2]s is linked to a fake Microsoft 365 tenant served in-process at %[3]s
(provider instance %[4]s, directory "graph"). Its users and licenses come from that Graph:

curl -s -H "X-Tenant: %[5]s" -H "Authorization: Bearer $TOKEN" \
  '%[1]s/v1/Customers/%[2]s/users?providerInstanceId=%[4]s'

Give Megan Bowen Power BI Pro (one assignLicense call to Graph, audited Processing then Succeded):
curl -i -X PATCH -H "X-Tenant: %[5]s" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
  -d '{"providerInstanceId":"%[4]s","customerUserLicenses":[{"skuId":"%[6]s","isSelected":true}]}' \
  '%[1]s/v1/Customers/%[2]s/users/%[7]s/licenses'

Nolan Location (%[8]s) has no usage location: assigning him a license is a 400 saying how to fix it.
`, url, demo.SandboxCustomerID, box.GraphURL(), demo.SandboxInstanceID, demo.Tenant, demo.SandboxPBISKU, demo.SandboxUserID, demo.SandboxNoLocationUserID)
}
