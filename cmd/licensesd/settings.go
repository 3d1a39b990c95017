package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/graph"
	"github.com/cloudcockpit-oss/userlicenses/internal/graphdir"
)

// The commands a setting belongs to.
const (
	cmdServe   = "serve"
	cmdDemo    = "demo"
	cmdSeed    = "seed"
	cmdMigrate = "migrate"
	cmdSync    = "sync"
)

var (
	serving  = []string{cmdServe, cmdDemo}
	database = []string{cmdServe, cmdDemo, cmdSeed, cmdMigrate, cmdSync}
	graphing = []string{cmdServe, cmdDemo, cmdSync}
)

// setting is one configuration value: a flag, the environment variable it
// falls back to, the commands that take it, and how it binds into the
// configuration. A value from the environment is parsed and checked by the
// flag's own parser, so a bad value exits 2 naming it, from either place.
type setting struct {
	flag, env string
	cmds      []string
	usage     string
	// bind declares the flag on fs, writing into the configuration.
	bind func(fs *pflag.FlagSet, name, usage string)
	// check, when set, refuses a parsed value that its type accepts.
	check func() error
}

// settings is the whole configuration of licensesd, in the order --help
// lists it. To add one: a line here and a field in daemon.Config. Usage
// texts must not contain backquotes: pflag would take the quoted word for
// the value's name and garble the help.
func settings(cfg *daemon.Config, level *slog.LevelVar) []setting {
	d := daemon.DefaultLimits
	var syncEvery time.Duration
	str := func(p *string, def string) func(*pflag.FlagSet, string, string) {
		return func(fs *pflag.FlagSet, n, u string) { fs.StringVar(p, n, def, u) }
	}
	dur := func(p *time.Duration, def time.Duration) func(*pflag.FlagSet, string, string) {
		return func(fs *pflag.FlagSet, n, u string) { fs.DurationVar(p, n, def, u) }
	}
	num := func(p *int, def int) func(*pflag.FlagSet, string, string) {
		return func(fs *pflag.FlagSet, n, u string) { fs.IntVar(p, n, def, u) }
	}
	notNegative := func(name string, p *time.Duration) func() error {
		return func() error {
			if *p < 0 {
				return fmt.Errorf("--%s %s: must not be negative", name, *p)
			}
			return nil
		}
	}
	positive := func(name string, p *int) func() error {
		return func() error {
			if *p < 1 {
				return fmt.Errorf("--%s %d: must be at least 1", name, *p)
			}
			return nil
		}
	}
	return []setting{
		{flag: "addr", env: "LICENSES_ADDR", cmds: serving, usage: "listen address (host:port; port 0 picks a free one)",
			bind: str(&cfg.Addr, "127.0.0.1:8080")},
		{flag: "database", env: "LICENSES_DATABASE_URL", cmds: database,
			usage: "database: sqlite:PATH or file:PATH (embedded), or postgres://USER@HOST:PORT/DB",
			bind:  str(&cfg.DatabaseURL, "sqlite:licenses.db")},
		{flag: "jwt-secret", env: "LICENSES_JWT_SECRET", cmds: serving,
			usage: "HS256 key, the raw bytes of the value, at least 32 (development and tests)",
			bind:  str(&cfg.JWTSecret, "")},
		{flag: "jwks-url", env: "LICENSES_JWKS_URL", cmds: []string{cmdServe}, usage: "JWKS URL for RS256/ES256 tokens (e.g. Entra ID's discovery/v2.0/keys)",
			bind: str(&cfg.JWKSURL, "")},
		{flag: "jwt-issuer", env: "LICENSES_JWT_ISSUER", cmds: []string{cmdServe}, usage: "required iss of tokens (required with a JWKS URL; enforced for HS256 when set)",
			bind: str(&cfg.JWTIssuer, "")},
		{flag: "jwt-audience", env: "LICENSES_JWT_AUDIENCE", cmds: []string{cmdServe}, usage: "required aud of tokens (required with a JWKS URL; enforced for HS256 when set)",
			bind: str(&cfg.JWTAudience, "")},
		{flag: "jwt-max-lifetime", env: "LICENSES_JWT_MAX_LIFETIME", cmds: serving, usage: "the longest token lifetime (exp - iat) accepted",
			bind: dur(&cfg.JWTMaxLifetime, daemon.DefaultJWTMaxLifetime), check: notNegative("jwt-max-lifetime", &cfg.JWTMaxLifetime)},
		{flag: "shutdown-timeout", env: "LICENSES_SHUTDOWN_TIMEOUT", cmds: serving, usage: "how long in-flight requests may finish after SIGTERM or SIGINT",
			bind: dur(&cfg.ShutdownTimeout, 15*time.Second), check: notNegative("shutdown-timeout", &cfg.ShutdownTimeout)},
		{flag: "read-timeout", env: "LICENSES_READ_TIMEOUT", cmds: serving, usage: "how long reading a request, body included, may take (then 408)",
			bind: dur(&cfg.Limits.ReadTimeout, d.ReadTimeout), check: notNegative("read-timeout", &cfg.Limits.ReadTimeout)},
		{flag: "write-timeout", env: "LICENSES_WRITE_TIMEOUT", cmds: serving, usage: "how long writing a response may take (a client that does not read is dropped)",
			bind: dur(&cfg.Limits.WriteTimeout, d.WriteTimeout), check: notNegative("write-timeout", &cfg.Limits.WriteTimeout)},
		{flag: "request-timeout", env: "LICENSES_REQUEST_TIMEOUT", cmds: serving, usage: "how long one request's work, database included, may take (then 503)",
			bind: dur(&cfg.Limits.RequestTimeout, d.RequestTimeout), check: notNegative("request-timeout", &cfg.Limits.RequestTimeout)},
		{flag: "max-connections", env: "LICENSES_MAX_CONNECTIONS", cmds: serving, usage: "open connections at most",
			bind: num(&cfg.Limits.MaxConnections, d.MaxConnections), check: positive("max-connections", &cfg.Limits.MaxConnections)},
		{flag: "max-in-flight", env: "LICENSES_MAX_IN_FLIGHT", cmds: serving, usage: "requests served at once at most (beyond: 503 with Retry-After)",
			bind: num(&cfg.Limits.MaxInFlight, d.MaxInFlight), check: positive("max-in-flight", &cfg.Limits.MaxInFlight)},
		{flag: "pg-max-conns", env: "LICENSES_PG_MAX_CONNS", cmds: serving, usage: "PostgreSQL pool size; 0 = max(4, CPUs)",
			bind: func(fs *pflag.FlagSet, n, u string) { fs.Int32Var(&cfg.Postgres.MaxConns, n, 0, u) },
			check: func() error {
				if cfg.Postgres.MaxConns < 0 {
					return fmt.Errorf("--pg-max-conns %d: must not be negative", cfg.Postgres.MaxConns)
				}
				return nil
			}},
		{flag: "pg-connect-timeout", env: "LICENSES_PG_CONNECT_TIMEOUT", cmds: database, usage: "PostgreSQL connect timeout",
			bind: dur(&cfg.Postgres.ConnectTimeout, 5*time.Second), check: notNegative("pg-connect-timeout", &cfg.Postgres.ConnectTimeout)},
		{flag: "pg-statement-timeout", env: "LICENSES_PG_STATEMENT_TIMEOUT", cmds: database, usage: "PostgreSQL statement_timeout; negative keeps the server's",
			bind: dur(&cfg.Postgres.StatementTimeout, 30*time.Second)},
		{flag: "graph-url", env: "LICENSES_GRAPH_URL", cmds: graphing, usage: "Microsoft Graph's base URL (national clouds: their own)",
			bind: str(&cfg.Graph.URL, graph.DefaultURL)},
		{flag: "graph-login-url", env: "LICENSES_GRAPH_LOGIN_URL", cmds: graphing,
			usage: "the identity platform's base URL; tokens come from {URL}/{tenant}/oauth2/v2.0/token",
			bind:  str(&cfg.Graph.LoginURL, graph.DefaultLoginURL)},
		{flag: "graph-timeout", env: "LICENSES_GRAPH_TIMEOUT", cmds: graphing, usage: "the budget of one request's Graph calls, retries included",
			bind: dur(&cfg.Graph.Timeout, graphdir.DefaultTimeout), check: notNegative("graph-timeout", &cfg.Graph.Timeout)},
		// 0 means off on the command line; in daemon.Config a zero interval
		// is the default and off is negative.
		{flag: "graph-sync-interval", env: "LICENSES_GRAPH_SYNC_INTERVAL", cmds: serving, usage: "how often serve mirrors the customers linked to Graph instances; 0 = off",
			bind: dur(&syncEvery, daemon.DefaultGraphSyncInterval),
			check: func() error {
				if syncEvery < 0 {
					return fmt.Errorf("--graph-sync-interval %s: must not be negative (0 turns syncing off)", syncEvery)
				}
				cfg.Graph.SyncInterval = syncEvery
				if syncEvery == 0 {
					cfg.Graph.SyncInterval = -1
				}
				return nil
			}},
		{flag: "skip-migrations", env: "LICENSES_SKIP_MIGRATIONS", cmds: []string{cmdServe},
			usage: "do not apply PostgreSQL migrations at start (run licensesd migrate instead)",
			bind:  func(fs *pflag.FlagSet, n, u string) { fs.BoolVar(&cfg.SkipMigrations, n, false, u) }},
		{flag: "log-level", env: "LICENSES_LOG_LEVEL", cmds: database, usage: "debug, info, warn or error",
			bind: func(fs *pflag.FlagSet, n, u string) { fs.Var(&levelValue{level}, n, u) }},
	}
}

