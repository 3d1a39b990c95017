package postgres_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
)

// TestMigrate_upgradesASchema2Database opens a database written by the
// previous release (migrations 0001 and 0002, with data) and checks that
// 0003 keeps the data and makes its instances local, and that 0006 starts
// the audit count from the records already there.
func TestMigrate_upgradesASchema2Database(t *testing.T) {
	url := pgtest.URL(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	pi, customer, user, sku := uuid.MustParse("10000000-0000-4000-8000-000000000301"), uuid.MustParse("20000000-0000-4000-8000-000000000301"),
		uuid.MustParse("30000000-0000-4000-8000-000000000301"), uuid.MustParse("40000000-0000-4000-8000-000000000301")
	stmts := []string{`CREATE TABLE schema_migrations (version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`}
	for _, f := range []string{"0001_init.sql", "0002_audit_trail.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", f))
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, string(body))
	}
	stmts = append(stmts,
		`INSERT INTO schema_migrations (version, name) VALUES ('0001', '0001_init.sql'), ('0002', '0002_audit_trail.sql')`,
		`INSERT INTO tenants VALUES ('up.test')`,
		`INSERT INTO provider_instances (id, tenant, name, provider) VALUES ('`+pi.String()+`', 'up.test', 'Old CSP', 'microsoft')`,
		`INSERT INTO customers (id, tenant, name) VALUES ('`+customer.String()+`', 'up.test', 'Old Customer')`,
		`INSERT INTO users (id, customer_id, display_name, user_principal_name) VALUES ('`+user.String()+`', '`+customer.String()+`', 'Olga', 'olga@up.test')`,
		`INSERT INTO licenses VALUES ('`+customer.String()+`', '`+pi.String()+`', '`+sku.String()+`', 'E3', 2, 0)`,
		`INSERT INTO assignments VALUES ('`+customer.String()+`', '`+pi.String()+`', '`+sku.String()+`', '`+user.String()+`')`,
		`INSERT INTO audit_records (id, created_at, tenant, actor, correlation_id, operation, status, customer_id, customer_name,
			reseller_name, user_id, provider_instance_id, sku_id, sku_name) VALUES (gen_random_uuid(), now(), 'up.test', 'admin',
			gen_random_uuid(), 'AssignUserLicense', 'Succeeded', '`+customer.String()+`', 'Old Customer', '', '`+user.String()+`',
			'`+pi.String()+`', '`+sku.String()+`', 'E3')`,
	)
	for _, s := range stmts {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("building the schema 2 database: %v", err)
		}
	}
	conn.Close(t.Context())

	db := open(t, url)
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
	// The unfiltered audit page's total is the kept count 0006 started from the records.
	if p, err := db.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: "up.test"},
		Page: licensing.Page{Number: 1, Size: 10}}); err != nil || p.Total != 1 || len(p.Items) != 1 {
		t.Errorf("AuditRecords after the upgrade: total %d, %d items, %v; want the one record", p.Total, len(p.Items), err)
	}
	if links, err := db.GraphLinks(t.Context()); err != nil || len(links) != 0 {
		t.Errorf("GraphLinks after the upgrade = %+v, %v; want none", links, err)
	}
}
