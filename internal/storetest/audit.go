package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// auditHistory makes six commits in the main tenant and one in the other,
// each under its own correlation id, and returns the CreatedAt of each
// commit by correlation id.
func auditHistory(t *testing.T, s licensing.Store, ids FixtureIDs, corr []uuid.UUID) map[uuid.UUID]time.Time {
	t.Helper()
	type step struct {
		tenant         string
		pi             uuid.UUID
		customer, user uuid.UUID
		subject        string
		want           []licensing.Selection
	}
	steps := []step{
		{ids.Tenant, ids.Microsoft, ids.Fabrikam, ids.Ken, "alice", []licensing.Selection{assign(ids.E3)}},
		{ids.Tenant, ids.Microsoft, ids.Fabrikam, ids.Ken, "alice", []licensing.Selection{remove(ids.E3)}},
		{ids.Tenant, ids.Microsoft, ids.Northwind, ids.Nora, "bob", []licensing.Selection{remove(ids.E3)}},
		{ids.Tenant, ids.Microsoft, ids.Tailspin, ids.Tom, "carol", []licensing.Selection{assign(ids.E3)}},
		{ids.Tenant, ids.Microsoft, ids.Fabrikam, ids.Edsger, "alice", []licensing.Selection{assign(ids.E3), assign(ids.VisioA)}},
		{ids.OtherTenant, ids.OtherMicrosoft, ids.Woodgrove, ids.Wendy, "dave", []licensing.Selection{remove(ids.E3)}},
	}
	for i, st := range steps {
		ref := licensing.UserRef{Tenant: st.tenant, CustomerID: st.customer, UserID: st.user, ProviderInstanceID: st.pi}
		changes, err := s.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: st.subject, CorrelationID: corr[i]}, plan(st.want...))
		if err != nil || len(changes) != len(st.want) {
			t.Fatalf("step %d: %+v, %v; want %d changes", i, changes, err, len(st.want))
		}
		time.Sleep(time.Millisecond) // kind to coarse clocks; the store's clock must advance
	}
	at := map[uuid.UUID]time.Time{}
	for _, tenant := range []string{ids.Tenant, ids.OtherTenant} {
		page, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: tenant}, Page: licensing.Page{Number: 1, Size: 100}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Items {
			at[r.CorrelationID] = r.CreatedAt
		}
	}
	for i := 1; i < 5; i++ {
		if !at[corr[i]].After(at[corr[i-1]]) {
			t.Fatalf("commit %d at %v is not after commit %d at %v: the suite needs a store clock that advances",
				i, at[corr[i]], i-1, at[corr[i-1]])
		}
	}
	return at
}

