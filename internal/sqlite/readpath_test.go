package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
)

// TestReadPath_keptCountsAndSearchIndexFollowEveryWrite: the counters and
// the trigram index (0004, 0005) are kept by triggers; a re-import that
// renames a user and updates that assign and remove must leave them equal
// to what counting and scanning give.
func TestReadPath_keptCountsAndSearchIndexFollowEveryWrite(t *testing.T) {
	db, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "licenses.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snap, ids := storetest.Fixture()
	if err := db.Import(t.Context(), snap); err != nil {
		t.Fatal(err)
	}
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
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
	pi := licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}
	for _, sel := range []bool{true, false, true} {
		if _, err := db.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: "t"},
			licensing.Decide(pi, []licensing.Selection{{SKUID: ids.E3, Selected: sel}})); err != nil {
			t.Fatal(err)
		}
	}
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
