package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

var _ licensing.Mirror = (*DB)(nil)

// linkSelect reads a link with its customer and instance; the caller adds
// the WHERE and ORDER BY. Only graph instances are linked (the import keeps
// it so); the directory condition makes sure of it.
const linkSelect = `SELECT pc.tenant, pc.microsoft_tenant_id, c.id, c.name, c.reseller_id, c.reseller_name, ` + instanceColumns + `
	FROM provider_customers pc
	JOIN customers c ON c.id = pc.customer_id AND c.tenant = pc.tenant
	JOIN provider_instances p ON p.id = pc.provider_instance_id AND p.tenant = pc.tenant AND p.directory = 'graph'`

func scanLink(row pgx.Row) (licensing.GraphLink, error) {
	var (
		l   licensing.GraphLink
		app licensing.GraphApp
	)
	err := row.Scan(&l.Tenant, &l.MicrosoftTenantID, &l.Customer.ID, &l.Customer.Name, &l.Customer.ResellerID, &l.Customer.ResellerName,
		&l.Instance.ID, &l.Instance.Name, &l.Instance.Provider, &l.Instance.Directory,
		&app.ClientID, &app.ClientSecretEnv, &app.ClientSecretFile, &app.DefaultUsageLocation)
	if err != nil {
		return licensing.GraphLink{}, err
	}
	l.Instance.Graph = &app
	return l, nil
}

func linkNotFound(customerID, instanceID uuid.UUID) error {
	return licensing.Errorf(licensing.NotFound, "customer %s is not linked to graph provider instance %s", customerID, instanceID)
}

// GraphLinks returns every link of every tenant.
func (db *DB) GraphLinks(ctx context.Context) ([]licensing.GraphLink, error) {
	var out []licensing.GraphLink
	err := db.retry(ctx, func(ctx context.Context) error {
		rows, err := db.pool.Query(ctx, linkSelect+` ORDER BY pc.tenant COLLATE "C", pc.customer_id, pc.provider_instance_id`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (licensing.GraphLink, error) { return scanLink(r) })
		return err
	})
	if err != nil {
		return nil, classify(err, "read graph links")
	}
	if out == nil {
		out = []licensing.GraphLink{}
	}
	return out, nil
}

// GraphLink returns the customer's link to the instance, or NotFound.
func (db *DB) GraphLink(ctx context.Context, tenant string, customerID, instanceID uuid.UUID) (licensing.GraphLink, error) {
	tenant = licensing.NormalizeTenant(tenant)
	var l licensing.GraphLink
	err := db.retry(ctx, func(ctx context.Context) error {
		var err error
		l, err = scanLink(db.pool.QueryRow(ctx, linkSelect+` WHERE pc.tenant = $1 AND pc.customer_id = $2 AND pc.provider_instance_id = $3`,
			tenant, customerID, instanceID))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return licensing.GraphLink{}, linkNotFound(customerID, instanceID)
	}
	if err != nil {
		return licensing.GraphLink{}, classify(err, "read a graph link")
	}
	return l, nil
}

// checkLink fails with NotFound unless the link exists in the tenant. In
// a write it also takes a share lock on the link row, so that the link
// cannot change under the transaction.
func checkLink(ctx context.Context, q querier, link licensing.GraphLink, lock bool) error {
	query := `SELECT 1 FROM provider_customers pc
		JOIN provider_instances p ON p.id = pc.provider_instance_id AND p.directory = 'graph'
		WHERE pc.tenant = $1 AND pc.customer_id = $2 AND pc.provider_instance_id = $3`
	if lock {
		query += ` FOR SHARE OF pc`
	}
	var one int
	err := q.QueryRow(ctx, query, licensing.NormalizeTenant(link.Tenant), link.Customer.ID, link.Instance.ID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return linkNotFound(link.Customer.ID, link.Instance.ID)
	}
	return err
}

// lockMirror serializes the mirror's writes to one customer's users,
// licenses and assignments, until the transaction ends. Row locks alone do
// not suffice: two pages inserting the same new user race on the users'
// second unique key (customer_id, id), which ON CONFLICT (id) does not
// arbitrate, and fail with a unique violation (seen in the concurrent
// storetest), and a single-user write during MirrorLicenses could insert
// an assignment of a SKU being deleted. Writes of one customer queue here
// (they would queue on its rows anyway); other customers do not wait.
func lockMirror(ctx context.Context, tx pgx.Tx, customerID uuid.UUID) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('userlicenses/mirror/' || coalesce(current_schema(), '') || '/' || $1::text, 0))",
		customerID)
	return err
}

