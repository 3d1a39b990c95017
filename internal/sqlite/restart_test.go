package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/sqlite"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
	"github.com/google/uuid"
)

// decide is the service's decision: the seat rules, Invalid when broken.
func decide(want ...licensing.Selection) func(licensing.Seats) ([]licensing.Change, error) {
	return licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}, want)
}

func seed(t *testing.T, db *sqlite.DB) storetest.FixtureIDs {
	t.Helper()
	snap, ids := storetest.Fixture()
	if err := db.Import(t.Context(), snap); err != nil {
		t.Fatalf("Import: %v", err)
	}
	return ids
}

func open(t *testing.T, cfg sqlite.Config) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", cfg.Path, err)
	}
	return db
}

func TestOpen_dataSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "licenses.db")
	db := open(t, sqlite.Config{Path: path})
	ids := seed(t, db)
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
	actor := licensing.Actor{Subject: "alice", CorrelationID: uuid.New()}
	if _, err := db.ApplyUserLicenses(t.Context(), ref, actor, decide(licensing.Selection{SKUID: ids.E3, Selected: true})); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open(t, sqlite.Config{Path: path})
	t.Cleanup(func() { db.Close() })
	held, err := db.HeldSKUs(t.Context(), ref)
	if err != nil || !held[ids.E3] {
		t.Errorf("after a restart Ken holds %v (%v), want E3", held, err)
	}
	ls, err := db.Licenses(t.Context(), ids.Tenant, ids.Fabrikam, ids.Microsoft)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.SKUID == ids.E3 && l.Consumed != 3 {
			t.Errorf("after a restart E3 consumed = %d, want 3", l.Consumed)
		}
	}
	page, err := db.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant}, Page: licensing.Page{Number: 1, Size: 10}})
	if err != nil || page.Total != 1 || page.Items[0].CorrelationID != actor.CorrelationID {
		t.Errorf("after a restart the audit trail is %+v (%v), want the one record", page, err)
	}
}

func TestOpen_migrationsTwiceAreANoOp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "licenses.db")
	applied := func() []string {
		t.Helper()
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		rows, err := raw.Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v, at int64
			var name string
			if err := rows.Scan(&v, &name, &at); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%d %s %d", v, name, at))
		}
		return out
	}
	db := open(t, sqlite.Config{Path: path})
	ids := seed(t, db)
	db.Close()
	first := applied()
	if len(first) == 0 {
		t.Fatal("no migration recorded after Open")
	}

	db = open(t, sqlite.Config{Path: path, Now: func() time.Time { return time.Unix(1, 0) }})
	defer db.Close()
	if second := applied(); !reflect.DeepEqual(first, second) {
		t.Errorf("reopening re-applied migrations: %v then %v", first, second)
	}
	if err := db.Ready(t.Context()); err != nil {
		t.Errorf("Ready after reopening: %v", err)
	}
	if _, err := db.Customer(t.Context(), ids.Tenant, ids.Fabrikam); err != nil {
		t.Errorf("data lost by reopening: %v", err)
	}
}

func TestOpen_acceptsAPathOrAFileURI(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, path string }{
		{"plainPath", filepath.Join(dir, "plain.db")},
		{"fileURI", "file:" + filepath.Join(dir, "uri.db")},
		{"fileURIWithParameters", "file:" + filepath.Join(dir, "params.db") + "?cache=private"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := open(t, sqlite.Config{Path: tt.path})
			ids := seed(t, db)
			db.Close()
			db = open(t, sqlite.Config{Path: tt.path})
			defer db.Close()
			if _, err := db.Customer(t.Context(), ids.Tenant, ids.Fabrikam); err != nil {
				t.Errorf("reopened %s: %v", tt.path, err)
			}
		})
	}
	t.Run("emptyPathIsInvalid", func(t *testing.T) {
		_, err := sqlite.Open(t.Context(), sqlite.Config{})
		if licensing.ErrorCode(err) != licensing.Invalid {
			t.Errorf("Open with no path: %v, want Invalid", err)
		}
	})
}

func TestApplyUserLicenses_auditTimeComesFromTheInjectedClock(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	db := openTemp(t, sqlite.Config{Now: func() time.Time { return at }})
	ids := seed(t, db)
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
	if _, err := db.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: "a"}, decide(licensing.Selection{SKUID: ids.E3, Selected: true})); err != nil {
		t.Fatal(err)
	}
	page, err := db.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant}, Page: licensing.Page{Number: 1, Size: 10}})
	if err != nil || len(page.Items) != 1 || !page.Items[0].CreatedAt.Equal(at) {
		t.Errorf("audit = %+v (%v), want one record at %v", page.Items, err, at)
	}
}

func TestApplyUserLicenses_lockHeldByAnotherProcessIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "licenses.db")
	db := openTemp(t, sqlite.Config{Path: path, BusyTimeout: 50 * time.Millisecond})
	ids := seed(t, db)

	// Another process (here: another connection) holds the write lock.
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}

	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
	assign := decide(licensing.Selection{SKUID: ids.E3, Selected: true})
	_, err = db.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: "a"}, assign)
	if licensing.ErrorCode(err) != licensing.Unavailable {
		t.Fatalf("update while another process holds the lock: %v, want Unavailable", err)
	}
	if _, err := conn.ExecContext(t.Context(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: "a"}, assign); err != nil {
		t.Errorf("update after the lock was released: %v", err)
	}
}

func TestReady_failsWhenClosed(t *testing.T) {
	db := open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "licenses.db")})
	db.Close()
	if err := db.Ready(t.Context()); err == nil {
		t.Error("Ready on a closed store returned nil")
	}
}
