package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
)

// TestReadPath_keptCountsAndSearchIndexFollowEveryWrite: the counters and
// the trigram index (0004, 0005) are kept by triggers; a re-import that
// renames a user and updates that assign and remove must leave them equal
// to what counting and scanning give.
func TestReadPath_keptCountsAndSearchIndexFollowEveryWrite(t *testing.T) {
	db, ids := openFixture(t)
	snap, _ := storetest.Fixture()
	// Rename Ada and import again.
	for ti := range snap.Tenants {
		for ci := range snap.Tenants[ti].Customers {
			for ui, u := range snap.Tenants[ti].Customers[ci].Users {
				if u.ID == ids.Ada.String() {
					snap.Tenants[ti].Customers[ci].Users[ui].DisplayName = "Augusta King"
					snap.Tenants[ti].Customers[ci].Users[ui].UserPrincipalName = "augusta@fabrikam.test"
				}
			}
		}
	}
	if err := db.Import(t.Context(), snap); err != nil {
		t.Fatal(err)
	}
	assignRemoveAssign(t, db, ids)
	list := func(search string) licensing.UserPage {
		t.Helper()
		p, err := db.Users(t.Context(), ids.Tenant, ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 100}, Search: search})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var counted int
	if err := db.read.QueryRowContext(t.Context(), `SELECT count(*) FROM users WHERE customer_id = ?`, ids.Fabrikam).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if all := list(""); all.Total != counted || len(all.Items) != counted {
		t.Errorf("total %d, %d items, but %d users", all.Total, len(all.Items), counted)
	}
	for search, want := range map[string]int{"augusta": 1, "AUGUSTA KI": 1, "ugust": 1, "lovelace": 0, "@fabrikam.test": counted} {
		if got := list(search); got.Total != want || len(got.Items) != want {
			t.Errorf("search %q: total %d, %d items, want %d", search, got.Total, len(got.Items), want)
		}
	}
	var consumed, assigned int
	if err := db.read.QueryRowContext(t.Context(), `SELECT consumed FROM licenses WHERE customer_id = ? AND provider_instance_id = ? AND sku_id = ?`,
		ids.Fabrikam, ids.Microsoft, ids.E3).Scan(&consumed); err != nil {
		t.Fatal(err)
	}
	if err := db.read.QueryRowContext(t.Context(), `SELECT count(*) FROM assignments WHERE customer_id = ? AND provider_instance_id = ? AND sku_id = ?`,
		ids.Fabrikam, ids.Microsoft, ids.E3).Scan(&assigned); err != nil {
		t.Fatal(err)
	}
	if consumed != assigned {
		t.Errorf("kept consumed %d, counted %d", consumed, assigned)
	}
}

// TestReadPath_auditTotalIsTheKeptCountCappedLikeTheCountedOne: the
// unfiltered audit page reads its total from audit_counts (0006); it must
// equal what counting gives, below the cap and above it.
func TestReadPath_auditTotalIsTheKeptCountCappedLikeTheCountedOne(t *testing.T) {
	ctx := t.Context()
	db, ids := openFixture(t)
	assignRemoveAssign(t, db, ids)
	totals := func() (kept, filtered, counted int) {
		t.Helper()
		kept, filtered = storetest.AuditTotals(t, db, ids.Tenant)
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM audit_records WHERE tenant = ?`,
			licensing.NormalizeTenant(ids.Tenant)).Scan(&counted); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT n FROM audit_counts WHERE tenant = ?`,
			licensing.NormalizeTenant(ids.Tenant)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != counted {
			t.Errorf("audit_counts holds %d, the tenant has %d records", n, counted)
		}
		return kept, filtered, counted
	}
	kept, filtered, counted := totals()
	if counted == 0 || kept != counted || filtered != counted {
		t.Errorf("below the cap: kept total %d, counted total %d, records %d", kept, filtered, counted)
	}
	// Copy the records until there are more than the cap.
	cols := auditColumns(t, db)
	for n := counted; n <= licensing.AuditCountLimit; n *= 2 {
		if _, err := db.write.ExecContext(ctx, `INSERT INTO audit_records (id, `+cols+`)
			SELECT lower(hex(randomblob(16))), `+cols+` FROM audit_records`); err != nil {
			t.Fatal(err)
		}
	}
	kept, filtered, counted = totals()
	if counted <= licensing.AuditCountLimit || kept != licensing.AuditCountLimit || filtered != licensing.AuditCountLimit {
		t.Errorf("above the cap: kept total %d, counted total %d, records %d, cap %d", kept, filtered, counted, licensing.AuditCountLimit)
	}
}

// auditColumns lists audit_records' columns but seq and id, comma-separated.
func auditColumns(t *testing.T, db *DB) string {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), `SELECT name FROM pragma_table_info('audit_records') WHERE name NOT IN ('seq', 'id')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(cols, ", ")
}

// openFixture opens a new database holding storetest's fixture; it is
// closed when the test ends.
func openFixture(t testing.TB) (*DB, storetest.FixtureIDs) {
	t.Helper()
	db, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "licenses.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	snap, ids := storetest.Fixture()
	if err := db.Import(t.Context(), snap); err != nil {
		t.Fatal(err)
	}
	return db, ids
}

// assignRemoveAssign assigns Ken an E3, removes it and assigns it again:
// three updates, each writing seats and audit records.
func assignRemoveAssign(t *testing.T, db *DB, ids storetest.FixtureIDs) {
	t.Helper()
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
	pi := licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}
	for _, sel := range []bool{true, false, true} {
		if _, err := db.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: "t"},
			licensing.Decide(pi, []licensing.Selection{{SKUID: ids.E3, Selected: sel}})); err != nil {
			t.Fatal(err)
		}
	}
}
