package storetest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// testRecordAudit pins how the records of refused updates are kept.
func testRecordAudit(t *testing.T, open Opener) {
	s, ids := seeded(t, open)
	corr := fixedID(6, 40)
	reseller := ids.Adatum
	failed := []licensing.AuditRecord{
		{Tenant: ids.Tenant, Actor: "mallory", CorrelationID: corr, Operation: licensing.OperationAssign, Status: licensing.StatusFailed,
			CustomerID: ids.Northwind, CustomerName: "Northwind Traders", ResellerID: &reseller, ResellerName: ids.AdatumName,
			UserID: ids.Nora, ProviderInstanceID: ids.Microsoft, SKUID: ids.E3,
			Reason: "Not enough available licenses of SKU E3: 0 available, 1 needed."},
		// A probe of a customer the caller may not see: no name, no reseller.
		{Tenant: ids.Tenant, Actor: "mallory", CorrelationID: corr, Operation: licensing.OperationRemove, Status: licensing.StatusFailed,
			CustomerID: ids.Fabrikam, UserID: ids.Ada, ProviderInstanceID: ids.Microsoft, SKUID: ids.E3,
			Reason: "customerId: No customer is visible to the caller."},
	}
	if err := s.RecordAudit(t.Context(), failed); err != nil {
		t.Fatalf("RecordAudit: %v", err)
	}
	page, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant},
		Page: licensing.Page{Number: 1, Size: 10}, Status: licensing.StatusFailed})
	if err != nil || len(page.Items) != 2 || page.Total != 2 {
		t.Fatalf("Failed records = %+v, %v; want the 2 written", page, err)
	}
	for i, got := range page.Items {
		want := failed[len(failed)-1-i] // newest first: the later write of one commit first
		if got.ID == uuid.Nil || got.CreatedAt.IsZero() {
			t.Errorf("record %d has no id or time: %+v", i, got)
		}
		got.ID, got.CreatedAt = uuid.UUID{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record %d = %+v\nwant %+v", i, got, want)
		}
	}
	scoped, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant, ResellerID: &reseller},
		Page: licensing.Page{Number: 1, Size: 10}, CorrelationID: &corr})
	if err != nil || len(scoped.Items) != 1 || scoped.Items[0].CustomerID != ids.Northwind {
		t.Errorf("the reseller sees %+v, %v; want only the record of its own customer", scoped, err)
	}
	byName, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant},
		Page: licensing.Page{Number: 1, Size: 10}, CustomerName: "northwind", ResellerName: "adatum"})
	if err != nil || len(byName.Items) != 1 {
		t.Errorf("name filters over recorded names = %+v, %v; want the Northwind record", byName, err)
	}
	if err := s.RecordAudit(t.Context(), nil); err != nil {
		t.Errorf("RecordAudit of nothing: %v", err)
	}
}

