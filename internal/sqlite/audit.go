package sqlite

import (
	"context"
	"database/sql"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// AuditRecords returns one page of the records matching q, newest first;
// records of one commit share a time and keep their write order reversed.
// Every filter is served by an index (see 0002_audit_trail.sql); the name
// filters first find the matching ids among the recorded names. The total
// is counted up to licensing.AuditCountLimit.
//
// The page is served from the read cache when the database has not changed
// since it was read (every record written is a commit).
func (db *DB) AuditRecords(ctx context.Context, q licensing.AuditQuery) (licensing.AuditPage, error) {
	key := q
	key.Scope.Tenant = licensing.NormalizeTenant(q.Scope.Tenant)
	return cachedRead(ctx, db, "audit records", key, cloneAuditPage,
		func(p licensing.AuditPage) int { return len(p.Items) },
		func() (licensing.AuditPage, error) { return db.auditRecords(ctx, q) })
}

func (db *DB) auditRecords(ctx context.Context, q licensing.AuditQuery) (licensing.AuditPage, error) {
	tenant := licensing.NormalizeTenant(q.Scope.Tenant)
	where := []string{`tenant = ?`}
	args := []any{tenant}
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if q.Scope.ResellerID != nil {
		add(`reseller_id = ?`, *q.Scope.ResellerID)
	}
	if q.Start != nil {
		add(`created_at >= ?`, nanos(*q.Start))
	}
	if q.End != nil {
		add(`created_at < ?`, nanos(*q.End))
	}
	if len(q.Operations) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?,", len(q.Operations)), ",")
		ops := make([]any, len(q.Operations))
		for i, op := range q.Operations {
			ops[i] = string(op)
		}
		add(`operation IN (`+marks+`)`, ops...)
	}
	if q.Status != "" {
		add(`status = ?`, string(q.Status))
	}
	if q.CustomerName != "" {
		key := strings.ToLower(q.CustomerName)
		add(`customer_id IN (SELECT id FROM audit_names WHERE tenant = ? AND kind = 'customer' AND instr(name_key, ?) > 0)
			AND instr(customer_name_key, ?) > 0`, tenant, key, key)
	}
	if q.ResellerName != "" {
		key := strings.ToLower(q.ResellerName)
		add(`reseller_id IN (SELECT id FROM audit_names WHERE tenant = ? AND kind = 'reseller' AND instr(name_key, ?) > 0)
			AND instr(reseller_name_key, ?) > 0`, tenant, key, key)
	}
	if q.ResellerID != nil {
		add(`reseller_id = ?`, *q.ResellerID)
	}
	if q.CorrelationID != nil {
		add(`correlation_id = ?`, *q.CorrelationID)
	}
	if q.CustomerID != nil {
		add(`customer_id = ?`, *q.CustomerID)
	}
	filter := ` FROM audit_records WHERE ` + strings.Join(where, ` AND `)

	// Unfiltered, the capped total is the tenant's kept count (0006);
	// filtered, the matching records are counted up to the cap.
	count := `SELECT count(*) FROM (SELECT 1` + filter + ` LIMIT ?)`
	countArgs := append(append([]any(nil), args...), licensing.AuditCountLimit)
	if len(where) == 1 {
		count = `SELECT min(coalesce((SELECT n FROM audit_counts WHERE tenant = ?), 0), ?)`
		countArgs = []any{tenant, licensing.AuditCountLimit}
	}
	sctx, leave, err := db.enterRead(ctx)
	if err != nil {
		return licensing.AuditPage{}, err
	}
	defer leave()
	// The total rides on each row of the page, one statement that SQLite
	// reads in one snapshot, prepared once per shape of filters
	// (listStmts): parsing the page's statements on every request was a
	// third of the first page's CPU. One row more than the page tells
	// whether another page follows, whatever the capped count says.
	stmts := pooled{db.listStmts}
	rows, err := stmts.QueryContext(sctx, `
		SELECT (`+count+`), id, created_at, tenant, actor, correlation_id, operation, status, customer_id, customer_name,
		       reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name, reason`+filter+`
		ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?`,
		append(append(append([]any(nil), countArgs...), args...), q.Page.Size+1, q.Page.Offset())...)
	if err != nil {
		return licensing.AuditPage{}, dbError(err, "reading audit records")
	}
	defer rows.Close()
	var page licensing.AuditPage
	for rows.Next() {
		r, err := scanAudit(rows, &page.Total)
		if err != nil {
			return licensing.AuditPage{}, dbError(err, "reading audit records")
		}
		page.Items = append(page.Items, r)
	}
	if err := rows.Err(); err != nil {
		return licensing.AuditPage{}, dbError(err, "reading audit records")
	}
	if len(page.Items) == 0 {
		// No row carried the total. Records are only ever added, so a
		// total read now is the total of a moment the empty page also held.
		if err := stmts.QueryRowContext(sctx, count, countArgs...).Scan(&page.Total); err != nil {
			return licensing.AuditPage{}, dbError(err, "counting audit records")
		}
	}
	if len(page.Items) > q.Page.Size {
		page.Items, page.HasNext = page.Items[:q.Page.Size], true
	}
	return page, nil
}

// scanAudit reads one record of the columns AuditRecords selects, after
// the columns scanned into lead.
func scanAudit(rows *sql.Rows, lead ...any) (licensing.AuditRecord, error) {
	var r licensing.AuditRecord
	var at int64
	var reseller uuid.NullUUID
	if err := rows.Scan(append(lead, &r.ID, &at, &r.Tenant, &r.Actor, &r.CorrelationID, &r.Operation, &r.Status,
		&r.CustomerID, &r.CustomerName, &reseller, &r.ResellerName, &r.UserID, &r.ProviderInstanceID,
		&r.SKUID, &r.SKUName, &r.Reason)...); err != nil {
		return licensing.AuditRecord{}, err
	}
	r.CreatedAt = time.Unix(0, at).UTC()
	if reseller.Valid {
		r.ResellerID = &reseller.UUID
	}
	return r, nil
}

// Unix nanoseconds reach only from 1677-09-21 to 2262-04-11. The spec
// accepts any date-time, so a bound outside that range saturates: every
// stored time (they come from the clock) lies inside, and a filter from
// year 1 or to year 9999 means what it says, as it does on PostgreSQL.
var (
	minNanosTime = time.Unix(0, math.MinInt64)
	maxNanosTime = time.Unix(0, math.MaxInt64)
)

// nanos is t in Unix nanoseconds, saturated at the ends of the range.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanosTime):
		return math.MinInt64
	case t.After(maxNanosTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}
