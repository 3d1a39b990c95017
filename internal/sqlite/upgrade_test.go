package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/sqlite"
)

// TestOpen_upgradesASchema2Database opens a database written by the
// previous release (migrations 0001 and 0002, with data) and checks that
// 0003 keeps the data and makes its instances local.
func TestOpen_upgradesASchema2Database(t *testing.T) {
	path := filepath.Join(t.TempDir(), "licenses.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`}
	for _, f := range []string{"0001_schema.sql", "0002_audit_trail.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", f))
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, string(body))
	}
	pi, customer, user, sku := uuid.MustParse("10000000-0000-4000-8000-000000000301"), uuid.MustParse("20000000-0000-4000-8000-000000000301"),
		uuid.MustParse("30000000-0000-4000-8000-000000000301"), uuid.MustParse("40000000-0000-4000-8000-000000000301")
	stmts = append(stmts,
		`INSERT INTO schema_migrations VALUES (1, '0001_schema.sql', 0), (2, '0002_audit_trail.sql', 0)`,
		`INSERT INTO tenants VALUES ('up.test')`,
		`INSERT INTO provider_instances (id, tenant, name, provider) VALUES ('`+pi.String()+`', 'up.test', 'Old CSP', 'microsoft')`,
		`INSERT INTO customers (id, tenant, name) VALUES ('`+customer.String()+`', 'up.test', 'Old Customer')`,
		`INSERT INTO users (id, customer_id, display_name, user_principal_name, display_key, upn_key)
			VALUES ('`+user.String()+`', '`+customer.String()+`', 'Olga', 'olga@up.test', 'olga', 'olga@up.test')`,
		`INSERT INTO licenses VALUES ('`+customer.String()+`', '`+pi.String()+`', '`+sku.String()+`', 'E3', 2, 0)`,
		`INSERT INTO assignments VALUES ('`+customer.String()+`', '`+pi.String()+`', '`+sku.String()+`', '`+user.String()+`')`,
	)
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("building the schema 2 database: %v", err)
		}
	}
	raw.Close()

	db := openTemp(t, sqlite.Config{Path: path})
	if err := db.Ready(t.Context()); err != nil {
		t.Fatalf("Ready after the upgrade: %v", err)
	}
	got, err := db.ProviderInstance(t.Context(), "up.test", pi)
	if want := (licensing.ProviderInstance{ID: pi, Name: "Old CSP", Provider: "microsoft", Directory: licensing.DirectoryLocal}); err != nil || got != want {
		t.Errorf("ProviderInstance after the upgrade = %+v, %v; want %+v", got, err, want)
	}
	if u, err := db.User(t.Context(), "up.test", customer, user); err != nil || u.DisplayName != "Olga" {
		t.Errorf("User after the upgrade = %+v, %v", u, err)
	}
	ls, err := db.Licenses(t.Context(), "up.test", customer, pi)
	if err != nil || len(ls) != 1 || ls[0].Consumed != 1 {
		t.Errorf("Licenses after the upgrade = %+v, %v; want E3 held once", ls, err)
	}
	if links, err := db.GraphLinks(t.Context()); err != nil || len(links) != 0 {
		t.Errorf("GraphLinks after the upgrade = %+v, %v; want none", links, err)
	}
}