// testRules pins the answers the stores once disagreed on: one rule each,
// never "either is fine".
func testRules(t *testing.T, open Opener) {
	t.Run("tenantIsNormalizedByEveryMethod", func(t *testing.T) {
		s, ids := seeded(t, open)
		odd := "  " + strings.ToUpper(ids.Tenant) + " "
		ref := licensing.UserRef{Tenant: odd, CustomerID: ids.Fabrikam, UserID: ids.Ada, ProviderInstanceID: ids.Microsoft}
		if _, err := s.ProviderInstance(t.Context(), odd, ids.Microsoft); err != nil {
			t.Errorf("ProviderInstance: %v", err)
		}
		if _, err := s.Customer(t.Context(), odd, ids.Fabrikam); err != nil {
			t.Errorf("Customer: %v", err)
		}
		if _, err := s.User(t.Context(), odd, ids.Fabrikam, ids.Ada); err != nil {
			t.Errorf("User: %v", err)
		}
		if page, err := s.Users(t.Context(), odd, ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Sort: licensing.SortDisplayName}); err != nil || page.Total != 7 {
			t.Errorf("Users = total %d, %v; want 7", page.Total, err)
		}
		if ls, err := s.Licenses(t.Context(), odd, ids.Fabrikam, ids.Microsoft); err != nil || len(ls) != 5 {
			t.Errorf("Licenses = %d, %v; want 5", len(ls), err)
		}
		if held, err := s.HeldSKUs(t.Context(), ref); err != nil || len(held) != 2 {
			t.Errorf("HeldSKUs = %v, %v; want Ada's 2", held, err)
		}
		changes, err := s.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: "alice", CorrelationID: fixedID(6, 41)}, plan(assign(ids.VisioA)))
		if err != nil || len(changes) != 1 {
			t.Fatalf("ApplyUserLicenses = %+v, %v", changes, err)
		}
		page, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: odd}, Page: licensing.Page{Number: 1, Size: 10}})
		if err != nil || len(page.Items) != 1 || page.Items[0].Tenant != ids.Tenant {
			t.Errorf("AuditRecords = %+v, %v; want the one record under the normalized tenant %q", page, err, ids.Tenant)
		}
	})

	t.Run("auditDatesOutsideTheNanosecondRangeFilterAsTheySay", func(t *testing.T) {
		s, ids := seeded(t, open)
		update(t, s, ids, ids.Fabrikam, ids.Edsger, licensing.Actor{Subject: "alice", CorrelationID: fixedID(6, 42)}, assign(ids.E3))
		date := func(y int) *time.Time { v := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); return &v }
		tests := []struct {
			name       string
			start, end *time.Time
			want       int
		}{
			{"startInYear1", date(1), nil, 1},
			{"startIn1600", date(1600), nil, 1},
			{"startIn2300", date(2300), nil, 0},
			{"startIn9999", date(9999), nil, 0},
			{"endIn2300", nil, date(2300), 1},
			{"endIn9999", nil, date(9999), 1},
			{"endIn1600", nil, date(1600), 0},
			{"endInYear1", nil, date(1), 0},
			{"from1600To2300", date(1600), date(2300), 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant},
					Page: licensing.Page{Number: 1, Size: 10}, Start: tt.start, End: tt.end})
				if err != nil || len(page.Items) != tt.want || page.Total != tt.want {
					t.Errorf("AuditRecords(%v..%v) = %d items, total %d, %v; want %d", tt.start, tt.end, len(page.Items), page.Total, err, tt.want)
				}
			})
		}
	})

	t.Run("auditTotalIsCappedAndHasNextStillTells", func(t *testing.T) {
		s, ids := seeded(t, open)
		n := licensing.AuditCountLimit + 3
		records := make([]licensing.AuditRecord, n)
		for i := range records {
			records[i] = licensing.AuditRecord{Tenant: ids.Tenant, Actor: "bulk", CorrelationID: fixedID(6, 43),
				Operation: licensing.OperationAssign, Status: licensing.StatusFailed, CustomerID: ids.Fabrikam, CustomerName: "Fabrikam",
				UserID: ids.Ada, ProviderInstanceID: ids.Microsoft, SKUID: ids.E3, Reason: "bulk"}
		}
		if err := s.RecordAudit(t.Context(), records); err != nil {
			t.Fatalf("RecordAudit: %v", err)
		}
		last := (licensing.AuditCountLimit / 2000) + 1 // the page holding records 10,001..10,003
		for _, tt := range []struct {
			page      int
			wantItems int
			wantNext  bool
		}{{1, 2000, true}, {last - 1, 2000, true}, {last, 3, false}} {
			page, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant},
				Page: licensing.Page{Number: tt.page, Size: 2000}, Status: licensing.StatusFailed})
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != licensing.AuditCountLimit || len(page.Items) != tt.wantItems || page.HasNext != tt.wantNext {
				t.Errorf("page %d: total %d, %d items, HasNext %v; want total %d, %d items, HasNext %v",
					tt.page, page.Total, len(page.Items), page.HasNext, licensing.AuditCountLimit, tt.wantItems, tt.wantNext)
			}
		}
	})
}