func compareIDs(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) }

// MirrorLicenses makes the customer's licenses under the instance exactly
// these, in one transaction of two round trips after the link check.
func (db *DB) MirrorLicenses(ctx context.Context, link licensing.GraphLink, ls []licensing.License) error {
	if err := licensing.CheckMirroredLicenses(ls); err != nil {
		return err
	}
	// Rows are written in SKU order, the order ApplyUserLicenses locks
	// them in, so that neither can wait on the other in a cycle.
	ls = slices.Clone(ls)
	slices.SortFunc(ls, func(a, b licensing.License) int { return compareIDs(a.SKUID, b.SKUID) })
	var (
		skus             = make([]uuid.UUID, len(ls))
		names            = make([]string, len(ls))
		totals, suspends = make([]int32, len(ls)), make([]int32, len(ls))
	)
	for i, l := range ls {
		skus[i], names[i], totals[i], suspends[i] = l.SKUID, l.Name, l.Total, l.Suspended
	}
	c, pi := link.Customer.ID, link.Instance.ID
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := checkLink(ctx, tx, link, true); err != nil {
			return err
		}
		if err := lockMirror(ctx, tx, link.Customer.ID); err != nil {
			return err
		}
		var b pgx.Batch
		b.Queue(`
			INSERT INTO licenses (customer_id, provider_instance_id, sku_id, name, total, suspended)
			SELECT $1, $2, l.sku, l.name, l.total, l.suspended
			FROM unnest($3::uuid[], $4::text[], $5::integer[], $6::integer[]) AS l(sku, name, total, suspended)
			ON CONFLICT (customer_id, provider_instance_id, sku_id) DO UPDATE SET
				name = EXCLUDED.name, total = EXCLUDED.total, suspended = EXCLUDED.suspended
			WHERE (licenses.name, licenses.total, licenses.suspended)
				IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.total, EXCLUDED.suspended)`,
			c, pi, skus, names, totals, suspends)
		// Through the few dropped license rows, so that the primary key
		// finds their assignments instead of a scan of every assignment of
		// the customer on every sync.
		b.Queue(`DELETE FROM assignments a USING licenses l
			WHERE l.customer_id = $1 AND l.provider_instance_id = $2 AND NOT (l.sku_id = ANY($3))
			  AND a.customer_id = l.customer_id AND a.provider_instance_id = l.provider_instance_id AND a.sku_id = l.sku_id`, c, pi, skus)
		b.Queue(`DELETE FROM licenses WHERE customer_id = $1 AND provider_instance_id = $2 AND NOT (sku_id = ANY($3))`, c, pi, skus)
		return tx.SendBatch(ctx, &b).Close()
	})
	return classify(err, "mirror licenses")
}

