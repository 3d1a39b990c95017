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
		rs := make([]licensing.AuditRecord, len(records))
		for i, r := range records {
			if r.CreatedAt.IsZero() {
				r.CreatedAt = now
			}
			rs[i] = r
		}
		if err := queueAudit(&batch, rs); err != nil {
			return err
		}
		return tx.SendBatch(ctx, &batch).Close()
	})
	return classify(err, "write audit records")
}

// queueAudit queues, as one statement, the writes of the records and of
// the names they carry (audit_names, which the name filters search first).
// The group-commit writer writes a whole batch's records with it: one
// statement per batch instead of two or three per record, and the kept
// count's trigger (0006_audit_counts.sql) fires once per batch. Rows are
// inserted in the order given (seq orders records of one moment), names in
// one order (two writers inserting the same names wait for each other
// instead of deadlocking).
func queueAudit(b *pgx.Batch, records []licensing.AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	const columns = 16
	cols := make([][]string, columns-1) // all but created_at, as text
	for c := range cols {
		cols[c] = make([]string, len(records))
	}
	created := make([]time.Time, len(records))
	for i, r := range records {
		if r.ID == uuid.Nil {
			id, err := uuid.NewV7()
			if err != nil {
				return err
			}
			r.ID = id
		}
		reseller := "" // NULL
		if r.ResellerID != nil {
			reseller = r.ResellerID.String()
		}
		created[i] = r.CreatedAt.UTC()
		for c, v := range [columns - 1]string{r.ID.String(), licensing.NormalizeTenant(r.Tenant), r.Actor,
			r.CorrelationID.String(), string(r.Operation), string(r.Status), r.CustomerID.String(), r.CustomerName,
			reseller, r.ResellerName, r.UserID.String(), r.ProviderInstanceID.String(), r.SKUID.String(), r.SKUName, r.Reason} {
			cols[c][i] = v
		}
	}
	args := []any{created}
	for _, c := range cols {
		args = append(args, c)
	}
	b.Queue(`WITH r AS (
		INSERT INTO audit_records (id, created_at, tenant, actor, correlation_id, operation, status,
			customer_id, customer_name, reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name, reason)
		SELECT id::uuid, created_at, tenant, actor, correlation_id::uuid, operation, status,
			customer_id::uuid, customer_name, NULLIF(reseller_id, '')::uuid, reseller_name, user_id::uuid,
			provider_instance_id::uuid, sku_id::uuid, sku_name, reason
		FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
			WITH ORDINALITY AS t(created_at, id, tenant, actor, correlation_id, operation, status, customer_id, customer_name,
				reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name, reason, n)
		ORDER BY n
		RETURNING tenant, customer_id, customer_name, reseller_id, reseller_name)
	INSERT INTO audit_names (tenant, kind, id, name)
		SELECT tenant, 'customer', customer_id, customer_name FROM r
		UNION SELECT tenant, 'reseller', reseller_id, reseller_name FROM r WHERE reseller_id IS NOT NULL
		ORDER BY 1, 2, 3, 4
	ON CONFLICT DO NOTHING`, args...)
	return nil
}
