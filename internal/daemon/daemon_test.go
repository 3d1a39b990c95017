package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A mistyped database URL must be named without its credentials: the
// message ends up in logs and terminals.
func TestOpenStore_errorsNeverQuoteCredentials(t *testing.T) {
	const password = "s3cr3t-Passw0rd"
	for _, url := range []string{
		"postgress://admin:" + password + "@db.example:5432/licenses",
		"admin:" + password + "@db.example:5432/licenses",
		"mysql://admin:" + password + "@db.example/licenses",
		"postgres//admin:" + password + "@db.example/licenses",
		"",
	} {
		t.Run(url, func(t *testing.T) {
			_, err := OpenStore(context.Background(), Config{DatabaseURL: url})
			if err == nil {
				t.Fatalf("OpenStore(%q) succeeded", url)
			}
			if msg := err.Error(); strings.Contains(msg, password) || strings.Contains(msg, "admin") {
				t.Fatalf("the error quotes the credentials: %q", msg)
			}
		})
	}
}

// Schemes are case-insensitive (RFC 3986 §3.1): SQLITE: opens the same
// store as sqlite:.
func TestOpenStore_schemeIsCaseInsensitive(t *testing.T) {
	for _, scheme := range []string{"sqlite", "SQLITE", "SQLite", "File"} {
		t.Run(scheme, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "l.db")
			s, err := OpenStore(context.Background(), Config{DatabaseURL: scheme + ":" + path})
			if err != nil {
				t.Fatalf("OpenStore(%s:…): %v", scheme, err)
			}
			defer s.Close()
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("no database file at %s: %v", path, err)
			}
		})
	}
	pg := os.Getenv("LICENSES_TEST_POSTGRES_URL")
	if pg == "" {
		t.Log("LICENSES_TEST_POSTGRES_URL is unset: the POSTGRES:// case is SKIPPED")
		return
	}
	_, rest, _ := strings.Cut(pg, ":")
	s, err := OpenStore(context.Background(), Config{DatabaseURL: "POSTGRES:" + rest})
	if err != nil {
		t.Fatalf("OpenStore(POSTGRES://…): %v", err)
	}
	s.Close()
}
