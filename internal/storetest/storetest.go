// Package storetest is the one contract test suite for licensing.Store. It
// is written only against the interface, so the embedded SQLite store and
// the PostgreSQL store prove the same behaviour by passing the same tests.
//
// A store under test must use a clock that advances between commits (a
// real clock does): the audit tests bound time ranges by the CreatedAt of
// earlier records.
package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// Opener returns a fresh, empty, migrated store for one test and registers
// its own cleanup (closing the store, removing files) with t.Cleanup.
type Opener func(t *testing.T) licensing.Store

// Run runs the whole contract against stores returned by open; each
// subtest opens its own store.
func Run(t *testing.T, open func(t *testing.T) licensing.Store) {
	t.Run("Ready", func(t *testing.T) {
		if err := open(t).Ready(t.Context()); err != nil {
			t.Fatalf("Ready on a healthy store: %v", err)
		}
	})
	t.Run("Import", func(t *testing.T) { testImport(t, open) })
	t.Run("Catalog", func(t *testing.T) { testCatalog(t, open) })
	t.Run("UserView", func(t *testing.T) { testUserView(t, open) })
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("UsersKeyset", func(t *testing.T) { testKeyset(t, open) })
	t.Run("Customers", func(t *testing.T) { testCustomers(t, open) })
	t.Run("ProviderInstances", func(t *testing.T) { testProviderInstances(t, open) })
	t.Run("Licenses", func(t *testing.T) { testLicenses(t, open) })
	t.Run("ApplyUserLicenses", func(t *testing.T) { testApply(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("AuditRecords", func(t *testing.T) { testAudit(t, open) })
	t.Run("RecordAudit", func(t *testing.T) { testRecordAudit(t, open) })
	t.Run("Rules", func(t *testing.T) { testRules(t, open) })
	t.Run("Mirror", func(t *testing.T) { testMirror(t, open) })
}

// seeded opens a store and imports the fixture into it.
func seeded(t *testing.T, open Opener) (licensing.Store, FixtureIDs) {
	t.Helper()
	s := open(t)
	snap, ids := Fixture()
	if err := snap.Validate(); err != nil {
		t.Fatalf("the fixture itself is invalid: %v", err)
	}
	if err := s.Import(t.Context(), snap); err != nil {
		t.Fatalf("Import(fixture): %v", err)
	}
	return s, ids
}

// wantCode fails the test unless err carries the code.
func wantCode(t *testing.T, err error, want licensing.Code, what string) {
	t.Helper()
	if got := licensing.ErrorCode(err); got != want {
		t.Fatalf("%s: error code %q (err %v), want %q", what, got, err, want)
	}
}

// plan is the decision the service makes for a Microsoft instance:
// licensing.Decide, the seat rules, Invalid when one is broken.
func plan(want ...licensing.Selection) func(licensing.Seats) ([]licensing.Change, error) {
	return licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}, want)
}

func assign(sku uuid.UUID) licensing.Selection {
	return licensing.Selection{SKUID: sku, Selected: true}
}
func remove(sku uuid.UUID) licensing.Selection {
	return licensing.Selection{SKUID: sku, Selected: false}
}

// update applies selections to a user of the main tenant under Microsoft
// and fails the test on error.
func update(t *testing.T, s licensing.Store, ids FixtureIDs, customer, user uuid.UUID, actor licensing.Actor, want ...licensing.Selection) []licensing.Change {
	t.Helper()
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: customer, UserID: user, ProviderInstanceID: ids.Microsoft}
	changes, err := s.ApplyUserLicenses(t.Context(), ref, actor, plan(want...))
	if err != nil {
		t.Fatalf("ApplyUserLicenses(%v): %v", want, err)
	}
	return changes
}

// license returns one SKU's license from a list, failing when absent.
func license(t *testing.T, ls []licensing.License, sku uuid.UUID) licensing.License {
	t.Helper()
	for _, l := range ls {
		if l.SKUID == sku {
			return l
		}
	}
	t.Fatalf("SKU %s not in %+v", sku, ls)
	return licensing.License{}
}

func licenses(t *testing.T, s licensing.Store, tenant string, customer, pi uuid.UUID) []licensing.License {
	t.Helper()
	ls, err := s.Licenses(t.Context(), tenant, customer, pi)
	if err != nil {
		t.Fatalf("Licenses(%s, %s, %s): %v", tenant, customer, pi, err)
	}
	return ls
}