func testAudit(t *testing.T, open Opener) {
	s, ids := seeded(t, open)
	c := make([]uuid.UUID, 6)
	for i := range c {
		c[i] = fixedID(6, i+1)
	}
	at := auditHistory(t, s, ids, c)
	main := licensing.Scope{Tenant: ids.Tenant}
	all := licensing.Page{Number: 1, Size: 100}
	ptr := func(id uuid.UUID) *uuid.UUID { return &id }
	tm := func(v time.Time) *time.Time { return &v }

	tests := []struct {
		name string
		q    licensing.AuditQuery
		want []uuid.UUID // correlation ids, newest first
	}{
		{"newestFirst", licensing.AuditQuery{Scope: main, Page: all}, []uuid.UUID{c[4], c[4], c[3], c[2], c[1], c[0]}},
		{"firstPage", licensing.AuditQuery{Scope: main, Page: licensing.Page{Number: 1, Size: 4}}, []uuid.UUID{c[4], c[4], c[3], c[2]}},
		{"lastPage", licensing.AuditQuery{Scope: main, Page: licensing.Page{Number: 2, Size: 4}}, []uuid.UUID{c[1], c[0]}},
		{"pageAfterTheEnd", licensing.AuditQuery{Scope: main, Page: licensing.Page{Number: 3, Size: 4}}, nil},
		{"startIsInclusive", licensing.AuditQuery{Scope: main, Page: all, Start: tm(at[c[2]])}, []uuid.UUID{c[4], c[4], c[3], c[2]}},
		{"endIsExclusive", licensing.AuditQuery{Scope: main, Page: all, End: tm(at[c[2]])}, []uuid.UUID{c[1], c[0]}},
		{"startAndEnd", licensing.AuditQuery{Scope: main, Page: all, Start: tm(at[c[1]]), End: tm(at[c[3]])}, []uuid.UUID{c[2], c[1]}},
		{"operationRemove", licensing.AuditQuery{Scope: main, Page: all, Operations: []licensing.Operation{licensing.OperationRemove}}, []uuid.UUID{c[2], c[1]}},
		{"operationAssign", licensing.AuditQuery{Scope: main, Page: all, Operations: []licensing.Operation{licensing.OperationAssign}}, []uuid.UUID{c[4], c[4], c[3], c[0]}},
		{"operationsAnyOf", licensing.AuditQuery{Scope: main, Page: all, Operations: []licensing.Operation{licensing.OperationRemove, licensing.OperationAssign}}, []uuid.UUID{c[4], c[4], c[3], c[2], c[1], c[0]}},
		{"statusSucceeded", licensing.AuditQuery{Scope: main, Page: all, Status: licensing.StatusSucceeded}, []uuid.UUID{c[4], c[4], c[3], c[2], c[1], c[0]}},
		{"statusFailed", licensing.AuditQuery{Scope: main, Page: all, Status: licensing.StatusFailed}, nil},
		{"customerNameSubstringIgnoresCase", licensing.AuditQuery{Scope: main, Page: all, CustomerName: "ABRIK"}, []uuid.UUID{c[4], c[4], c[1], c[0]}},
		{"customerNameOther", licensing.AuditQuery{Scope: main, Page: all, CustomerName: "wind trad"}, []uuid.UUID{c[2]}},
		{"customerNameWildcardIsLiteral", licensing.AuditQuery{Scope: main, Page: all, CustomerName: "%"}, nil},
		{"resellerNameSubstringIgnoresCase", licensing.AuditQuery{Scope: main, Page: all, ResellerName: "PARTNERS"}, []uuid.UUID{c[3]}},
		{"resellerNameUnderscoreIsLiteral", licensing.AuditQuery{Scope: main, Page: all, ResellerName: "_"}, nil},
		{"resellerID", licensing.AuditQuery{Scope: main, Page: all, ResellerID: ptr(ids.Adatum)}, []uuid.UUID{c[2]}},
		{"correlationID", licensing.AuditQuery{Scope: main, Page: all, CorrelationID: ptr(c[4])}, []uuid.UUID{c[4], c[4]}},
		{"customerID", licensing.AuditQuery{Scope: main, Page: all, CustomerID: ptr(ids.Tailspin)}, []uuid.UUID{c[3]}},
		{"filtersCombine", licensing.AuditQuery{Scope: main, Page: all, CustomerName: "fabrikam", Operations: []licensing.Operation{licensing.OperationAssign}, End: tm(at[c[4]])}, []uuid.UUID{c[0]}},
		{"filtersCombineWithPaging", licensing.AuditQuery{Scope: main, Page: licensing.Page{Number: 2, Size: 2}, CustomerName: "fabrikam"}, []uuid.UUID{c[1], c[0]}},
		{"filteredPageAfterTheEnd", licensing.AuditQuery{Scope: main, Page: licensing.Page{Number: 9, Size: 2}, CustomerName: "fabrikam"}, nil},
		{"otherTenantSeesOnlyItsOwn", licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.OtherTenant}, Page: all}, []uuid.UUID{c[5]}},
		{"unknownTenantSeesNothing", licensing.AuditQuery{Scope: licensing.Scope{Tenant: "unknown.test"}, Page: all}, nil},
		{"filterCannotReachAnotherTenant", licensing.AuditQuery{Scope: main, Page: all, CorrelationID: ptr(c[5])}, nil},
		{"customerIDCannotReachAnotherTenant", licensing.AuditQuery{Scope: main, Page: all, CustomerID: ptr(ids.Woodgrove)}, nil},
		{"resellerScope", licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant, ResellerID: ptr(ids.Adatum)}, Page: all}, []uuid.UUID{c[2]}},
		{"resellerScopeStaysInItsTenant", licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.OtherTenant, ResellerID: ptr(ids.Adatum)}, Page: all}, []uuid.UUID{c[5]}},
		{"resellerScopeHidesDirectCustomers", licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant, ResellerID: ptr(ids.Litware)}, Page: all, CustomerName: "fabrikam"}, nil},
		{"resellerScopeAndAnotherResellersFilter", licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant, ResellerID: ptr(ids.Litware)}, Page: all, ResellerID: ptr(ids.Adatum)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.AuditRecords(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("AuditRecords: %v", err)
			}
			var got []uuid.UUID
			for _, r := range page.Items {
				got = append(got, r.CorrelationID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("AuditRecords correlation ids = %v, want %v", got, tt.want)
			}
			// The total counts every match, beyond the page.
			full := tt.q
			full.Page = all
			fullPage, err := s.AuditRecords(t.Context(), full)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != len(fullPage.Items) {
				t.Errorf("Total = %d, but %d records match", page.Total, len(fullPage.Items))
			}
			if wantNext := tt.q.Page.Offset()+len(page.Items) < len(fullPage.Items); page.HasNext != wantNext {
				t.Errorf("HasNext = %v, want %v", page.HasNext, wantNext)
			}
		})
	}

	t.Run("createdAtNeverIncreasesAlongThePage", func(t *testing.T) {
		page, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: main, Page: all})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(page.Items); i++ {
			if page.Items[i].CreatedAt.After(page.Items[i-1].CreatedAt) {
				t.Errorf("record %d (%v) is newer than record %d (%v)", i, page.Items[i].CreatedAt, i-1, page.Items[i-1].CreatedAt)
			}
		}
	})
	t.Run("pagesPartitionTheList", func(t *testing.T) {
		full, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: main, Page: all})
		if err != nil {
			t.Fatal(err)
		}
		var paged []uuid.UUID
		for n := 1; n <= 6; n++ {
			p, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: main, Page: licensing.Page{Number: n, Size: 1}})
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 6 || len(p.Items) != 1 {
				t.Fatalf("page %d of size 1: %d items, total %d", n, len(p.Items), p.Total)
			}
			paged = append(paged, p.Items[0].ID)
		}
		var want []uuid.UUID
		for _, r := range full.Items {
			want = append(want, r.ID)
		}
		if !reflect.DeepEqual(paged, want) {
			t.Errorf("pages of one = %v, one page of all = %v: the order must be total and stable", paged, want)
		}
	})
	t.Run("recordsOfAResellersCustomerCarryTheReseller", func(t *testing.T) {
		page, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: main, Page: all, CorrelationID: ptr(c[3])})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("%+v, %v", page, err)
		}
		r := page.Items[0]
		if r.CustomerID != ids.Tailspin || r.CustomerName != "Tailspin Toys" || r.ResellerID == nil || *r.ResellerID != ids.Litware ||
			r.ResellerName != ids.LitwareName || r.Actor != "carol" || r.UserID != ids.Tom || r.SKUName != "Microsoft 365 E3" {
			t.Errorf("record = %+v", r)
		}
	})
}

// AuditTotals returns the totalCount of the tenant's unfiltered audit page
// and of one filtered by a start every record passes: stores that keep a
// count answer the first from it and count the second, and the two must
// agree, below AuditCountLimit and above it.
func AuditTotals(t *testing.T, s licensing.Store, tenant string) (unfiltered, filtered int) {
	t.Helper()
	page := licensing.Page{Number: 1, Size: 10}
	u, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: tenant}, Page: page})
	if err != nil {
		t.Fatal(err)
	}
	all := time.Unix(0, 0)
	f, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: tenant}, Page: page, Start: &all})
	if err != nil {
		t.Fatal(err)
	}
	return u.Total, f.Total
}
