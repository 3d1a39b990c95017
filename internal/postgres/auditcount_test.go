package postgres_test

import (
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
)

// TestAuditCount_keptCountCappedLikeTheCountedOne: the unfiltered audit
// page's total is the tenant's kept count (0006, summed over its rows),
// and equals the counted total of a filter every record passes, below the
// cap and above it; the kept count equals the records, written through
// several connections (so several of the tenant's rows).
func TestAuditCount_keptCountCappedLikeTheCountedOne(t *testing.T) {
	db, ids := openFixture(t)
	ctx := t.Context()
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
	pi := licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}
	for _, sel := range []bool{true, false, true} {
		if _, err := db.ApplyUserLicenses(ctx, ref, licensing.Actor{Subject: "t"},
			licensing.Decide(pi, []licensing.Selection{{SKUID: ids.E3, Selected: sel}})); err != nil {
			t.Fatal(err)
		}
	}
	tenant := licensing.NormalizeTenant(ids.Tenant)
	page := licensing.Page{Number: 1, Size: 10}
	totals := func() (kept, filtered, counted int) {
		t.Helper()
		kept, filtered = storetest.AuditTotals(t, db, ids.Tenant)
		var n int
		if err := db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_records WHERE tenant = $1),
			(SELECT coalesce(sum(n), 0) FROM audit_counts WHERE tenant = $1)`, tenant).Scan(&counted, &n); err != nil {
			t.Fatal(err)
		}
		if n != counted {
			t.Errorf("audit_counts sums to %d, the tenant has %d records", n, counted)
		}
		return kept, filtered, counted
	}
	kept, filtered, counted := totals()
	if counted != 3 || kept != counted || filtered != counted {
		t.Errorf("below the cap: kept total %d, counted total %d, records %d (want 3)", kept, filtered, counted)
	}
	// Copy the records until there are more than the cap, each copy on
	// a connection of its own.
	for n := counted; n <= licensing.AuditCountLimit; n *= 2 {
		conn, err := db.Pool().Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, `INSERT INTO audit_records (id, created_at, tenant, actor, correlation_id, operation, status,
				customer_id, customer_name, reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name, reason)
			SELECT gen_random_uuid(), created_at, tenant, actor, correlation_id, operation, status,
				customer_id, customer_name, reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name, reason
			FROM audit_records WHERE tenant = $1`, tenant)
		conn.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	kept, filtered, counted = totals()
	if counted <= licensing.AuditCountLimit || kept != licensing.AuditCountLimit || filtered != licensing.AuditCountLimit {
		t.Errorf("above the cap: kept total %d, counted total %d, records %d, cap %d", kept, filtered, counted, licensing.AuditCountLimit)
	}
	other, err := db.AuditRecords(ctx, licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.OtherTenant}, Page: page})
	if err != nil || other.Total != 0 {
		t.Errorf("%s, which has no records: total %d, %v", ids.OtherTenant, other.Total, err)
	}
}
