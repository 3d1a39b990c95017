package storetest

import (
	"reflect"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// testCustomers pins the customers list: tenant and reseller scoping, the
// resellerId filter, search, order both ways, paging and the total.
func testCustomers(t *testing.T, open Opener) {
	s, ids := seeded(t, open)
	all := licensing.Scope{Tenant: ids.Tenant}
	adatumOnly := licensing.Scope{Tenant: ids.Tenant, ResellerID: &ids.Adatum}
	p := func(n, size int) licensing.Page { return licensing.Page{Number: n, Size: size} }
	byName := []uuid.UUID{ids.Fabrikam, ids.Northwind, ids.Tailspin}
	tests := []struct {
		name      string
		q         licensing.CustomerQuery
		want      []uuid.UUID
		wantTotal int
	}{
		{"wholeTenantSortedByName", licensing.CustomerQuery{Scope: all, Page: p(1, 25)}, byName, 3},
		{"descending", licensing.CustomerQuery{Scope: all, Page: p(1, 25), Descending: true}, []uuid.UUID{ids.Tailspin, ids.Northwind, ids.Fabrikam}, 3},
		{"firstPage", licensing.CustomerQuery{Scope: all, Page: p(1, 2)}, byName[:2], 3},
		{"lastPartialPage", licensing.CustomerQuery{Scope: all, Page: p(2, 2)}, byName[2:], 3},
		{"pageAfterTheEndIsEmptyWithTotal", licensing.CustomerQuery{Scope: all, Page: p(3, 2)}, nil, 3},
		{"otherTenantSeesOnlyItsOwn", licensing.CustomerQuery{Scope: licensing.Scope{Tenant: ids.OtherTenant}, Page: p(1, 25)}, []uuid.UUID{ids.Woodgrove}, 1},
		{"tenantIsNormalized", licensing.CustomerQuery{Scope: licensing.Scope{Tenant: "PORTAL.woodgrove.TEST"}, Page: p(1, 25)}, []uuid.UUID{ids.Woodgrove}, 1},
		{"unknownTenantHasNone", licensing.CustomerQuery{Scope: licensing.Scope{Tenant: "unknown.test"}, Page: p(1, 25)}, nil, 0},
		// Woodgrove's reseller id equals Adatum's, in another tenant.
		{"resellerScopeStaysInTheTenant", licensing.CustomerQuery{Scope: adatumOnly, Page: p(1, 25)}, []uuid.UUID{ids.Northwind}, 1},
		{"resellerFilter", licensing.CustomerQuery{Scope: all, Page: p(1, 25), ResellerID: &ids.Litware}, []uuid.UUID{ids.Tailspin}, 1},
		{"resellerFilterOutsideTheScopeIsEmpty", licensing.CustomerQuery{Scope: adatumOnly, Page: p(1, 25), ResellerID: &ids.Litware}, nil, 0},
		{"resellerFilterInsideTheScope", licensing.CustomerQuery{Scope: adatumOnly, Page: p(1, 25), ResellerID: &ids.Adatum}, []uuid.UUID{ids.Northwind}, 1},
		{"searchIgnoresCase", licensing.CustomerQuery{Scope: all, Page: p(1, 25), Search: "TRADERS"}, []uuid.UUID{ids.Northwind}, 1},
		{"searchSubstring", licensing.CustomerQuery{Scope: all, Page: p(1, 25), Search: "i"}, byName, 3},
		{"searchWithPaging", licensing.CustomerQuery{Scope: all, Page: p(2, 1), Search: "a"}, byName[1:2], 3},
		{"searchWildcardsAreLiteral", licensing.CustomerQuery{Scope: all, Page: p(1, 25), Search: "%"}, nil, 0},
		{"searchUnderscoreIsLiteral", licensing.CustomerQuery{Scope: all, Page: p(1, 25), Search: "_"}, nil, 0},
		{"searchWithinTheResellerScope", licensing.CustomerQuery{Scope: adatumOnly, Page: p(1, 25), Search: "toys"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.Customers(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("Customers: %v", err)
			}
			var got []uuid.UUID
			for _, c := range page.Items {
				got = append(got, c.ID)
			}
			if !reflect.DeepEqual(got, tt.want) || page.Total != tt.wantTotal {
				t.Errorf("Customers(%+v) = %v total %d, want %v total %d", tt.q, got, page.Total, tt.want, tt.wantTotal)
			}
		})
	}
	t.Run("itemsCarryNameAndReseller", func(t *testing.T) {
		page, err := s.Customers(t.Context(), licensing.CustomerQuery{Scope: all, Page: p(1, 25)})
		if err != nil || len(page.Items) != 3 {
			t.Fatalf("Customers = %+v, %v", page, err)
		}
		want := []licensing.Customer{
			{ID: ids.Fabrikam, Name: "Fabrikam"},
			{ID: ids.Northwind, Name: "Northwind Traders", ResellerID: &ids.Adatum, ResellerName: ids.AdatumName},
			{ID: ids.Tailspin, Name: "Tailspin Toys", ResellerID: &ids.Litware, ResellerName: ids.LitwareName},
		}
		if !reflect.DeepEqual(page.Items, want) {
			t.Errorf("items = %+v, want %+v", page.Items, want)
		}
	})
	t.Run("nameOrderFoldsCaseThenTiesByNameThenID", func(t *testing.T) {
		s := open(t)
		snap, cs := caseFixture()
		if err := s.Import(t.Context(), snap); err != nil {
			t.Fatal(err)
		}
		page, err := s.Customers(t.Context(), licensing.CustomerQuery{Scope: licensing.Scope{Tenant: "case.test"}, Page: p(1, 25)})
		if err != nil {
			t.Fatal(err)
		}
		var got []uuid.UUID
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		// "acme" and "Acme" fold equal, then byte order puts "Acme" first;
		// the two "Beta" tie on both and go by id; "zeta" comes last.
		want := []uuid.UUID{cs[1], cs[0], cs[3], cs[2], cs[4]}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("order = %v, want %v", got, want)
		}
	})
}

