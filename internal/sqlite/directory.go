package sqlite

import (
	"context"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// Licenses returns the customer's licenses under the provider instance,
// sorted by name then SKU id; a customer outside the tenant has none. They
// are served from the read cache when the database has not changed since
// they were read.
func (db *DB) Licenses(ctx context.Context, tenant string, customerID, providerInstanceID uuid.UUID) ([]licensing.License, error) {
	return cachedRead(ctx, db, "licenses", licensesKey{licensing.NormalizeTenant(tenant), customerID, providerInstanceID}, cloneLicenses,
		func(ls []licensing.License) int { return len(ls) },
		func() ([]licensing.License, error) {
			sctx, leave, err := db.enterRead(ctx)
			if err != nil {
				return nil, err
			}
			defer leave()
			return licenses(sctx, pooled{db.readStmts}, tenant, customerID, providerInstanceID)
		})
}

func licenses(ctx context.Context, q queryer, tenant string, customerID, providerInstanceID uuid.UUID) ([]licensing.License, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT l.sku_id, l.name, l.total, l.suspended, l.consumed
		FROM licenses l JOIN customers c ON c.id = l.customer_id
		WHERE l.customer_id = ? AND l.provider_instance_id = ? AND c.tenant = ?
		ORDER BY l.name, l.sku_id`,
		customerID, providerInstanceID, licensing.NormalizeTenant(tenant))
	if err != nil {
		return nil, dbError(err, "reading licenses")
	}
	defer rows.Close()
	out := []licensing.License{}
	for rows.Next() {
		var l licensing.License
		if err := rows.Scan(&l.SKUID, &l.Name, &l.Total, &l.Suspended, &l.Consumed); err != nil {
			return nil, dbError(err, "reading licenses")
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err, "reading licenses")
	}
	return out, nil
}

// HeldSKUs returns the SKUs the user holds under the provider instance.
func (db *DB) HeldSKUs(ctx context.Context, ref licensing.UserRef) (map[uuid.UUID]bool, error) {
	sctx, leave, err := db.enterRead(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	return heldSKUs(sctx, pooled{db.readStmts}, ref)
}

func heldSKUs(ctx context.Context, q queryer, ref licensing.UserRef) (map[uuid.UUID]bool, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT a.sku_id FROM assignments a JOIN customers c ON c.id = a.customer_id
		WHERE a.user_id = ? AND a.customer_id = ? AND a.provider_instance_id = ? AND c.tenant = ?`,
		ref.UserID, ref.CustomerID, ref.ProviderInstanceID, licensing.NormalizeTenant(ref.Tenant))
	if err != nil {
		return nil, dbError(err, "reading held SKUs")
	}
	defer rows.Close()
	held := map[uuid.UUID]bool{}
	for rows.Next() {
		var sku uuid.UUID
		if err := rows.Scan(&sku); err != nil {
			return nil, dbError(err, "reading held SKUs")
		}
		held[sku] = true
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err, "reading held SKUs")
	}
	return held, nil
}

// ApplyUserLicenses reads the seats, lets decide choose the changes and
// writes them with their audit records, durably. The update joins the
// group-commit writer (groupcommit.go): on the single write connection,
// inside a BEGIN IMMEDIATE transaction, so that no other update can change
// the seats between the read and the write.
func (db *DB) ApplyUserLicenses(ctx context.Context, ref licensing.UserRef, actor licensing.Actor, decide func(licensing.Seats) ([]licensing.Change, error)) ([]licensing.Change, error) {
	return db.submit(ctx, &update{ctx: ctx, ref: ref, actor: actor, decide: decide})
}

// applyUpdate applies one update inside tx and writes nothing when it
// fails before its first write. It is separate from the transaction so
// that several queued updates can later share one commit (one fsync),
// each under its own savepoint.
func (db *DB) applyUpdate(ctx context.Context, tx inTx, ref licensing.UserRef, actor licensing.Actor, decide func(licensing.Seats) ([]licensing.Change, error)) ([]licensing.Change, error) {
	ref.Tenant = licensing.NormalizeTenant(ref.Tenant)
	v, err := userView(ctx, tx, ref)
	if err != nil {
		return nil, err
	}
	switch {
	case !v.UserFound:
		return nil, notFound("user", ref.UserID)
	case v.Instance == nil:
		return nil, notFound("provider instance", ref.ProviderInstanceID)
	}
	c, ls, held := v.Customer, v.Seats.Licenses, v.Seats.Held
	// decide gets copies: what it does to them must not bend our checks.
	seen := make(map[uuid.UUID]bool, len(held))
	for k, v := range held {
		seen[k] = v
	}
	changes, err := decide(licensing.Seats{Licenses: append([]licensing.License(nil), ls...), Held: seen})
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return []licensing.Change{}, nil
	}
	changes, err = licensing.CheckChanges(licensing.Seats{Licenses: ls, Held: held}, changes)
	if err != nil {
		return nil, err
	}
	now := db.now()
	for _, ch := range changes {
		if ch.Assign {
			_, err = tx.ExecContext(ctx, `INSERT INTO assignments (customer_id, provider_instance_id, sku_id, user_id) VALUES (?, ?, ?, ?)`,
				ref.CustomerID, ref.ProviderInstanceID, ch.SKUID, ref.UserID)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM assignments WHERE customer_id = ? AND provider_instance_id = ? AND sku_id = ? AND user_id = ?`,
				ref.CustomerID, ref.ProviderInstanceID, ch.SKUID, ref.UserID)
		}
		if err != nil {
			return nil, dbError(err, "writing an assignment")
		}
		if err := insertAudit(ctx, tx, licensing.AuditRecord{
			CreatedAt: now, Tenant: ref.Tenant, Actor: actor.Subject, CorrelationID: actor.CorrelationID,
			Operation: ch.Operation(), Status: licensing.StatusSucceeded,
			CustomerID: c.ID, CustomerName: c.Name, ResellerID: c.ResellerID, ResellerName: c.ResellerName,
			UserID: ref.UserID, ProviderInstanceID: ref.ProviderInstanceID, SKUID: ch.SKUID, SKUName: ch.SKUName,
		}); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

func nullUUID(id *uuid.UUID) uuid.NullUUID {
	if id == nil {
		return uuid.NullUUID{}
	}
	return uuid.NullUUID{UUID: *id, Valid: true}
}
