package storetest

import (
	"reflect"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// testUserView checks the one-call view against the single reads it
// replaces on the service's hot path: for every combination of a known,
// unknown or foreign customer, user and instance, UserView must say what
// Customer, User, ProviderInstance, Licenses and HeldSKUs say.
func testUserView(t *testing.T, open Opener) {
	s, ids := seeded(t, open)
	ctx := t.Context()
	tests := []struct {
		name string
		ref  licensing.UserRef
	}{
		{"userWithSeats", licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ada, ProviderInstanceID: ids.Microsoft}},
		{"userUnderASecondInstance", licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.AWS}},
		{"userHoldingNothing", licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Edsger, ProviderInstanceID: ids.Microsoft}},
		{"resellersCustomer", licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Northwind, UserID: ids.Nora, ProviderInstanceID: ids.Microsoft}},
		{"unknownUser", licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: uuid.New(), ProviderInstanceID: ids.Microsoft}},
		{"anotherCustomersUser", licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Nora, ProviderInstanceID: ids.Microsoft}},
		{"unknownInstance", licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ada, ProviderInstanceID: uuid.New()}},
		{"anotherTenantsInstance", licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ada, ProviderInstanceID: ids.OtherMicrosoft}},
		{"unknownUserAndInstance", licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: uuid.New(), ProviderInstanceID: uuid.New()}},
		{"unknownCustomer", licensing.UserRef{Tenant: ids.Tenant, CustomerID: uuid.New(), UserID: ids.Ada, ProviderInstanceID: ids.Microsoft}},
		{"anotherTenantsCustomer", licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Woodgrove, UserID: ids.Wendy, ProviderInstanceID: ids.OtherMicrosoft}},
		{"unknownTenant", licensing.UserRef{Tenant: "unknown.test", CustomerID: ids.Fabrikam, UserID: ids.Ada, ProviderInstanceID: ids.Microsoft}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.UserView(ctx, tt.ref)
			c, cerr := s.Customer(ctx, tt.ref.Tenant, tt.ref.CustomerID)
			if licensing.ErrorCode(cerr) == licensing.NotFound {
				wantCode(t, err, licensing.NotFound, "UserView of a customer Customer does not find")
				return
			}
			if err != nil || cerr != nil {
				t.Fatalf("UserView: %v; Customer: %v", err, cerr)
			}
			want := licensing.UserView{Customer: c, Seats: licensing.Seats{Licenses: []licensing.License{}, Held: map[uuid.UUID]bool{}}}
			_, uerr := s.User(ctx, tt.ref.Tenant, tt.ref.CustomerID, tt.ref.UserID)
			want.UserFound = uerr == nil
			if pi, err := s.ProviderInstance(ctx, tt.ref.Tenant, tt.ref.ProviderInstanceID); err == nil {
				want.Instance = &pi
			}
			if want.UserFound && want.Instance != nil {
				ls, err := s.Licenses(ctx, tt.ref.Tenant, tt.ref.CustomerID, tt.ref.ProviderInstanceID)
				if err != nil {
					t.Fatal(err)
				}
				held, err := s.HeldSKUs(ctx, tt.ref)
				if err != nil {
					t.Fatal(err)
				}
				want.Seats = licensing.Seats{Licenses: ls, Held: held}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("UserView(%+v)\n = %+v\nwant %+v (from the single reads)", tt.ref, got, want)
			}
		})
	}
	t.Run("seesACommittedChange", func(t *testing.T) {
		ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Edsger, ProviderInstanceID: ids.Microsoft}
		if _, err := s.ApplyUserLicenses(ctx, ref, licensing.Actor{Subject: "storetest", CorrelationID: uuid.New()},
			plan(licensing.Selection{SKUID: ids.VisioA, Selected: true})); err != nil {
			t.Fatal(err)
		}
		v, err := s.UserView(ctx, ref)
		if err != nil || !v.Seats.Held[ids.VisioA] {
			t.Fatalf("UserView after assigning VisioA: held %v, %v", v.Seats.Held, err)
		}
		for _, l := range v.Seats.Licenses {
			if l.SKUID == ids.VisioA && l.Consumed != 1 {
				t.Errorf("VisioA consumed %d after one assignment, want 1", l.Consumed)
			}
		}
	})
}