// MirrorUsers writes a page of mirrored users in one transaction with
// array parameters (unnest): the page's upsert in one statement, then its
// assignments and removals in one batch, whatever the page's size.
func (db *DB) MirrorUsers(ctx context.Context, link licensing.GraphLink, users []licensing.MirroredUser, removed []uuid.UUID) error {
	users = licensing.LastPerUser(users)
	// Upserting in id order keeps two concurrent pages of one customer
	// from locking each other's rows in a cycle.
	slices.SortFunc(users, func(a, b licensing.MirroredUser) int { return compareIDs(a.ID, b.ID) })
	var (
		ids              = make([]uuid.UUID, len(users))
		names, upns, loc = make([]string, len(users)), make([]string, len(users)), make([]string, len(users))
		skus             = make([][]uuid.UUID, len(users)) // each user's, once each
		pairUser         []uuid.UUID
		pairSKU          []uuid.UUID
	)
	for i, u := range users {
		ids[i], names[i], upns[i], loc[i] = u.ID, u.DisplayName, u.UserPrincipalName, u.UsageLocation
		skus[i] = []uuid.UUID{}
		for _, s := range u.SKUs {
			if !slices.Contains(skus[i], s) {
				skus[i] = append(skus[i], s)
				pairUser, pairSKU = append(pairUser, u.ID), append(pairSKU, s)
			}
		}
	}
	c, pi := link.Customer.ID, link.Instance.ID
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := checkLink(ctx, tx, link, true); err != nil {
			return err
		}
		if err := lockMirror(ctx, tx, link.Customer.ID); err != nil {
			return err
		}
		now := db.now().UTC().Truncate(time.Microsecond) // what timestamptz keeps
		if len(users) > 0 {
			// A user of another customer is not updated (the WHERE), so it
			// is missing from RETURNING.
			rows, err := tx.Query(ctx, `
				INSERT INTO users (id, customer_id, display_name, user_principal_name, usage_location, mirror_instance_id, mirrored_at)
				SELECT u.id, $1, u.display_name, u.upn, u.loc, $2, $3
				FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[]) AS u(id, display_name, upn, loc)
				ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name,
					user_principal_name = EXCLUDED.user_principal_name, usage_location = EXCLUDED.usage_location,
					mirror_instance_id = EXCLUDED.mirror_instance_id, mirrored_at = EXCLUDED.mirrored_at
				WHERE users.customer_id = EXCLUDED.customer_id
				RETURNING id`, c, pi, now, ids, names, upns, loc)
			if err != nil {
				return err
			}
			written, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			if err != nil {
				return err
			}
			if len(written) < len(ids) {
				mine := make(map[uuid.UUID]bool, len(written))
				for _, id := range written {
					mine[id] = true
				}
				var foreign []uuid.UUID
				for _, id := range ids {
					if !mine[id] {
						foreign = append(foreign, id)
					}
				}
				return licensing.ForeignUsers(c, foreign)
			}
		}
		var b pgx.Batch
		// The stale assignments of each user go by one statement per
		// user, all in one batch (one round trip). A set-based DELETE
		// (joined to unnest, or filtered by user_id = ANY) was planned from
		// statistics that lag behind a first pass, which adds thousands of
		// rows per page: the planner then scanned every assignment of the
		// customer once per user, quadratic over a pass (measured with
		// BenchmarkMirrorUsers: 1.6 s a page on average over 40 pages, up
		// to 2.3 s, then statement timeouts). A per-user statement has one
		// plan whatever the statistics say: an index probe on
		// assignments_user.
		for i, u := range users {
			b.Queue(`DELETE FROM assignments WHERE customer_id = $1 AND provider_instance_id = $2 AND user_id = $3
				AND NOT (sku_id = ANY($4::uuid[]))`, c, pi, u.ID, skus[i])
		}
		if len(pairUser) > 0 {
			// Only SKUs with a mirrored license: the join drops the others
			// (licenses holds a few rows per customer; every plan is cheap).
			b.Queue(`
				INSERT INTO assignments (customer_id, provider_instance_id, sku_id, user_id)
				SELECT l.customer_id, l.provider_instance_id, l.sku_id, p.user_id
				FROM unnest($3::uuid[], $4::uuid[]) AS p(user_id, sku_id)
				JOIN licenses l ON l.customer_id = $1 AND l.provider_instance_id = $2 AND l.sku_id = p.sku_id
				ON CONFLICT DO NOTHING`,
				c, pi, pairUser, pairSKU)
		}
		queueDeleteUsers(&b, c, removed)
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	return classify(err, "mirror users")
}

