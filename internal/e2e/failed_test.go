package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// TestPatch_refusedUpdatesLeaveFailedRecords: a refused update changes
// nothing but leaves one Failed record per item, with the reason, so that
// operators find attempts (the published Status filter then means
// something); a probe of a hidden customer is recorded for the tenant's
// csp callers only, without the customer's name.
func TestPatch_refusedUpdatesLeaveFailedRecords(t *testing.T) {
	e := start(t)

	t.Run("no free seat", func(t *testing.T) {
		corr := uuid.New()
		// Exchange Online (Plan 1) has no seat left in the demo; E3 has.
		res := e.patch(t, fabrikam, ada, body(msInstance, item(skuE3, true), item(skuEO1, true)), append(csp(t), withCorrelation(corr.String()))...)
		if res.StatusCode() != http.StatusBadRequest {
			t.Fatalf("PATCH = %d %s, want 400", res.StatusCode(), res.Body)
		}
		records := e.auditFor(t, corr)
		if len(records) != 2 {
			t.Fatalf("%d audit records, want one Failed record per item: %+v", len(records), records)
		}
		bySKU := map[uuid.UUID]gen.AuditLog{}
		for _, r := range records {
			if r.Status != gen.Failed || r.Operation != gen.AssignUserLicense || r.CustomerName == "" || r.Reason == nil {
				t.Errorf("record %+v: want a Failed assignment with the customer's name and a reason", show(r))
			}
			bySKU[r.SkuId] = r
		}
		if r := bySKU[skuEO1]; r.Reason == nil || !strings.Contains(*r.Reason, "Not enough available licenses") {
			t.Errorf("the refused item's reason = %v, want the seat shortage", show(r.Reason))
		}
		if r := bySKU[skuE3]; r.Reason == nil || !strings.Contains(*r.Reason, "another item") {
			t.Errorf("the other item's reason = %v, want that it was not applied because another was refused", show(r.Reason))
		}
		failed := gen.Failed
		res2, err := e.client.GetAuditLogsWithResponse(context.Background(), &gen.GetAuditLogsParams{Status: &failed}, csp(t)...)
		if err != nil || res2.StatusCode() != http.StatusOK || res2.JSON200.TotalCount < 2 {
			t.Fatalf("Status=Failed: %v %d %s", err, res2.StatusCode(), res2.Body)
		}
		if e.userLicenses(t, fabrikam, ada)[skuE3].IsSelected {
			t.Error("the refused update assigned E3")
		}
	})

	t.Run("a reseller probing another reseller's customer", func(t *testing.T) {
		corr := uuid.New()
		probe := []gen.RequestEditorFn{withTenant(tenant), withToken(resellerToken(t, litware)), withCorrelation(corr.String())}
		res := e.patch(t, northwind, nancy, body(msInstance, item(skuE3, true)), probe...)
		if res.StatusCode() != http.StatusNotFound {
			t.Fatalf("PATCH = %d %s, want 404", res.StatusCode(), res.Body)
		}
		records := e.auditFor(t, corr) // as csp
		if len(records) != 1 {
			t.Fatalf("csp sees %d records of the probe, want 1", len(records))
		}
		r := records[0]
		if r.Status != gen.Failed || r.CustomerId != northwind || r.CustomerName != "" || r.ResellerId != nil || r.Reason == nil ||
			!strings.Contains(*r.Reason, "customerId") {
			t.Errorf("probe record %+v: want Failed, the probed id, no name, no reseller, a reason naming customerId", show(r))
		}
		for _, reseller := range []uuid.UUID{litware, adatum} {
			res, err := e.client.GetAuditLogsWithResponse(context.Background(), &gen.GetAuditLogsParams{CorrelationId: &corr},
				withTenant(tenant), withToken(resellerToken(t, reseller)))
			if err != nil || res.StatusCode() != http.StatusOK || len(res.JSON200.Items) != 0 {
				t.Errorf("reseller %s sees the probe: %v %d %s", reseller, err, res.StatusCode(), res.Body)
			}
		}
	})

	t.Run("an unknown user of a visible customer", func(t *testing.T) {
		corr := uuid.New()
		res := e.patch(t, northwind, uuid.New(), body(msInstance, item(skuE3, false)),
			withTenant(tenant), withToken(resellerToken(t, adatum)), withCorrelation(corr.String()))
		if res.StatusCode() != http.StatusNotFound {
			t.Fatalf("PATCH = %d %s, want 404", res.StatusCode(), res.Body)
		}
		mine, err := e.client.GetAuditLogsWithResponse(context.Background(), &gen.GetAuditLogsParams{CorrelationId: &corr},
			withTenant(tenant), withToken(resellerToken(t, adatum)))
		if err != nil || mine.StatusCode() != http.StatusOK || len(mine.JSON200.Items) != 1 {
			t.Fatalf("the reseller's own failed attempt: %v %d %s", err, mine.StatusCode(), mine.Body)
		}
		if r := mine.JSON200.Items[0]; r.Operation != gen.RemoveUserLicense || r.Reason == nil || !strings.Contains(*r.Reason, "customerUserId") {
			t.Errorf("record %+v: want a Failed removal whose reason names customerUserId", show(r))
		}
	})
}
