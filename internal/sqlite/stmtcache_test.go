package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// TestListStatements_boundedAndStillAnswered: the list queries' text
// depends on the filters a caller gives, so the cache that prepares them
// must stop at its limit, and a query beyond it must still be answered
// (unprepared) the same as one inside it.
func TestListStatements_boundedAndStillAnswered(t *testing.T) {
	db, ids := openFixture(t)
	ctx := t.Context()
	var records []licensing.AuditRecord
	for range 3 {
		records = append(records, licensing.AuditRecord{ID: uuid.New(), CreatedAt: time.Now(), Tenant: ids.Tenant, Actor: "ada",
			CorrelationID: uuid.New(), Operation: licensing.OperationAssign, Status: licensing.StatusSucceeded,
			CustomerID: ids.Fabrikam, CustomerName: "Fabrikam", UserID: ids.Ken, ProviderInstanceID: ids.Microsoft,
			SKUID: ids.E3, SKUName: "Microsoft 365 E3"})
	}
	if err := db.RecordAudit(ctx, records); err != nil {
		t.Fatal(err)
	}
	want, err := db.AuditRecords(ctx, licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant}, Page: licensing.Page{Number: 1, Size: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Items) != 3 || want.Total != 3 {
		t.Fatalf("%d records of %d, want the 3 written", len(want.Items), want.Total)
	}
	for i := range listStatements + 20 {
		rows, err := pooled{db.listStmts}.QueryContext(ctx, fmt.Sprintf("SELECT %d", i))
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		var got int
		if !rows.Next() || rows.Scan(&got) != nil || got != i {
			t.Fatalf("query %d answered %d", i, got)
		}
		rows.Close()
	}
	db.listStmts.mu.Lock()
	n := len(db.listStmts.m)
	db.listStmts.mu.Unlock()
	if n > listStatements {
		t.Errorf("%d list statements prepared, limit %d", n, listStatements)
	}
	// A list shape asked only now, with the cache full, is answered.
	got, err := db.AuditRecords(ctx, licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant}, Page: licensing.Page{Number: 1, Size: 10}, Status: licensing.StatusSucceeded})
	if err != nil || got.Total != want.Total || len(got.Items) != len(want.Items) {
		t.Errorf("with the cache full: %d records of %d (%v), want %d of %d", len(got.Items), got.Total, err, len(want.Items), want.Total)
	}
}