// demoUsage is what demo does differently with a setting.
var demoUsage = map[string]string{
	"database":   "database to seed and serve (default: a fresh temporary SQLite database)",
	"jwt-secret": "HS256 key, at least 32 bytes (default: a random one, printed tokens are signed with it)",
}

// declare puts the settings of one command on its flag set and returns
// them, for applyEnvironment and checks.
func declare(fs *pflag.FlagSet, cmd string, all []setting) []setting {
	var mine []setting
	for _, s := range all {
		for _, c := range s.cmds {
			if c == cmd {
				usage := s.usage
				if u, ok := demoUsage[s.flag]; ok && cmd == cmdDemo {
					usage = u
				}
				s.bind(fs, s.flag, usage+" ($"+s.env+")")
				mine = append(mine, s)
			}
		}
	}
	return mine
}

// applyEnvironment gives each flag not on the command line the value of
// its variable, through the flag's own parser, then runs the checks. The
// error names the variable or the flag.
func applyEnvironment(fs *pflag.FlagSet, mine []setting, getenv func(string) string) error {
	fromEnv := map[string]bool{}
	for _, s := range mine {
		v := getenv(s.env)
		if fs.Changed(s.flag) || v == "" {
			continue
		}
		// The flag's own parser, not fs.Set, whose message would name
		// the flag as if it had been given.
		if err := fs.Lookup(s.flag).Value.Set(v); err != nil {
			return fmt.Errorf("invalid value %q for $%s (--%s): %v", v, s.env, s.flag, cleanParseError(err))
		}
		fromEnv[s.flag] = true
	}
	for _, s := range mine {
		if s.check == nil {
			continue
		}
		if err := s.check(); err != nil {
			if fromEnv[s.flag] {
				return fmt.Errorf("$%s: %v", s.env, err)
			}
			return err
		}
	}
	return nil
}

// cleanParseError drops strconv's function name ("strconv.ParseInt:
// parsing "x": invalid syntax") to what a person needs. Values are only
// echoed for typed settings: a string setting (a secret, a database URL)
// never fails to parse.
func cleanParseError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "strconv.") {
		return msg[i+2:]
	}
	return msg
}

// levelValue is a log level flag.
type levelValue struct{ l *slog.LevelVar }

func (v *levelValue) String() string {
	if v.l == nil {
		return "info"
	}
	return strings.ToLower(v.l.Level().String())
}
func (v *levelValue) Set(s string) error {
	if err := v.l.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("want debug, info, warn or error")
	}
	return nil
}
func (v *levelValue) Type() string { return "level" }