// queueDeleteUsers queues the deletion of the customer's users with these
// ids, assignments first (they reference the users), per user for the
// reason MirrorUsers gives. Audit records do not reference users, so they
// stay. The last statement queued deletes the users.
func queueDeleteUsers(b *pgx.Batch, customerID uuid.UUID, ids []uuid.UUID) {
	if len(ids) == 0 {
		return
	}
	for _, id := range ids {
		b.Queue(`DELETE FROM assignments WHERE customer_id = $1 AND user_id = $2`, customerID, id)
	}
	// The primary key finds each user.
	b.Queue(`DELETE FROM users WHERE customer_id = $1 AND id = ANY($2::uuid[])`, customerID, ids)
}

// PruneUsers deletes the users the link's mirror has not seen since
// seenSince, with their assignments, in one transaction.
func (db *DB) PruneUsers(ctx context.Context, link licensing.GraphLink, seenSince time.Time) (int, error) {
	// mirrored_at keeps microseconds: compare at that precision, or a user
	// seen in the microsecond of seenSince would count as older.
	since := seenSince.UTC().Truncate(time.Microsecond)
	var n int
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := checkLink(ctx, tx, link, true); err != nil {
			return err
		}
		if err := lockMirror(ctx, tx, link.Customer.ID); err != nil {
			return err
		}
		// The users first (users_mirror finds them among the customer's),
		// then their deletion in one batch.
		rows, err := tx.Query(ctx, `SELECT id FROM users WHERE customer_id = $1 AND (mirror_instance_id IS NULL OR (mirror_instance_id = $2 AND mirrored_at < $3))
			ORDER BY id`, link.Customer.ID, link.Instance.ID, since)
		if err != nil {
			return err
		}
		stale, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil || len(stale) == 0 {
			n = 0
			return err
		}
		var b pgx.Batch
		queueDeleteUsers(&b, link.Customer.ID, stale)
		br := tx.SendBatch(ctx, &b)
		for range b.Len() - 1 {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return err
			}
		}
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return err
		}
		n = int(tag.RowsAffected())
		return br.Close()
	})
	if err != nil {
		return 0, classify(err, "prune mirrored users")
	}
	return n, nil
}

// MirroredUser returns a user of the link's customer with the SKUs it holds
// under the link's instance, from one snapshot.
func (db *DB) MirroredUser(ctx context.Context, link licensing.GraphLink, userID uuid.UUID) (licensing.MirroredUser, error) {
	var u licensing.MirroredUser
	err := db.retry(ctx, func(ctx context.Context) error {
		u = licensing.MirroredUser{User: licensing.User{ID: userID}}
		return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			if err := checkLink(ctx, tx, link, false); err != nil {
				return err
			}
			err := tx.QueryRow(ctx, `SELECT display_name, user_principal_name, usage_location FROM users WHERE id = $1 AND customer_id = $2`,
				userID, link.Customer.ID).Scan(&u.DisplayName, &u.UserPrincipalName, &u.UsageLocation)
			if errors.Is(err, pgx.ErrNoRows) {
				return licensing.Errorf(licensing.NotFound, "user %s not found", userID)
			}
			if err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT sku_id FROM assignments
				WHERE customer_id = $1 AND provider_instance_id = $2 AND user_id = $3 ORDER BY sku_id`,
				link.Customer.ID, link.Instance.ID, userID)
			if err != nil {
				return err
			}
			u.SKUs, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			return err
		})
	})
	if err != nil {
		return licensing.MirroredUser{}, classify(err, "read a mirrored user")
	}
	if u.SKUs == nil {
		u.SKUs = []uuid.UUID{}
	}
	return u, nil
}

// SyncState returns the link's sync state in one statement: no row means
// no link, a link without a graph_sync row was never synced.
func (db *DB) SyncState(ctx context.Context, link licensing.GraphLink) (licensing.SyncState, error) {
	var (
		delta *string
		at    *time.Time
	)
	err := db.retry(ctx, func(ctx context.Context) error {
		return db.pool.QueryRow(ctx, `SELECT g.delta_link, g.synced_at FROM provider_customers pc
			JOIN provider_instances p ON p.id = pc.provider_instance_id AND p.directory = 'graph'
			LEFT JOIN graph_sync g ON g.customer_id = pc.customer_id AND g.provider_instance_id = pc.provider_instance_id
			WHERE pc.tenant = $1 AND pc.customer_id = $2 AND pc.provider_instance_id = $3`,
			licensing.NormalizeTenant(link.Tenant), link.Customer.ID, link.Instance.ID).Scan(&delta, &at)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return licensing.SyncState{}, linkNotFound(link.Customer.ID, link.Instance.ID)
	}
	if err != nil {
		return licensing.SyncState{}, classify(err, "read a sync state")
	}
	var s licensing.SyncState
	if delta != nil {
		s.DeltaLink = *delta
	}
	if at != nil {
		s.SyncedAt = at.UTC()
	}
	return s, nil
}

// SetSyncState records the link's sync state.
func (db *DB) SetSyncState(ctx context.Context, link licensing.GraphLink, s licensing.SyncState) error {
	var at *time.Time
	if !s.SyncedAt.IsZero() {
		t := s.SyncedAt.UTC().Truncate(time.Microsecond)
		at = &t
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := checkLink(ctx, tx, link, true); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO graph_sync (customer_id, provider_instance_id, delta_link, synced_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (customer_id, provider_instance_id) DO UPDATE SET delta_link = EXCLUDED.delta_link, synced_at = EXCLUDED.synced_at`,
			link.Customer.ID, link.Instance.ID, s.DeltaLink, at)
		return err
	})
	return classify(err, "record a sync state")
}

