package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

func testCatalog(t *testing.T, open Opener) {
	s, ids := seeded(t, open)
	ctx := t.Context()

	t.Run("returnsWhatWasImported", func(t *testing.T) {
		pi, err := s.ProviderInstance(ctx, ids.Tenant, ids.Microsoft)
		if want := (licensing.ProviderInstance{ID: ids.Microsoft, Name: "Contoso CSP", Provider: "microsoft", Directory: licensing.DirectoryLocal}); err != nil || pi != want {
			t.Errorf("ProviderInstance = %+v, %v; want %+v", pi, err, want)
		}
		c, err := s.Customer(ctx, ids.Tenant, ids.Northwind)
		want := licensing.Customer{ID: ids.Northwind, Name: "Northwind Traders", ResellerID: &ids.Adatum, ResellerName: ids.AdatumName}
		if err != nil || !reflect.DeepEqual(c, want) {
			t.Errorf("Customer = %+v, %v; want %+v", c, err, want)
		}
		c, err = s.Customer(ctx, ids.Tenant, ids.Fabrikam)
		if err != nil || c.ResellerID != nil || c.Name != "Fabrikam" || c.ResellerName != "" {
			t.Errorf("direct customer = %+v, %v; want Fabrikam with no reseller", c, err)
		}
		u, err := s.User(ctx, ids.Tenant, ids.Fabrikam, ids.Ada)
		if want := (licensing.User{ID: ids.Ada, DisplayName: "Ada Lovelace", UserPrincipalName: "lovelace@fabrikam.test"}); err != nil || u != want {
			t.Errorf("User = %+v, %v; want %+v", u, err, want)
		}
		if _, err := s.Customer(ctx, ids.OtherTenant, ids.Woodgrove); err != nil {
			t.Errorf("a tenant imported as %q is found as %q: %v", "portal.WOODGROVE.test", ids.OtherTenant, err)
		}
	})

	t.Run("unknownOrOtherTenantIsNotFound", func(t *testing.T) {
		tests := []struct {
			name string
			call func(context.Context) error
		}{
			{"providerInstanceUnknown", func(ctx context.Context) error {
				_, err := s.ProviderInstance(ctx, ids.Tenant, uuid.New())
				return err
			}},
			{"providerInstanceOfAnotherTenant", func(ctx context.Context) error {
				_, err := s.ProviderInstance(ctx, ids.Tenant, ids.OtherMicrosoft)
				return err
			}},
			{"providerInstanceOfUnknownTenant", func(ctx context.Context) error {
				_, err := s.ProviderInstance(ctx, "unknown.test", ids.Microsoft)
				return err
			}},
			{"customerUnknown", func(ctx context.Context) error {
				_, err := s.Customer(ctx, ids.Tenant, uuid.New())
				return err
			}},
			{"customerOfAnotherTenant", func(ctx context.Context) error {
				_, err := s.Customer(ctx, ids.Tenant, ids.Woodgrove)
				return err
			}},
			{"customerAskedFromTheOtherTenant", func(ctx context.Context) error {
				_, err := s.Customer(ctx, ids.OtherTenant, ids.Fabrikam)
				return err
			}},
			{"userUnknown", func(ctx context.Context) error {
				_, err := s.User(ctx, ids.Tenant, ids.Fabrikam, uuid.New())
				return err
			}},
			{"userOfAnotherCustomer", func(ctx context.Context) error {
				_, err := s.User(ctx, ids.Tenant, ids.Fabrikam, ids.Nora)
				return err
			}},
			{"userOfAnotherTenantsCustomer", func(ctx context.Context) error {
				_, err := s.User(ctx, ids.Tenant, ids.Woodgrove, ids.Wendy)
				return err
			}},
			{"userOfUnknownCustomer", func(ctx context.Context) error {
				_, err := s.User(ctx, ids.Tenant, uuid.New(), ids.Ada)
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, tt.call(t.Context()), licensing.NotFound, tt.name)
			})
		}
	})
}

