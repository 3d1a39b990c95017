package sqlite

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// RecordAudit writes the records in one commit on the writer connection.
func (db *DB) RecordAudit(ctx context.Context, records []licensing.AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return dbError(err, "starting to write audit records")
	}
	defer db.writeStmts.preparePending(ctx) // runs after the rollback below
	defer tx.Rollback()
	now := db.now()
	for _, r := range records {
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		if err := insertAudit(ctx, inTx{tx, db.writeStmts}, r); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return dbError(err, "committing audit records")
	}
	return nil
}

// insertAudit writes one record and the names it carries (audit_names),
// which the name filters search first.
func insertAudit(ctx context.Context, q inTx, r licensing.AuditRecord) error {
	if r.ID == uuid.Nil {
		id, err := uuid.NewV7()
		if err != nil {
			return licensing.Wrap(licensing.Internal, err, "making an audit record id")
		}
		r.ID = id
	}
	tenant := licensing.NormalizeTenant(r.Tenant)
	customerKey, resellerKey := strings.ToLower(r.CustomerName), strings.ToLower(r.ResellerName)
	if _, err := q.ExecContext(ctx, `
		INSERT INTO audit_records (id, created_at, tenant, actor, correlation_id, operation, status,
			customer_id, customer_name, customer_name_key, reseller_id, reseller_name, reseller_name_key,
			user_id, provider_instance_id, sku_id, sku_name, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, nanos(r.CreatedAt), tenant, r.Actor, r.CorrelationID, string(r.Operation), string(r.Status),
		r.CustomerID, r.CustomerName, customerKey, nullUUID(r.ResellerID), r.ResellerName, resellerKey,
		r.UserID, r.ProviderInstanceID, r.SKUID, r.SKUName, r.Reason); err != nil {
		return dbError(err, "writing an audit record")
	}
	if _, err := q.ExecContext(ctx, `INSERT OR IGNORE INTO audit_names (tenant, kind, id, name_key) VALUES (?, 'customer', ?, ?)`,
		tenant, r.CustomerID, customerKey); err != nil {
		return dbError(err, "writing an audit name")
	}
	if r.ResellerID != nil {
		if _, err := q.ExecContext(ctx, `INSERT OR IGNORE INTO audit_names (tenant, kind, id, name_key) VALUES (?, 'reseller', ?, ?)`,
			tenant, *r.ResellerID, resellerKey); err != nil {
			return dbError(err, "writing an audit name")
		}
	}
	return nil
}
