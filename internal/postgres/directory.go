package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Licenses returns the customer's licenses under the provider instance,
// sorted by name (byte order) then SKU id, with Consumed as the triggers
// keep it (0005_consumed_counts.sql). A customer outside the tenant has none (existence is the
// catalog's question).
func (db *DB) Licenses(ctx context.Context, tenant string, customerID, providerInstanceID uuid.UUID) ([]licensing.License, error) {
	tenant = licensing.NormalizeTenant(tenant)
	var out []licensing.License
	err := db.retry(ctx, func(ctx context.Context) error {
		rows, err := db.pool.Query(ctx, `
			SELECT l.sku_id, l.name, l.total, l.suspended, l.consumed
			FROM licenses l JOIN customers c ON c.id = l.customer_id AND c.tenant = $3
			WHERE l.customer_id = $1 AND l.provider_instance_id = $2
			ORDER BY l.name COLLATE "C", l.sku_id`,
			customerID, providerInstanceID, tenant)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (licensing.License, error) {
			var l licensing.License
			err := r.Scan(&l.SKUID, &l.Name, &l.Total, &l.Suspended, &l.Consumed)
			return l, err
		})
		return err
	})
	if err != nil {
		return nil, classify(err, "read licenses")
	}
	if out == nil {
		out = []licensing.License{}
	}
	return out, nil
}

// HeldSKUs returns the SKUs the user holds under the provider instance; a
// user outside the tenant holds none.
func (db *DB) HeldSKUs(ctx context.Context, ref licensing.UserRef) (map[uuid.UUID]bool, error) {
	ref.Tenant = licensing.NormalizeTenant(ref.Tenant)
	var held map[uuid.UUID]bool
	err := db.retry(ctx, func(ctx context.Context) error {
		var err error
		held, err = heldSKUs(ctx, db.pool, ref)
		return err
	})
	if err != nil {
		return nil, classify(err, "read the user's licenses")
	}
	return held, nil
}

// ApplyUserLicenses is the one write path of seats: in one transaction it
// locks the customer's license rows under the provider instance, reads the
// seats and the user's SKUs, calls decide and applies its changes with one
// audit record each. A serialization failure or deadlock reruns the whole
// transaction (decide included, which is why decide must be pure) up to
// Config.MaxAttempts times. decide's own error is returned as it is, and
// nothing is written.
func (db *DB) ApplyUserLicenses(ctx context.Context, ref licensing.UserRef, actor licensing.Actor,
	decide func(licensing.Seats) ([]licensing.Change, error)) ([]licensing.Change, error) {
	// The update joins the group-commit writer (groupcommit.go).
	return db.submit(ctx, &update{ctx: ctx, ref: ref, actor: actor, decide: decide})
}

// decisionError carries decide's refusal through the transaction helpers,
// which must neither retry nor reclassify it.
type decisionError struct{ err error }

func (e *decisionError) Error() string { return e.err.Error() }
func (e *decisionError) Unwrap() error { return e.err }

