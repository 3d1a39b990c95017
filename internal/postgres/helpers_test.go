package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
)

// openFixture opens a store on a schema of its own holding storetest's
// fixture.
func openFixture(t *testing.T) (*postgres.DB, storetest.FixtureIDs) {
	t.Helper()
	db := open(t, pgtest.URL(t))
	snap, ids := storetest.Fixture()
	if err := db.Import(t.Context(), snap); err != nil {
		t.Fatal(err)
	}
	return db, ids
}

// open opens a store on url, closed when t ends.
func open(t testing.TB, url string, tweak ...func(*postgres.Config)) *postgres.DB {
	t.Helper()
	cfg := postgres.Config{URL: url, ConnectTimeout: 2 * time.Second, StatementTimeout: 10 * time.Second}
	for _, f := range tweak {
		f(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fixture is a tenant with one Microsoft provider instance, one customer,
// some users and one SKU.
type fixture struct {
	Tenant   string
	PI       uuid.UUID
	Customer uuid.UUID
	SKU      uuid.UUID
	Users    []uuid.UUID
}

// newFixture returns a fixture of n users and a SKU of total seats.
func newFixture(n int, total int32) (fixture, licensing.Snapshot) {
	f := fixture{Tenant: "portal.contoso.test", PI: uuid.New(), Customer: uuid.New(), SKU: uuid.New()}
	c := licensing.SnapshotCustomer{ID: f.Customer.String(), Name: "Fabrikam"}
	for i := range n {
		id := uuid.New()
		f.Users = append(f.Users, id)
		c.Users = append(c.Users, licensing.SnapshotUser{ID: id.String(), DisplayName: fmt.Sprintf("User %04d", i),
			UserPrincipalName: fmt.Sprintf("user%04d@fabrikam.test", i)})
	}
	c.Licenses = []licensing.SnapshotLicense{{ProviderInstanceID: f.PI.String(), SKUID: f.SKU.String(),
		Name: "Microsoft 365 E3", TotalLicenses: total, AssignedUserIDs: []string{}}}
	s := licensing.Snapshot{Tenants: []licensing.SnapshotTenant{{
		Domain:            "Portal.Contoso.test",
		ProviderInstances: []licensing.SnapshotProviderInstance{{ID: f.PI.String(), Name: "Contoso CSP", Provider: "microsoft"}},
		Customers:         []licensing.SnapshotCustomer{c},
	}}}
	return f, s
}

func (f fixture) ref(user uuid.UUID) licensing.UserRef {
	return licensing.UserRef{Tenant: f.Tenant, CustomerID: f.Customer, UserID: user, ProviderInstanceID: f.PI}
}

// set returns a decision that selects (or deselects) the fixture's SKU
// under the seat rules of the domain.
func (f fixture) set(selected bool) func(licensing.Seats) ([]licensing.Change, error) {
	return licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft},
		[]licensing.Selection{{SKUID: f.SKU, Selected: selected}})
}

// seeded opens a store in a fresh schema holding the fixture.
func seeded(t testing.TB, n int, total int32) (*postgres.DB, fixture, string) {
	t.Helper()
	url := pgtest.URL(t)
	db := open(t, url)
	f, s := newFixture(n, total)
	if err := db.Import(context.Background(), s); err != nil {
		t.Fatalf("import: %v", err)
	}
	return db, f, url
}

// assertConsistent checks that the license's consumption equals the
// number of assignment rows, and returns it.
func assertConsistent(t testing.TB, db *postgres.DB, f fixture) int32 {
	t.Helper()
	ctx := context.Background()
	ls, err := db.Licenses(ctx, f.Tenant, f.Customer, f.PI)
	if err != nil || len(ls) != 1 {
		t.Fatalf("licenses: %v %v", ls, err)
	}
	var rows int32
	if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM assignments WHERE sku_id = $1", f.SKU).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if ls[0].Consumed != rows {
		t.Fatalf("consumed %d but %d assignment rows", ls[0].Consumed, rows)
	}
	return rows
}