// caseFixture is one tenant whose customer names differ only in case or
// not at all, to pin the order: cs[0] "acme", cs[1] "Acme", cs[2] and
// cs[3] "Beta" (cs[3] with the smaller id), cs[4] "zeta".
func caseFixture() (licensing.Snapshot, []uuid.UUID) {
	cs := []uuid.UUID{fixedID(2, 0x101), fixedID(2, 0x102), fixedID(2, 0x104), fixedID(2, 0x103), fixedID(2, 0x105)}
	names := []string{"acme", "Acme", "Beta", "Beta", "zeta"}
	t := licensing.SnapshotTenant{Domain: "case.test", ProviderInstances: []licensing.SnapshotProviderInstance{
		{ID: fixedID(1, 0x101).String(), Name: "zz Microsoft", Provider: "microsoft"},
		{ID: fixedID(1, 0x102).String(), Name: "Google", Provider: "google"},
		{ID: fixedID(1, 0x103).String(), Name: "AA Microsoft", Provider: "Microsoft"},
		{ID: fixedID(1, 0x104).String(), Name: "AWS", Provider: "aws"},
	}}
	for i, id := range cs {
		t.Customers = append(t.Customers, licensing.SnapshotCustomer{ID: id.String(), Name: names[i]})
	}
	return licensing.Snapshot{Tenants: []licensing.SnapshotTenant{t}}, cs
}

// testProviderInstances pins the provider instances list: the tenant's
// only, sorted by provider then name (ASCII case folded) then id, paged.
func testProviderInstances(t *testing.T, open Opener) {
	s, ids := seeded(t, open)
	p := func(n, size int) licensing.Page { return licensing.Page{Number: n, Size: size} }
	t.Run("tenantsOwnSortedByProvider", func(t *testing.T) {
		page, err := s.ProviderInstances(t.Context(), ids.Tenant, p(1, 25))
		want := []licensing.ProviderInstance{
			{ID: ids.AWS, Name: "Contoso AWS", Provider: "aws", Directory: licensing.DirectoryLocal},
			{ID: ids.Microsoft, Name: "Contoso CSP", Provider: "microsoft", Directory: licensing.DirectoryLocal},
		}
		if err != nil || !reflect.DeepEqual(page.Items, want) || page.Total != 2 {
			t.Errorf("ProviderInstances = %+v, %v; want %+v total 2", page, err, want)
		}
	})
	t.Run("otherTenant", func(t *testing.T) {
		page, err := s.ProviderInstances(t.Context(), "Portal.Woodgrove.Test", p(1, 25))
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != ids.OtherMicrosoft || page.Total != 1 {
			t.Errorf("ProviderInstances(other tenant) = %+v, %v; want only Woodgrove CSP", page, err)
		}
	})
	t.Run("unknownTenantHasNone", func(t *testing.T) {
		page, err := s.ProviderInstances(t.Context(), "unknown.test", p(1, 25))
		if err != nil || len(page.Items) != 0 || page.Total != 0 {
			t.Errorf("ProviderInstances(unknown) = %+v, %v; want empty", page, err)
		}
	})
	t.Run("orderAndPaging", func(t *testing.T) {
		s := open(t)
		snap, _ := caseFixture()
		if err := s.Import(t.Context(), snap); err != nil {
			t.Fatal(err)
		}
		// aws, google, then the two Microsoft instances, whose providers
		// fold equal ("Microsoft", "microsoft"): "AA Microsoft" before
		// "zz Microsoft".
		want := []uuid.UUID{fixedID(1, 0x104), fixedID(1, 0x102), fixedID(1, 0x103), fixedID(1, 0x101)}
		var got []uuid.UUID
		for n := 1; n <= 3; n++ {
			page, err := s.ProviderInstances(t.Context(), "case.test", p(n, 2))
			if err != nil || page.Total != 4 {
				t.Fatalf("page %d = %+v, %v; want total 4", n, page, err)
			}
			for _, pi := range page.Items {
				got = append(got, pi.ID)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("pages = %v, want %v", got, want)
		}
	})
}
