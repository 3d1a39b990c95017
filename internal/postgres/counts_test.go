package postgres_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
)

// TestConsumed_keptCountFollowsEveryWriter: licenses.consumed is kept by
// statement triggers (0005); after an import, a re-import that moves
// assignments, updates that assign and remove, and Graph mirror pages that
// assign, move and remove users, every license's count must equal its
// assignment rows.
func TestConsumed_keptCountFollowsEveryWriter(t *testing.T) {
	db := open(t, pgtest.URL(t))
	ctx := t.Context()
	snap, ids := storetest.Fixture()
	if err := db.Import(ctx, snap); err != nil {
		t.Fatal(err)
	}
	// Re-import with E3's seats moved from Grace to Edsger.
	for ti := range snap.Tenants {
		for ci := range snap.Tenants[ti].Customers {
			for li, l := range snap.Tenants[ti].Customers[ci].Licenses {
				if l.SKUID == ids.E3.String() && snap.Tenants[ti].Customers[ci].ID == ids.Fabrikam.String() && l.ProviderInstanceID == ids.Microsoft.String() {
					snap.Tenants[ti].Customers[ci].Licenses[li].AssignedUserIDs = []string{ids.Ada.String(), ids.Edsger.String(), ids.Ken.String()}
				}
			}
		}
	}
	if err := db.Import(ctx, snap); err != nil {
		t.Fatal(err)
	}
	pi := licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}
	for _, sel := range []bool{false, true, false} {
		ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
		if _, err := db.ApplyUserLicenses(ctx, ref, licensing.Actor{Subject: "t", CorrelationID: uuid.New()},
			licensing.Decide(pi, []licensing.Selection{{SKUID: ids.E3, Selected: sel}, {SKUID: ids.VisioA, Selected: !sel}})); err != nil {
			t.Fatal(err)
		}
	}
	gsnap, gids := storetest.GraphFixture()
	if err := db.Import(ctx, gsnap); err != nil {
		t.Fatal(err)
	}
	link, err := db.GraphLink(ctx, gids.Tenant, gids.Linked, gids.Graph)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MirrorLicenses(ctx, link, []licensing.License{{SKUID: gids.E3, Name: "E3", Total: 10}, {SKUID: gids.E5, Name: "E5", Total: 10}}); err != nil {
		t.Fatal(err)
	}
	users := make([]licensing.MirroredUser, 5)
	for i := range users {
		users[i] = licensing.MirroredUser{User: licensing.User{ID: uuid.New(), DisplayName: "u", UserPrincipalName: uuid.NewString() + "@linked.test"},
			SKUs: []uuid.UUID{gids.E3, gids.E5}}
	}
	if err := db.MirrorUsers(ctx, link, users, nil); err != nil {
		t.Fatal(err)
	}
	users[0].SKUs = []uuid.UUID{gids.E5}
	if err := db.MirrorUsers(ctx, link, users[:1], []uuid.UUID{users[1].ID, users[2].ID}); err != nil {
		t.Fatal(err)
	}
	var drift int
	if err := db.Pool().QueryRow(ctx, `
		SELECT count(*) FROM licenses l WHERE l.consumed <> (SELECT count(*) FROM assignments a
			WHERE a.customer_id = l.customer_id AND a.provider_instance_id = l.provider_instance_id AND a.sku_id = l.sku_id)`).Scan(&drift); err != nil {
		t.Fatal(err)
	}
	if drift != 0 {
		t.Errorf("%d licenses whose kept consumed count differs from their assignments", drift)
	}
	ls, err := db.Licenses(ctx, gids.Tenant, gids.Linked, gids.Graph)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if want := map[uuid.UUID]int32{gids.E3: 2, gids.E5: 3}[l.SKUID]; l.Consumed != want {
			t.Errorf("%s consumed %d, want %d", l.Name, l.Consumed, want)
		}
	}
}
