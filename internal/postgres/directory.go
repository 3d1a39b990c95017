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

// applyInTx applies one update inside tx (READ COMMITTED, the batch's
// transaction) in one round trip: the statements the previous update of
// the batch left in carry (its writes) go first, then this update's reads
// (the existence checks, the license rows locked FOR UPDATE, the user's
// SKUs). Its own writes are left in carry, for the next update's round
// trip or the batch's last one (with the audit records). The server runs a
// pipeline in order, so every read still sees the writes queued before it.
// A refused update writes nothing (every write comes after the decision),
// so it spoils none of the others; its refusal comes back wrapped
// (errors.As/Unwrap reach it). The row locks it took are held with the
// batch's until tx ends, a few milliseconds. Any other error, a carried
// write's included, leaves tx to be rolled back by the caller. The update's
// audit records are returned, not written: the caller writes a batch's
// records together (queueAudit).
//
// The writer is bound by round trips and by PostgreSQL's work per
// statement: six round trips per update at first (savepoint, lookup, lock,
// SKUs, writes, release), so a single replica committed about 230
// updates/s at 16 connections while PostgreSQL sat idle; then two (reads,
// writes) under a savepoint each; now one, and no savepoint: a savepoint
// cost two statements and a subtransaction per update, and a batch of
// more than 64 subtransactions that write overflows PostgreSQL's
// per-backend cache of them, which slows every snapshot taken meanwhile.
func (db *DB) applyInTx(ctx context.Context, tx pgx.Tx, carry *pgx.Batch, ref licensing.UserRef, actor licensing.Actor,
	decide func(licensing.Seats) ([]licensing.Change, error)) ([]licensing.Change, []licensing.AuditRecord, error) {
	reads := *carry
	carried := reads.Len()
	*carry = pgx.Batch{} // this update's writes go to a new one
	// Lock every license row of the customer under the provider instance,
	// always in SKU order so that two updates can never wait on each other
	// in a cycle. Concurrent updates of this customer's seats queue here.
	// The locked rows carry the consumed seats (0005_consumed_counts.sql):
	// under READ COMMITTED a row locked after waiting is read in its newest
	// committed version, so the counts include every update we waited for.
	// The user's SKUs are read by the next statement, with the existence
	// checks, which the server runs after the locks were granted and under
	// a new snapshot, so it sees those updates too. (Reading them in the
	// locking statement would use its older snapshot.)
	reads.Queue(`
		SELECT l.sku_id, l.name, l.total, l.suspended, l.consumed FROM licenses l
		WHERE l.customer_id = $1 AND l.provider_instance_id = $2
		  AND EXISTS (SELECT 1 FROM customers c WHERE c.id = l.customer_id AND c.tenant = $3)
		ORDER BY l.sku_id FOR UPDATE OF l`, ref.CustomerID, ref.ProviderInstanceID, ref.Tenant)
	reads.Queue(lookupUserHeldQuery, ref.Tenant, ref.CustomerID, ref.UserID, ref.ProviderInstanceID)
	br := tx.SendBatch(ctx, &reads)
	c, licenses, held, lookupErr, err := func() (licensing.Customer, []licensing.License, map[uuid.UUID]bool, error, error) {
		defer br.Close()
		for range carried {
			if _, err := br.Exec(); err != nil {
				return licensing.Customer{}, nil, nil, nil, err
			}
		}
		rows, err := br.Query()
		if err != nil {
			return licensing.Customer{}, nil, nil, nil, err
		}
		licenses, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (licensing.License, error) {
			var l licensing.License
			err := r.Scan(&l.SKUID, &l.Name, &l.Total, &l.Suspended, &l.Consumed)
			return l, err
		})
		if err != nil {
			return licensing.Customer{}, nil, nil, nil, err
		}
		var skus []uuid.UUID
		c, lookupErr := scanLookupUser(br.QueryRow(), ref, &skus)
		var de *licensing.Error
		if lookupErr != nil && !errors.As(lookupErr, &de) {
			return c, nil, nil, nil, lookupErr
		}
		held := make(map[uuid.UUID]bool, len(skus))
		for _, s := range skus {
			held[s] = true
		}
		return c, licenses, held, lookupErr, nil
	}()
	if err != nil {
		return nil, nil, err
	}
	changes, err := db.decideLocked(lookupErr, licensing.Seats{Licenses: licenses, Held: held}, decide)
	if err != nil || len(changes) == 0 {
		return changes, nil, err
	}
	now := db.now().UTC().Truncate(time.Microsecond) // what timestamptz keeps
	records := make([]licensing.AuditRecord, 0, len(changes))
	for _, ch := range changes {
		if ch.Assign {
			carry.Queue(`INSERT INTO assignments (customer_id, provider_instance_id, sku_id, user_id)
				VALUES ($1, $2, $3, $4)`, ref.CustomerID, ref.ProviderInstanceID, ch.SKUID, ref.UserID)
		} else {
			carry.Queue(`DELETE FROM assignments
				WHERE customer_id = $1 AND provider_instance_id = $2 AND sku_id = $3 AND user_id = $4`,
				ref.CustomerID, ref.ProviderInstanceID, ch.SKUID, ref.UserID)
		}
		records = append(records, licensing.AuditRecord{
			CreatedAt: now, Tenant: ref.Tenant, Actor: actor.Subject, CorrelationID: actor.CorrelationID,
			Operation: ch.Operation(), Status: licensing.StatusSucceeded,
			CustomerID: ref.CustomerID, CustomerName: c.Name, ResellerID: c.ResellerID, ResellerName: c.ResellerName,
			UserID: ref.UserID, ProviderInstanceID: ref.ProviderInstanceID, SKUID: ch.SKUID, SKUName: ch.SKUName,
		})
	}
	return changes, records, nil
}