// SetAuditStatus resolves the tenant's Processing records with these ids.
func (db *DB) SetAuditStatus(ctx context.Context, tenant string, ids []uuid.UUID, status licensing.Status, reason string) error {
	if err := licensing.CheckOutcome(status); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE audit_records SET status = $1, reason = $2
			WHERE tenant = $3 AND status = $4 AND id = ANY($5)`,
			string(status), reason, licensing.NormalizeTenant(tenant), string(licensing.StatusProcessing), ids)
		return err
	})
	return classify(err, "record audit outcomes")
}

// ProcessingRecords returns the link's records still Processing, oldest
// first (the partial index audit_records_processing serves it).
func (db *DB) ProcessingRecords(ctx context.Context, link licensing.GraphLink) ([]licensing.AuditRecord, error) {
	var out []licensing.AuditRecord
	err := db.retry(ctx, func(ctx context.Context) error {
		return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			if err := checkLink(ctx, tx, link, false); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `
				SELECT id, created_at, tenant, actor, correlation_id, operation, status, customer_id, customer_name,
				       reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name, reason
				FROM audit_records
				WHERE tenant = $1 AND customer_id = $2 AND provider_instance_id = $3 AND status = 'Processing'
				ORDER BY created_at, seq`, licensing.NormalizeTenant(link.Tenant), link.Customer.ID, link.Instance.ID)
			if err != nil {
				return err
			}
			out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (licensing.AuditRecord, error) {
				var (
					rec       licensing.AuditRecord
					op, state string
				)
				err := r.Scan(&rec.ID, &rec.CreatedAt, &rec.Tenant, &rec.Actor, &rec.CorrelationID, &op, &state,
					&rec.CustomerID, &rec.CustomerName, &rec.ResellerID, &rec.ResellerName, &rec.UserID, &rec.ProviderInstanceID,
					&rec.SKUID, &rec.SKUName, &rec.Reason)
				rec.CreatedAt = rec.CreatedAt.UTC()
				rec.Operation, rec.Status = licensing.Operation(op), licensing.Status(state)
				return rec, err
			})
			return err
		})
	})
	if err != nil {
		return nil, classify(err, "read processing audit records")
	}
	if out == nil {
		out = []licensing.AuditRecord{}
	}
	return out, nil
}