func testUsers(t *testing.T, open Opener) {
	s, ids := seeded(t, open)
	byDisplayName := []uuid.UUID{ids.Ada, ids.AlanNamesake, ids.AlanTuring, ids.Barbara, ids.Edsger, ids.Grace, ids.Ken}
	byUPN := []uuid.UUID{ids.AlanNamesake, ids.Edsger, ids.Grace, ids.Barbara, ids.Ada, ids.Ken, ids.AlanTuring}
	tests := []struct {
		name      string
		customer  uuid.UUID
		q         licensing.UserQuery
		want      []uuid.UUID
		wantTotal int
	}{
		{"sortedByDisplayNameTiesByID", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Sort: licensing.SortDisplayName}, byDisplayName, 7},
		{"sortedByUserPrincipalName", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Sort: licensing.SortUserPrincipalName}, byUPN, 7},
		{"firstPage", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 3}, Sort: licensing.SortDisplayName}, byDisplayName[:3], 7},
		{"middlePageSplitsTheTie", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 2, Size: 2}, Sort: licensing.SortDisplayName}, byDisplayName[2:4], 7},
		{"lastPartialPage", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 3, Size: 3}, Sort: licensing.SortDisplayName}, byDisplayName[6:], 7},
		{"pageAfterTheEndIsEmptyWithTotal", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 4, Size: 3}, Sort: licensing.SortDisplayName}, nil, 7},
		{"pagedByUPN", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 2, Size: 3}, Sort: licensing.SortUserPrincipalName}, byUPN[3:6], 7},
		{"searchDisplayNameIgnoresCase", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Search: "LOVE", Sort: licensing.SortDisplayName}, []uuid.UUID{ids.Ada}, 1},
		{"searchMatchesBothNamesakes", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Search: "alan tur", Sort: licensing.SortDisplayName}, []uuid.UUID{ids.AlanNamesake, ids.AlanTuring}, 2},
		{"searchUserPrincipalName", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Search: "DIJKSTRA@", Sort: licensing.SortDisplayName}, []uuid.UUID{ids.Edsger}, 1},
		{"searchEitherField", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Search: "ho", Sort: licensing.SortDisplayName}, []uuid.UUID{ids.Grace, ids.Ken}, 2},
		{"searchWithPaging", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 2, Size: 2}, Search: "fabrikam.TEST", Sort: licensing.SortUserPrincipalName}, byUPN[2:4], 7},
		{"searchWildcardsAreLiteral", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Search: "%", Sort: licensing.SortDisplayName}, nil, 0},
		{"searchUnderscoreIsLiteral", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Search: "_", Sort: licensing.SortDisplayName}, nil, 0},
		{"searchNothingMatches", ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Search: "nobody", Sort: licensing.SortDisplayName}, nil, 0},
		{"onlyTheCustomersUsers", ids.Northwind, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Sort: licensing.SortDisplayName}, []uuid.UUID{ids.Nora}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.Users(t.Context(), ids.Tenant, tt.customer, tt.q)
			if err != nil {
				t.Fatalf("Users: %v", err)
			}
			var got []uuid.UUID
			for _, u := range page.Items {
				got = append(got, u.ID)
			}
			if !reflect.DeepEqual(got, tt.want) || page.Total != tt.wantTotal {
				t.Errorf("Users(%+v) = %v total %d, want %v total %d", tt.q, got, page.Total, tt.want, tt.wantTotal)
			}
		})
	}
	t.Run("itemsCarryTheirNames", func(t *testing.T) {
		page, err := s.Users(t.Context(), ids.Tenant, ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 1}, Sort: licensing.SortDisplayName})
		want := licensing.User{ID: ids.Ada, DisplayName: "Ada Lovelace", UserPrincipalName: "lovelace@fabrikam.test"}
		if err != nil || len(page.Items) != 1 || page.Items[0] != want {
			t.Errorf("Users = %+v, %v; want [%+v]", page, err, want)
		}
	})
	t.Run("anotherTenantsCustomerShowsNoUsers", func(t *testing.T) {
		page, err := s.Users(t.Context(), ids.Tenant, ids.Woodgrove, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Sort: licensing.SortDisplayName})
		if err != nil || len(page.Items) != 0 || page.Total != 0 {
			t.Errorf("Users of another tenant's customer = %+v, %v; want an empty page and no error", page, err)
		}
	})
}