// decideLocked decides on the locked seats: a NotFound from the lookup
// first, then decide's own refusal (wrapped), then the post-decision check.
func (db *DB) decideLocked(lookupErr error, seats licensing.Seats,
	decide func(licensing.Seats) ([]licensing.Change, error)) ([]licensing.Change, error) {
	if lookupErr != nil {
		return nil, lookupErr
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
	return licensing.CheckChanges(seats, changes)
}

// lookupUserQuery checks that the customer belongs to the tenant, the user
// to the customer and the provider instance to the tenant.
const (
	lookupUserQuery   = lookupUserColumns + lookupUserFrom
	lookupUserColumns = `
	SELECT c.id, c.name, c.reseller_id, c.reseller_name,
	       EXISTS (SELECT 1 FROM users u WHERE u.id = $3 AND u.customer_id = c.id),
	       EXISTS (SELECT 1 FROM provider_instances p WHERE p.id = $4 AND p.tenant = $1)`
	lookupUserFrom = `
	FROM customers c WHERE c.tenant = $1 AND c.id = $2`
)

// lookupUserHeldQuery is lookupUserQuery with the SKUs the user holds under
// the instance: the write path's one statement after its locks.
const lookupUserHeldQuery = lookupUserColumns + `,
	       ARRAY(SELECT a.sku_id FROM assignments a
	             WHERE a.customer_id = c.id AND a.provider_instance_id = $4 AND a.user_id = $3)` + lookupUserFrom

// scanLookupUser returns the user's customer, or NotFound naming whichever
// of customer, user and instance does not exist; extra receives the
// columns a statement adds to lookupUserQuery's.
func scanLookupUser(row pgx.Row, ref licensing.UserRef, extra ...any) (licensing.Customer, error) {
	var (
		c            licensing.Customer
		userOK, piOK bool
	)
	err := row.Scan(append([]any{&c.ID, &c.Name, &c.ResellerID, &c.ResellerName, &userOK, &piOK}, extra...)...)
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

const heldSKUsQuery = `
	SELECT a.sku_id FROM assignments a JOIN customers c ON c.id = a.customer_id AND c.tenant = $4
	WHERE a.customer_id = $1 AND a.provider_instance_id = $2 AND a.user_id = $3`

func heldSKUs(ctx context.Context, q querier, ref licensing.UserRef) (map[uuid.UUID]bool, error) {
	rows, err := q.Query(ctx, heldSKUsQuery, ref.CustomerID, ref.ProviderInstanceID, ref.UserID, ref.Tenant)
	if err != nil {
		return nil, err
	}
	return collectHeld(rows)
}

func collectHeld(rows pgx.Rows) (map[uuid.UUID]bool, error) {
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