// ApplyInTx applies one update inside tx, which the caller opened with
// READ COMMITTED and commits or rolls back; ApplyUserLicenses is it plus
// the transaction and the retries. It is exported so that a batcher can
// apply many concurrent updates in one commit (each under a savepoint,
// tx.Begin, so that one refused update does not spoil the others). The
// row locks it takes are held until tx ends. decide's refusal comes back
// wrapped; errors.As/Unwrap reach it.
func (db *DB) ApplyInTx(ctx context.Context, tx pgx.Tx, ref licensing.UserRef, actor licensing.Actor,
	decide func(licensing.Seats) ([]licensing.Change, error)) ([]licensing.Change, error) {
	c, err := lookupUser(ctx, tx, ref)
	if err != nil {
		return nil, err
	}
	// Lock every license row of the customer under the provider instance,
	// always in SKU order so that two updates can never wait on each other
	// in a cycle. Concurrent updates of this customer's seats queue here.
	// The locked rows carry the consumed seats (0005_consumed_counts.sql):
	// under READ COMMITTED a row locked after waiting is read in its newest
	// committed version, so the counts include every update we waited for.
	// The user's own SKUs are read by a statement that starts after the
	// locks were granted, so it sees those updates too.
	rows, err := tx.Query(ctx, `
		SELECT sku_id, name, total, suspended, consumed FROM licenses
		WHERE customer_id = $1 AND provider_instance_id = $2
		ORDER BY sku_id FOR UPDATE`, ref.CustomerID, ref.ProviderInstanceID)
	if err != nil {
		return nil, err
	}
	licenses, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (licensing.License, error) {
		var l licensing.License
		err := r.Scan(&l.SKUID, &l.Name, &l.Total, &l.Suspended, &l.Consumed)
		return l, err
	})
	if err != nil {
		return nil, err
	}
	seats := licensing.Seats{Licenses: licenses, Held: map[uuid.UUID]bool{}}
	if len(licenses) > 0 {
		held := ref
		held.Tenant = licensing.NormalizeTenant(ref.Tenant)
		if seats.Held, err = heldSKUs(ctx, tx, held); err != nil {
			return nil, err
		}
	}
	// decide gets copies: whatever it does to them must not bend the
	// checks below.
	heldCopy := make(map[uuid.UUID]bool, len(seats.Held))
	for k, v := range seats.Held {
		heldCopy[k] = v
	}
	changes, err := decide(licensing.Seats{Licenses: append([]licensing.License(nil), seats.Licenses...), Held: heldCopy})
	if err != nil {
		return nil, &decisionError{err: err}
	}
	if len(changes) == 0 {
		return []licensing.Change{}, nil
	}
	changes, err = licensing.CheckChanges(seats, changes)
	if err != nil {
		return nil, err
	}
	now := db.now().UTC().Truncate(time.Microsecond) // what timestamptz keeps
	var batch pgx.Batch
	for _, ch := range changes {
		if ch.Assign {
			batch.Queue(`INSERT INTO assignments (customer_id, provider_instance_id, sku_id, user_id)
				VALUES ($1, $2, $3, $4)`, ref.CustomerID, ref.ProviderInstanceID, ch.SKUID, ref.UserID)
		} else {
			batch.Queue(`DELETE FROM assignments
				WHERE customer_id = $1 AND provider_instance_id = $2 AND sku_id = $3 AND user_id = $4`,
				ref.CustomerID, ref.ProviderInstanceID, ch.SKUID, ref.UserID)
		}
		if err := queueAudit(&batch, licensing.AuditRecord{
			CreatedAt: now, Tenant: ref.Tenant, Actor: actor.Subject, CorrelationID: actor.CorrelationID,
			Operation: ch.Operation(), Status: licensing.StatusSucceeded,
			CustomerID: ref.CustomerID, CustomerName: c.Name, ResellerID: c.ResellerID, ResellerName: c.ResellerName,
			UserID: ref.UserID, ProviderInstanceID: ref.ProviderInstanceID, SKUID: ch.SKUID, SKUName: ch.SKUName,
		}); err != nil {
			return nil, err
		}
	}
	// One round trip for all the writes of the update.
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return nil, err
	}
	return changes, nil
}

// lookupUser returns the user's customer after checking that the customer
// belongs to the tenant, the user to the customer and the provider
// instance to the tenant; whichever does not is NotFound.
func lookupUser(ctx context.Context, q querier, ref licensing.UserRef) (licensing.Customer, error) {
	var (
		c            licensing.Customer
		userOK, piOK bool
	)
	err := q.QueryRow(ctx, `
		SELECT c.id, c.name, c.reseller_id, c.reseller_name,
		       EXISTS (SELECT 1 FROM users u WHERE u.id = $3 AND u.customer_id = c.id),
		       EXISTS (SELECT 1 FROM provider_instances p WHERE p.id = $4 AND p.tenant = $1)
		FROM customers c WHERE c.tenant = $1 AND c.id = $2`,
		ref.Tenant, ref.CustomerID, ref.UserID, ref.ProviderInstanceID,
	).Scan(&c.ID, &c.Name, &c.ResellerID, &c.ResellerName, &userOK, &piOK)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return c, licensing.Errorf(licensing.NotFound, "customer %s not found", ref.CustomerID)
	case err != nil:
		return c, err
	case !userOK:
		return c, licensing.Errorf(licensing.NotFound, "user %s not found", ref.UserID)
	case !piOK:
		return c, licensing.Errorf(licensing.NotFound, "provider instance %s not found", ref.ProviderInstanceID)
	}
	return c, nil
}

func heldSKUs(ctx context.Context, q querier, ref licensing.UserRef) (map[uuid.UUID]bool, error) {
	rows, err := q.Query(ctx, `
		SELECT a.sku_id FROM assignments a JOIN customers c ON c.id = a.customer_id AND c.tenant = $4
		WHERE a.customer_id = $1 AND a.provider_instance_id = $2 AND a.user_id = $3`,
		ref.CustomerID, ref.ProviderInstanceID, ref.UserID, ref.Tenant)
	if err != nil {
		return nil, err
	}
	skus, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, err
	}
	held := make(map[uuid.UUID]bool, len(skus))
	for _, s := range skus {
		held[s] = true
	}
	return held, nil
}
