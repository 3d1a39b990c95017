// Package pgtest gives each test its own PostgreSQL schema on the server
// named by LICENSES_TEST_POSTGRES_URL, and skips the test when the
// variable is unset, so that a fresh machine without PostgreSQL still
// passes while saying what it skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the test server's URL, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvURL = "LICENSES_TEST_POSTGRES_URL"

// BaseURL returns the test server's URL, or skips t when it is not set.
func BaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skipf("PostgreSQL tests are skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them", EnvURL)
	}
	return u
}

// URL creates an empty schema for t, drops it (with everything in it)
// when t ends, and returns a URL whose connections use it: pgx sends the
// unknown parameter search_path as a run-time parameter, so every
// connection of a pool opened on the URL works in the schema.
func URL(t testing.TB) string {
	t.Helper()
	base := BaseURL(t)
	schema := schemaName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return WithParam(t, base, "search_path", schema)
}

// WithParam returns the URL with one query parameter set, e.g. to point a
// pool at another host (use WithHost) or schema.
func WithParam(t testing.TB, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: %s must be a postgres:// URL", EnvURL)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// WithHost returns the URL with its host:port replaced, e.g. by a
// faultproxy's address.
func WithHost(t testing.TB, raw, hostport string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("pgtest: parse URL: %v", err)
	}
	u.Host = hostport
	return u.String()
}

// HostPort returns the host:port the URL connects to (5432 by default).
func HostPort(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("pgtest: parse URL: %v", err)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5432"
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9]+`)

// schemaName makes a readable, unique, valid identifier from a test name.
func schemaName(test string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(test), "_"), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("t_%s_%s", name, hex.EncodeToString(b))
}