// held returns the SKUs a user holds, sorted, so that they compare.
func held(t *testing.T, s licensing.Store, ref licensing.UserRef) []uuid.UUID {
	t.Helper()
	m, err := s.HeldSKUs(t.Context(), ref)
	if err != nil {
		t.Fatalf("HeldSKUs(%+v): %v", ref, err)
	}
	var out []uuid.UUID
	for sku, h := range m {
		if h {
			out = append(out, sku)
		}
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// state is everything readable through the interface about the fixture's
// tenants, to prove that an operation changed nothing.
type state struct {
	ProviderInstances []licensing.ProviderInstance
	Customers         []licensing.Customer
	Users             map[uuid.UUID][]licensing.User
	Licenses          map[string][]licensing.License
	Held              map[string][]uuid.UUID
	Audit             map[string][]string
}

// read collects the state of every id the fixture knows, across both of
// its tenants and both Microsoft instances.
func read(t *testing.T, s licensing.Store, ids FixtureIDs) state {
	t.Helper()
	ctx := t.Context()
	st := state{Users: map[uuid.UUID][]licensing.User{}, Licenses: map[string][]licensing.License{},
		Held: map[string][]uuid.UUID{}, Audit: map[string][]string{}}
	type pi struct {
		tenant string
		id     uuid.UUID
	}
	type cust struct {
		tenant string
		id     uuid.UUID
		pis    []uuid.UUID
	}
	for _, p := range []pi{{ids.Tenant, ids.Microsoft}, {ids.Tenant, ids.AWS}, {ids.OtherTenant, ids.OtherMicrosoft}} {
		got, err := s.ProviderInstance(ctx, p.tenant, p.id)
		if err != nil {
			t.Fatalf("ProviderInstance(%s, %s): %v", p.tenant, p.id, err)
		}
		st.ProviderInstances = append(st.ProviderInstances, got)
	}
	for _, c := range []cust{
		{ids.Tenant, ids.Fabrikam, []uuid.UUID{ids.Microsoft, ids.AWS}},
		{ids.Tenant, ids.Northwind, []uuid.UUID{ids.Microsoft}},
		{ids.Tenant, ids.Tailspin, []uuid.UUID{ids.Microsoft}},
		{ids.OtherTenant, ids.Woodgrove, []uuid.UUID{ids.OtherMicrosoft}},
	} {
		got, err := s.Customer(ctx, c.tenant, c.id)
		if err != nil {
			t.Fatalf("Customer(%s, %s): %v", c.tenant, c.id, err)
		}
		st.Customers = append(st.Customers, got)
		page, err := s.Users(ctx, c.tenant, c.id, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 2000}, Sort: licensing.SortDisplayName})
		if err != nil {
			t.Fatalf("Users(%s, %s): %v", c.tenant, c.id, err)
		}
		st.Users[c.id] = page.Items
		for _, p := range c.pis {
			key := fmt.Sprintf("%s/%s", c.id, p)
			st.Licenses[key] = licenses(t, s, c.tenant, c.id, p)
			for _, u := range page.Items {
				st.Held[fmt.Sprintf("%s/%s", key, u.ID)] = held(t, s, licensing.UserRef{Tenant: c.tenant, CustomerID: c.id, UserID: u.ID, ProviderInstanceID: p})
			}
		}
	}
	for _, tenant := range []string{ids.Tenant, ids.OtherTenant} {
		page, err := s.AuditRecords(ctx, licensing.AuditQuery{Scope: licensing.Scope{Tenant: tenant}, Page: licensing.Page{Number: 1, Size: 2000}})
		if err != nil {
			t.Fatalf("AuditRecords(%s): %v", tenant, err)
		}
		for _, r := range page.Items {
			st.Audit[tenant] = append(st.Audit[tenant], fmt.Sprintf("%s %s %s %s %s %d",
				r.ID, r.Operation, r.UserID, r.SKUID, r.CorrelationID, r.CreatedAt.UnixNano()))
		}
	}
	return st
}

// sameState fails the test when the state differs from before.
func sameState(t *testing.T, s licensing.Store, ids FixtureIDs, before state, what string) {
	t.Helper()
	if after := read(t, s, ids); !reflect.DeepEqual(before, after) {
		t.Fatalf("%s changed the store:\nbefore %+v\nafter  %+v", what, before, after)
	}
}
