package storetest

import (
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

func testImport(t *testing.T, open Opener) {
	t.Run("importsTheSnapshot", func(t *testing.T) {
		s, ids := seeded(t, open)
		pi, err := s.ProviderInstance(t.Context(), ids.Tenant, ids.AWS)
		if err != nil {
			t.Fatal(err)
		}
		if want := (licensing.ProviderInstance{ID: ids.AWS, Name: "Contoso AWS", Provider: "aws", Directory: licensing.DirectoryLocal}); pi != want {
			t.Errorf("ProviderInstance = %+v, want %+v", pi, want)
		}
		page, err := s.Users(t.Context(), ids.Tenant, ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 100}, Sort: licensing.SortDisplayName})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 7 || len(page.Items) != 7 {
			t.Errorf("Fabrikam has %d users (total %d), want 7", len(page.Items), page.Total)
		}
		e3 := license(t, licenses(t, s, ids.Tenant, ids.Fabrikam, ids.Microsoft), ids.E3)
		if want := (licensing.License{SKUID: ids.E3, Name: "Microsoft 365 E3", Total: 10, Suspended: 1, Consumed: 2}); e3 != want {
			t.Errorf("E3 = %+v, want %+v", e3, want)
		}
		audit, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant}, Page: licensing.Page{Number: 1, Size: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if audit.Total != 0 || len(audit.Items) != 0 {
			t.Errorf("an import wrote %d audit records, want none: it is not a user's change", audit.Total)
		}
	})

	t.Run("twiceChangesNothing", func(t *testing.T) {
		s, ids := seeded(t, open)
		before := read(t, s, ids)
		snap, _ := Fixture()
		if err := s.Import(t.Context(), snap); err != nil {
			t.Fatalf("second Import: %v", err)
		}
		sameState(t, s, ids, before, "importing the same snapshot again")
	})

	t.Run("assignmentsBecomeExactlyTheListedUsers", func(t *testing.T) {
		s, ids := seeded(t, open)
		actor := licensing.Actor{Subject: "admin", CorrelationID: uuid.New()}
		update(t, s, ids, ids.Fabrikam, ids.Ken, actor, assign(ids.E3))
		update(t, s, ids, ids.Fabrikam, ids.Ada, actor, remove(ids.E3))
		before := read(t, s, ids)

		// A partial snapshot: only Fabrikam's E3, now held by Barbara
		// alone, and a renamed customer. Everything it does not list stays.
		snap, _ := Fixture()
		fab := snap.Tenants[0].Customers[0]
		fab.Name = "Fabrikam, Inc."
		fab.Users = fab.Users[4:5] // Barbara
		fab.Licenses = []licensing.SnapshotLicense{fab.Licenses[1]}
		fab.Licenses[0].AssignedUserIDs = []string{ids.Barbara.String()}
		snap.Tenants = snap.Tenants[:1]
		snap.Tenants[0].Customers = []licensing.SnapshotCustomer{fab}
		if err := snap.Validate(); err != nil {
			t.Fatalf("test snapshot invalid: %v", err)
		}
		if err := s.Import(t.Context(), snap); err != nil {
			t.Fatalf("Import: %v", err)
		}

		for _, u := range []uuid.UUID{ids.Ada, ids.Grace, ids.Ken, ids.Barbara} {
			ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: u, ProviderInstanceID: ids.Microsoft}
			got := held(t, s, ref)
			hasE3 := false
			for _, sku := range got {
				hasE3 = hasE3 || sku == ids.E3
			}
			if hasE3 != (u == ids.Barbara) {
				t.Errorf("user %s holds %v: E3 held = %v, want %v", u, got, hasE3, u == ids.Barbara)
			}
		}
		after := read(t, s, ids)
		e3 := license(t, licenses(t, s, ids.Tenant, ids.Fabrikam, ids.Microsoft), ids.E3)
		if e3.Consumed != 1 {
			t.Errorf("E3 consumed = %d after import, want 1 (Barbara)", e3.Consumed)
		}
		// What the snapshot does not list is untouched.
		key := ids.Fabrikam.String() + "/" + ids.Microsoft.String()
		if got, want := license(t, after.Licenses[key], ids.ExchangeP1), license(t, before.Licenses[key], ids.ExchangeP1); got != want {
			t.Errorf("unlisted ExchangeP1 changed from %+v to %+v", want, got)
		}
		awsKey := ids.Fabrikam.String() + "/" + ids.AWS.String()
		if got, want := after.Licenses[awsKey], before.Licenses[awsKey]; len(got) != 1 || got[0] != want[0] {
			t.Errorf("unlisted AWS licenses changed from %+v to %+v", want, got)
		}
		if len(after.Users[ids.Fabrikam]) != 7 {
			t.Errorf("Fabrikam has %d users after a partial import, want the 7 it had", len(after.Users[ids.Fabrikam]))
		}
		c, err := s.Customer(t.Context(), ids.Tenant, ids.Fabrikam)
		if err != nil || c.Name != "Fabrikam, Inc." {
			t.Errorf("Customer after re-import = %+v, %v; want the new name", c, err)
		}
		if before.Audit[ids.Tenant] == nil || len(after.Audit[ids.Tenant]) != len(before.Audit[ids.Tenant]) {
			t.Errorf("audit records %d before import, %d after: an import must neither write nor erase them",
				len(before.Audit[ids.Tenant]), len(after.Audit[ids.Tenant]))
		}
	})

	t.Run("collisionWithExistingRowsRejectsWhole", func(t *testing.T) {
		_, ids := Fixture()
		newPI, newCustomer, newUser := uuid.New(), uuid.New(), uuid.New()
		// Each snapshot is valid on its own and also carries new rows, which
		// must not appear when it is rejected.
		fresh := func(domain string, mutate func(*licensing.SnapshotTenant)) licensing.Snapshot {
			tn := licensing.SnapshotTenant{
				Domain:            domain,
				ProviderInstances: []licensing.SnapshotProviderInstance{{ID: newPI.String(), Name: "New CSP", Provider: "microsoft"}},
				Customers: []licensing.SnapshotCustomer{{
					ID: newCustomer.String(), Name: "New Customer",
					Users: []licensing.SnapshotUser{{ID: newUser.String(), DisplayName: "New User", UserPrincipalName: "new@new.test"}},
				}},
			}
			mutate(&tn)
			return licensing.Snapshot{Tenants: []licensing.SnapshotTenant{tn}}
		}
		tests := []struct {
			name string
			snap licensing.Snapshot
		}{
			{"customerIDOfAnotherTenant", fresh("new.test", func(tn *licensing.SnapshotTenant) {
				tn.Customers = append(tn.Customers, licensing.SnapshotCustomer{ID: ids.Fabrikam.String(), Name: "Stolen"})
			})},
			{"customerIDOfAnotherTenantIntoExistingTenant", fresh(ids.OtherTenant, func(tn *licensing.SnapshotTenant) {
				tn.Customers = append(tn.Customers, licensing.SnapshotCustomer{ID: ids.Northwind.String(), Name: "Stolen"})
			})},
			{"userIDOfAnotherCustomer", fresh("new.test", func(tn *licensing.SnapshotTenant) {
				tn.Customers[0].Users = append(tn.Customers[0].Users,
					licensing.SnapshotUser{ID: ids.Ada.String(), DisplayName: "Not Ada", UserPrincipalName: "ada@new.test"})
			})},
			{"userIDOfAnotherCustomerInTheSameTenant", fresh(ids.Tenant, func(tn *licensing.SnapshotTenant) {
				tn.Customers[0].Users = append(tn.Customers[0].Users,
					licensing.SnapshotUser{ID: ids.Nora.String(), DisplayName: "Not Nora", UserPrincipalName: "nora@new.test"})
			})},
			{"providerInstanceIDOfAnotherTenant", fresh("new.test", func(tn *licensing.SnapshotTenant) {
				tn.ProviderInstances = append(tn.ProviderInstances,
					licensing.SnapshotProviderInstance{ID: ids.OtherMicrosoft.String(), Name: "Stolen", Provider: "microsoft"})
			})},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.snap.Validate(); err != nil {
					t.Fatalf("test snapshot invalid on its own: %v", err)
				}
				s, ids := seeded(t, open)
				before := read(t, s, ids)
				err := s.Import(t.Context(), tt.snap)
				wantCode(t, err, licensing.Invalid, "Import of a colliding snapshot")
				sameState(t, s, ids, before, "a rejected import")
				if _, err := s.ProviderInstance(t.Context(), tt.snap.Tenants[0].Domain, newPI); licensing.ErrorCode(err) != licensing.NotFound {
					t.Errorf("the rejected snapshot's new provider instance exists (err %v)", err)
				}
				if _, err := s.Customer(t.Context(), tt.snap.Tenants[0].Domain, newCustomer); licensing.ErrorCode(err) != licensing.NotFound {
					t.Errorf("the rejected snapshot's new customer exists (err %v)", err)
				}
			})
		}
	})
}
