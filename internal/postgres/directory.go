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
// sorted by name (byte order) then SKU id, with Consumed counted from the
// assignments. An unknown customer or provider instance is NotFound.
func (db *DB) Licenses(ctx context.Context, tenant string, customerID, providerInstanceID uuid.UUID) ([]licensing.License, error) {
	var out []licensing.License
	err := db.retry(ctx, func(ctx context.Context) error {
		if err := checkScope(ctx, db.pool, tenant, customerID, providerInstanceID); err != nil {
			return err
		}
		rows, err := db.pool.Query(ctx, `
			SELECT l.sku_id, l.name, l.total, l.suspended,
			       (SELECT count(*) FROM assignments a
			        WHERE a.customer_id = l.customer_id AND a.provider_instance_id = l.provider_instance_id
			          AND a.sku_id = l.sku_id)::integer
			FROM licenses l
			WHERE l.customer_id = $1 AND l.provider_instance_id = $2
			ORDER BY l.name COLLATE "C", l.sku_id`,
			customerID, providerInstanceID)
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

// HeldSKUs returns the SKUs the user holds under the provider instance.
// An unknown customer, user or provider instance is NotFound.
func (db *DB) HeldSKUs(ctx context.Context, ref licensing.UserRef) (map[uuid.UUID]bool, error) {
	var held map[uuid.UUID]bool
	err := db.retry(ctx, func(ctx context.Context) error {
		if _, err := lookupUser(ctx, db.pool, ref); err != nil {
			return err
		}
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
	var changes []licensing.Change
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		changes, err = db.ApplyInTx(ctx, tx, ref, actor, decide)
		return err
	})
	var refused *decisionError
	if errors.As(err, &refused) {
		return nil, refused.err
	}
	if err != nil {
		return nil, classify(err, "update the user's licenses")
	}
	return changes, nil
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
	rows, err := tx.Query(ctx, `
		SELECT sku_id, name, total, suspended FROM licenses
		WHERE customer_id = $1 AND provider_instance_id = $2
		ORDER BY sku_id FOR UPDATE`, ref.CustomerID, ref.ProviderInstanceID)
	if err != nil {
		return nil, err
	}
	licenses, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (licensing.License, error) {
		var l licensing.License
		err := r.Scan(&l.SKUID, &l.Name, &l.Total, &l.Suspended)
		return l, err
	})
	if err != nil {
		return nil, err
	}
	// Under READ COMMITTED this statement takes a new snapshot, taken after
	// the locks were granted: it sees every assignment committed by the
	// updates we waited for. (Counting in the locking statement would use
	// the older snapshot and over-assign.)
	seats := licensing.Seats{Licenses: licenses, Held: map[uuid.UUID]bool{}}
	if len(licenses) > 0 {
		consumed := map[uuid.UUID]int32{}
		var held []uuid.UUID
		rows, err := tx.Query(ctx, `
			SELECT sku_id, count(*)::integer, bool_or(user_id = $3)
			FROM assignments WHERE customer_id = $1 AND provider_instance_id = $2
			GROUP BY sku_id`, ref.CustomerID, ref.ProviderInstanceID, ref.UserID)
		if err != nil {
			return nil, err
		}
		var (
			sku   uuid.UUID
			n     int32
			holds bool
		)
		if _, err := pgx.ForEachRow(rows, []any{&sku, &n, &holds}, func() error {
			consumed[sku] = n
			if holds {
				held = append(held, sku)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		for i := range seats.Licenses {
			seats.Licenses[i].Consumed = consumed[seats.Licenses[i].SKUID]
		}
		for _, s := range held {
			seats.Held[s] = true
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
	// The store keeps the seat invariants itself, whatever decide says: a
	// change list that contradicts the locked seats is a bug, refused whole.
	bySKU := make(map[uuid.UUID]*licensing.License, len(seats.Licenses))
	for i := range seats.Licenses {
		bySKU[seats.Licenses[i].SKUID] = &seats.Licenses[i]
	}
	now := db.now().UTC().Truncate(time.Microsecond) // what timestamptz keeps
	applied := make([]licensing.Change, 0, len(changes))
	var batch pgx.Batch
	for _, ch := range changes {
		l, known := bySKU[ch.SKUID]
		switch {
		case !known:
			return nil, licensing.Errorf(licensing.Internal, "the decision changes SKU %s, which the customer has no licenses of", ch.SKUID)
		case ch.Assign && seats.Held[ch.SKUID]:
			return nil, licensing.Errorf(licensing.Internal, "the decision assigns SKU %s, which the user already holds", ch.SKUID)
		case !ch.Assign && !seats.Held[ch.SKUID]:
			return nil, licensing.Errorf(licensing.Internal, "the decision removes SKU %s, which the user does not hold", ch.SKUID)
		case ch.Assign && l.Available() < 1:
			return nil, licensing.Errorf(licensing.Internal, "the decision assigns SKU %s, which has no available seat", ch.SKUID)
		}
		seats.Held[ch.SKUID] = ch.Assign
		if ch.Assign {
			l.Consumed++
			batch.Queue(`INSERT INTO assignments (customer_id, provider_instance_id, sku_id, user_id)
				VALUES ($1, $2, $3, $4)`, ref.CustomerID, ref.ProviderInstanceID, ch.SKUID, ref.UserID)
		} else {
			l.Consumed--
			batch.Queue(`DELETE FROM assignments
				WHERE customer_id = $1 AND provider_instance_id = $2 AND sku_id = $3 AND user_id = $4`,
				ref.CustomerID, ref.ProviderInstanceID, ch.SKUID, ref.UserID)
		}
		ch.SKUName = l.Name // the name of record, not whatever decide put there
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		batch.Queue(`INSERT INTO audit_records (id, created_at, tenant, actor, correlation_id, operation, status,
				customer_id, customer_name, reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			id, now, ref.Tenant, actor.Subject, actor.CorrelationID, string(ch.Operation()), string(licensing.StatusSucceeded),
			ref.CustomerID, c.Name, c.ResellerID, c.ResellerName, ref.UserID, ref.ProviderInstanceID, ch.SKUID, ch.SKUName)
		applied = append(applied, ch)
	}
	// One round trip for all the writes of the update.
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return nil, err
	}
	return applied, nil
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

// checkScope returns NotFound unless the customer and the provider
// instance both belong to the tenant.
func checkScope(ctx context.Context, q querier, tenant string, customerID, providerInstanceID uuid.UUID) error {
	var customerOK, piOK bool
	if err := q.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM customers WHERE id = $2 AND tenant = $1),
		       EXISTS (SELECT 1 FROM provider_instances WHERE id = $3 AND tenant = $1)`,
		tenant, customerID, providerInstanceID).Scan(&customerOK, &piOK); err != nil {
		return err
	}
	switch {
	case !customerOK:
		return licensing.Errorf(licensing.NotFound, "customer %s not found", customerID)
	case !piOK:
		return licensing.Errorf(licensing.NotFound, "provider instance %s not found", providerInstanceID)
	}
	return nil
}

func heldSKUs(ctx context.Context, q querier, ref licensing.UserRef) (map[uuid.UUID]bool, error) {
	rows, err := q.Query(ctx, `
		SELECT sku_id FROM assignments
		WHERE customer_id = $1 AND provider_instance_id = $2 AND user_id = $3`,
		ref.CustomerID, ref.ProviderInstanceID, ref.UserID)
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
