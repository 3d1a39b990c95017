package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// AuditRecords returns one page of the records matching q, newest first;
// records of one commit share a time and keep their write order reversed.
func (db *DB) AuditRecords(ctx context.Context, q licensing.AuditQuery) (licensing.AuditPage, error) {
	where := []string{`tenant = ?`}
	args := []any{licensing.NormalizeTenant(q.Scope.Tenant)}
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if q.Scope.ResellerID != nil {
		add(`reseller_id = ?`, *q.Scope.ResellerID)
	}
	if q.Start != nil {
		add(`created_at >= ?`, q.Start.UnixNano())
	}
	if q.End != nil {
		add(`created_at < ?`, q.End.UnixNano())
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
		add(`instr(customer_name_key, ?) > 0`, strings.ToLower(q.CustomerName))
	}
	if q.ResellerName != "" {
		add(`instr(reseller_name_key, ?) > 0`, strings.ToLower(q.ResellerName))
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

	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return licensing.AuditPage{}, dbError(err, "reading audit records")
	}
	defer tx.Rollback()
	var page licensing.AuditPage
	if err := tx.QueryRowContext(ctx, `SELECT count(*)`+filter, args...).Scan(&page.Total); err != nil {
		return licensing.AuditPage{}, dbError(err, "counting audit records")
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, created_at, tenant, actor, correlation_id, operation, status, customer_id, customer_name,
		       reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name`+filter+`
		ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?`, append(args, q.Page.Size, q.Page.Offset())...)
	if err != nil {
		return licensing.AuditPage{}, dbError(err, "reading audit records")
	}
	defer rows.Close()
	for rows.Next() {
		var r licensing.AuditRecord
		var at int64
		var reseller uuid.NullUUID
		if err := rows.Scan(&r.ID, &at, &r.Tenant, &r.Actor, &r.CorrelationID, &r.Operation, &r.Status,
			&r.CustomerID, &r.CustomerName, &reseller, &r.ResellerName, &r.UserID, &r.ProviderInstanceID,
			&r.SKUID, &r.SKUName); err != nil {
			return licensing.AuditPage{}, dbError(err, "reading audit records")
		}
		r.CreatedAt = time.Unix(0, at).UTC()
		if reseller.Valid {
			r.ResellerID = &reseller.UUID
		}
		page.Items = append(page.Items, r)
	}
	if err := rows.Err(); err != nil {
		return licensing.AuditPage{}, dbError(err, "reading audit records")
	}
	return page, nil
}
