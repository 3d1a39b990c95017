package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// RecordAudit writes the records in one transaction (one round trip).
func (db *DB) RecordAudit(ctx context.Context, records []licensing.AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	now := db.now().UTC().Truncate(time.Microsecond)
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var batch pgx.Batch
		for _, r := range records {
			if r.CreatedAt.IsZero() {
				r.CreatedAt = now
			}
			if err := queueAudit(&batch, r); err != nil {
				return err
			}
		}
		return tx.SendBatch(ctx, &batch).Close()
	})
	return classify(err, "write audit records")
}

// queueAudit queues the writes of one record and of the names it carries
// (audit_names), which the name filters search first.
func queueAudit(b *pgx.Batch, r licensing.AuditRecord) error {
	if r.ID == uuid.Nil {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		r.ID = id
	}
	tenant := licensing.NormalizeTenant(r.Tenant)
	b.Queue(`INSERT INTO audit_records (id, created_at, tenant, actor, correlation_id, operation, status,
			customer_id, customer_name, reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		r.ID, r.CreatedAt.UTC(), tenant, r.Actor, r.CorrelationID, string(r.Operation), string(r.Status),
		r.CustomerID, r.CustomerName, r.ResellerID, r.ResellerName, r.UserID, r.ProviderInstanceID, r.SKUID, r.SKUName, r.Reason)
	b.Queue(`INSERT INTO audit_names (tenant, kind, id, name) VALUES ($1, 'customer', $2, $3) ON CONFLICT DO NOTHING`,
		tenant, r.CustomerID, r.CustomerName)
	if r.ResellerID != nil {
		b.Queue(`INSERT INTO audit_names (tenant, kind, id, name) VALUES ($1, 'reseller', $2, $3) ON CONFLICT DO NOTHING`,
			tenant, *r.ResellerID, r.ResellerName)
	}
	return nil
}
