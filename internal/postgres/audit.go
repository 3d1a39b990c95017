package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// AuditRecords returns one page of the records matching q, newest first.
// The tenant of q.Scope always filters, so nothing of another tenant is
// ever returned; the name filters match substrings case-insensitively;
// Start is inclusive and End exclusive, so that consecutive ranges
// partition the records. Every filter is served by an index (see
// 0002_audit_trail.sql); the name filters first find the matching ids
// among the recorded names. The total is counted up to
// licensing.AuditCountLimit, or without filters is the kept count capped
// at it.
func (db *DB) AuditRecords(ctx context.Context, q licensing.AuditQuery) (licensing.AuditPage, error) {
	tenant := licensing.NormalizeTenant(q.Scope.Tenant)
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	add("tenant = $%d", tenant)
	if q.Scope.ResellerID != nil {
		add("reseller_id = $%d", *q.Scope.ResellerID)
	}
	if q.ResellerID != nil {
		add("reseller_id = $%d", *q.ResellerID)
	}
	if q.CustomerID != nil {
		add("customer_id = $%d", *q.CustomerID)
	}
	if q.CorrelationID != nil {
		add("correlation_id = $%d", *q.CorrelationID)
	}
	if q.Start != nil {
		add("created_at >= $%d", q.Start.UTC())
	}
	if q.End != nil {
		add("created_at < $%d", q.End.UTC())
	}
	if len(q.Operations) > 0 {
		ops := make([]string, len(q.Operations))
		for i, o := range q.Operations {
			ops[i] = string(o)
		}
		add("operation = ANY($%d)", ops)
	}
	if q.Status != "" {
		add("status = $%d", string(q.Status))
	}
	if q.CustomerName != "" {
		add(`customer_name ILIKE $%d ESCAPE '\'`, containsPattern(q.CustomerName))
		add(`customer_id IN (SELECT id FROM audit_names WHERE tenant = $1 AND kind = 'customer' AND name ILIKE $%d ESCAPE '\')`,
			containsPattern(q.CustomerName))
	}
	if q.ResellerName != "" {
		add(`reseller_name ILIKE $%d ESCAPE '\'`, containsPattern(q.ResellerName))
		add(`reseller_id IN (SELECT id FROM audit_names WHERE tenant = $1 AND kind = 'reseller' AND name ILIKE $%d ESCAPE '\')`,
			containsPattern(q.ResellerName))
	}
	cond := strings.Join(where, " AND ")
	limit, offset := pageBounds(q.Page)
	size := int64(q.Page.Size)
	if limit != nil {
		size = *limit
	}
	// One row more than the page tells whether another page follows,
	// whatever the capped count says.
	pageArgs := append(append([]any{}, args...), size+1, offset)
	list := fmt.Sprintf(`
		SELECT id, created_at, tenant, actor, correlation_id, operation, status, customer_id, customer_name,
		       reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name, reason
		FROM audit_records WHERE %s
		ORDER BY created_at DESC, seq DESC
		LIMIT $%d OFFSET $%d`, cond, len(args)+1, len(args)+2)
	count := fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM audit_records WHERE %s LIMIT $%d) capped`, cond, len(args)+1)
	countArgs := append(append([]any{}, args...), licensing.AuditCountLimit)
	if len(where) == 1 {
		// Unfiltered, the capped total is the tenant's kept count (0006).
		count = `SELECT least(coalesce(sum(n), 0), $2) FROM audit_counts WHERE tenant = $1`
		countArgs = []any{tenant, licensing.AuditCountLimit}
	}

	var page licensing.AuditPage
	err := db.retry(ctx, func(ctx context.Context) error {
		page = licensing.AuditPage{Items: []licensing.AuditRecord{}}
		// The count and the page in one round trip.
		b := &pgx.Batch{}
		b.Queue(count, countArgs...)
		b.Queue(list, pageArgs...)
		br := db.pool.SendBatch(ctx, b)
		defer br.Close()
		if err := br.QueryRow().Scan(&page.Total); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var (
			r         licensing.AuditRecord
			op, state string
		)
		if _, err := pgx.ForEachRow(rows, []any{&r.ID, &r.CreatedAt, &r.Tenant, &r.Actor, &r.CorrelationID, &op, &state,
			&r.CustomerID, &r.CustomerName, &r.ResellerID, &r.ResellerName, &r.UserID, &r.ProviderInstanceID,
			&r.SKUID, &r.SKUName, &r.Reason}, func() error {
			rec := r
			rec.CreatedAt = rec.CreatedAt.UTC()
			rec.Operation, rec.Status = licensing.Operation(op), licensing.Status(state)
			if rec.ResellerID != nil { // scanned into the shared r: copy before the next row overwrites it
				id := *rec.ResellerID
				rec.ResellerID = &id
			}
			page.Items = append(page.Items, rec)
			return nil
		}); err != nil {
			return err
		}
		if int64(len(page.Items)) > size {
			page.Items, page.HasNext = page.Items[:size], true
		}
		return nil
	})
	if err != nil {
		return licensing.AuditPage{}, classify(err, "read audit records")
	}
	return page, nil
}
