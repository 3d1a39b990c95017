package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

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

func scanLink(row interface{ Scan(...any) error }) (licensing.GraphLink, error) {
	var (
		l        licensing.GraphLink
		reseller uuid.NullUUID
		app      licensing.GraphApp
	)
	err := row.Scan(&l.Tenant, &l.MicrosoftTenantID, &l.Customer.ID, &l.Customer.Name, &reseller, &l.Customer.ResellerName,
		&l.Instance.ID, &l.Instance.Name, &l.Instance.Provider, &l.Instance.Directory,
		&app.ClientID, &app.ClientSecretEnv, &app.ClientSecretFile, &app.DefaultUsageLocation)
	if err != nil {
		return licensing.GraphLink{}, err
	}
	if reseller.Valid {
		id := reseller.UUID
		l.Customer.ResellerID = &id
	}
	l.Instance.Graph = &app
	return l, nil
}

func linkNotFound(customerID, instanceID uuid.UUID) error {
	return licensing.Errorf(licensing.NotFound, "customer %s is not linked to graph provider instance %s", customerID, instanceID)
}

// GraphLinks returns every link of every tenant.
func (db *DB) GraphLinks(ctx context.Context) ([]licensing.GraphLink, error) {
	rows, err := db.read.QueryContext(ctx, linkSelect+` ORDER BY pc.tenant, pc.customer_id, pc.provider_instance_id`)
	if err != nil {
		return nil, dbError(err, "reading graph links")
	}
	defer rows.Close()
	out := []licensing.GraphLink{}
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, dbError(err, "reading graph links")
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err, "reading graph links")
	}
	return out, nil
}

// GraphLink returns the customer's link to the instance, or NotFound.
func (db *DB) GraphLink(ctx context.Context, tenant string, customerID, instanceID uuid.UUID) (licensing.GraphLink, error) {
	l, err := scanLink(db.read.QueryRowContext(ctx, linkSelect+` WHERE pc.tenant = ? AND pc.customer_id = ? AND pc.provider_instance_id = ?`,
		licensing.NormalizeTenant(tenant), customerID, instanceID))
	if errors.Is(err, sql.ErrNoRows) {
		return licensing.GraphLink{}, linkNotFound(customerID, instanceID)
	}
	if err != nil {
		return licensing.GraphLink{}, dbError(err, "reading a graph link")
	}
	return l, nil
}

// checkLink fails with NotFound unless the link exists in the tenant.
func checkLink(ctx context.Context, q queryer, link licensing.GraphLink) error {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM provider_customers pc
		JOIN provider_instances p ON p.id = pc.provider_instance_id AND p.directory = 'graph'
		WHERE pc.tenant = ? AND pc.customer_id = ? AND pc.provider_instance_id = ?`,
		licensing.NormalizeTenant(link.Tenant), link.Customer.ID, link.Instance.ID).Scan(&n)
	if err != nil {
		return dbError(err, "reading a graph link")
	}
	if n == 0 {
		return linkNotFound(link.Customer.ID, link.Instance.ID)
	}
	return nil
}

// inWrite runs fn in one immediate transaction on the writer and commits.
func (db *DB) inWrite(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return dbError(err, "starting to "+what)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return dbError(err, what)
	}
	if err := tx.Commit(); err != nil {
		return dbError(err, "committing "+what)
	}
	return nil
}

// inRead runs fn in one read transaction, so that its reads agree.
func (db *DB) inRead(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return dbError(err, "starting to "+what)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return dbError(err, what)
	}
	return nil
}

// jsonIDs renders ids as a JSON array of canonical uuid strings, the form
// stored, for json_each: one statement takes a whole set. It is "[]" for
// none (json_each('null') would yield one NULL row).
func jsonIDs(ids []uuid.UUID) string {
	var b strings.Builder
	b.Grow(2 + 39*len(ids))
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(id.String())
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}

// MirrorLicenses makes the customer's licenses under the instance exactly
// these, in one commit.
func (db *DB) MirrorLicenses(ctx context.Context, link licensing.GraphLink, ls []licensing.License) error {
	if err := licensing.CheckMirroredLicenses(ls); err != nil {
		return err
	}
	skus := make([]uuid.UUID, len(ls))
	for i, l := range ls {
		skus[i] = l.SKUID
	}
	c, pi := link.Customer.ID, link.Instance.ID
	return db.inWrite(ctx, "mirror licenses", func(tx *sql.Tx) error {
		if err := checkLink(ctx, tx, link); err != nil {
			return err
		}
		upsert, err := tx.PrepareContext(ctx, `
			INSERT INTO licenses (customer_id, provider_instance_id, sku_id, name, total, suspended) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (customer_id, provider_instance_id, sku_id) DO UPDATE SET
				name = excluded.name, total = excluded.total, suspended = excluded.suspended
			WHERE (name, total, suspended) IS NOT (excluded.name, excluded.total, excluded.suspended)`)
		if err != nil {
			return err
		}
		defer upsert.Close()
		for _, l := range ls {
			if _, err := upsert.ExecContext(ctx, c, pi, l.SKUID, l.Name, l.Total, l.Suspended); err != nil {
				return err
			}
		}
		keep := jsonIDs(skus)
		// Through the few dropped license rows, so that the primary key
		// finds their assignments instead of a scan of every assignment of
		// the customer on every sync.
		if _, err := tx.ExecContext(ctx, `DELETE FROM assignments WHERE customer_id = ? AND provider_instance_id = ?
			AND sku_id IN (SELECT sku_id FROM licenses WHERE customer_id = ? AND provider_instance_id = ?
				AND sku_id NOT IN (SELECT value FROM json_each(?)))`, c, pi, c, pi, keep); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM licenses WHERE customer_id = ? AND provider_instance_id = ?
			AND sku_id NOT IN (SELECT value FROM json_each(?))`, c, pi, keep)
		return err
	})
}

// MirrorUsers writes a page of mirrored users in one commit, with
// statements prepared once for the page: a full pass of 100,000 users is
// about a hundred commits, each of a few thousand in-process statements.
func (db *DB) MirrorUsers(ctx context.Context, link licensing.GraphLink, users []licensing.MirroredUser, removed []uuid.UUID) error {
	users = licensing.LastPerUser(users)
	c, pi := link.Customer.ID, link.Instance.ID
	return db.inWrite(ctx, "mirror users", func(tx *sql.Tx) error {
		if err := checkLink(ctx, tx, link); err != nil {
			return err
		}
		now := nanos(db.now())
		upsert, err := tx.PrepareContext(ctx, `
			INSERT INTO users (id, customer_id, display_name, user_principal_name, display_key, upn_key,
				usage_location, mirror_instance_id, mirrored_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
				user_principal_name = excluded.user_principal_name, display_key = excluded.display_key,
				upn_key = excluded.upn_key, usage_location = excluded.usage_location,
				mirror_instance_id = excluded.mirror_instance_id, mirrored_at = excluded.mirrored_at
			WHERE users.customer_id = excluded.customer_id`)
		if err != nil {
			return err
		}
		defer upsert.Close()
		stale, err := tx.PrepareContext(ctx, `DELETE FROM assignments
			WHERE customer_id = ? AND provider_instance_id = ? AND user_id = ? AND sku_id NOT IN (SELECT value FROM json_each(?))`)
		if err != nil {
			return err
		}
		defer stale.Close()
		// Only SKUs with a mirrored license: the join drops the others.
		add, err := tx.PrepareContext(ctx, `
			INSERT INTO assignments (customer_id, provider_instance_id, sku_id, user_id)
			SELECT l.customer_id, l.provider_instance_id, l.sku_id, ? FROM licenses l
			WHERE l.customer_id = ? AND l.provider_instance_id = ? AND l.sku_id IN (SELECT value FROM json_each(?))
			ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer add.Close()
		var foreign []uuid.UUID
		for _, u := range users {
			res, err := upsert.ExecContext(ctx, u.ID, c, u.DisplayName, u.UserPrincipalName,
				strings.ToLower(u.DisplayName), strings.ToLower(u.UserPrincipalName), u.UsageLocation, pi, now)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				foreign = append(foreign, u.ID)
				continue
			}
			skus := jsonIDs(u.SKUs)
			if _, err := stale.ExecContext(ctx, c, pi, u.ID, skus); err != nil {
				return err
			}
			if _, err := add.ExecContext(ctx, u.ID, c, pi, skus); err != nil {
				return err
			}
		}
		if len(foreign) > 0 {
			return licensing.ForeignUsers(c, foreign)
		}
		if len(removed) == 0 {
			return nil
		}
		_, err = deleteUsers(ctx, tx, c, jsonIDs(removed), `SELECT value FROM json_each(?)`)
		return err
	})
}

// deleteUsers deletes the customer's users whose ids the subquery (one
// parameter, arg) selects, assignments first: they reference the users.
// Audit records do not, so they stay.
func deleteUsers(ctx context.Context, tx *sql.Tx, customerID uuid.UUID, arg any, subquery string, more ...any) (int, error) {
	args := append([]any{customerID, arg}, more...)
	if _, err := tx.ExecContext(ctx, `DELETE FROM assignments WHERE customer_id = ? AND user_id IN (`+subquery+`)`, args...); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE customer_id = ? AND id IN (`+subquery+`)`, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// PruneUsers deletes the users the link's mirror has not seen since
// seenSince, with their assignments, in one commit.
func (db *DB) PruneUsers(ctx context.Context, link licensing.GraphLink, seenSince time.Time) (int, error) {
	var n int
	err := db.inWrite(ctx, "prune mirrored users", func(tx *sql.Tx) error {
		if err := checkLink(ctx, tx, link); err != nil {
			return err
		}
		var err error
		n, err = deleteUsers(ctx, tx, link.Customer.ID, link.Customer.ID,
			`SELECT id FROM users WHERE customer_id = ? AND (mirror_instance_id IS NULL OR (mirror_instance_id = ? AND mirrored_at < ?))`,
			link.Instance.ID, nanos(seenSince))
		return err
	})
	return n, err
}

// MirroredUser returns a user of the link's customer with the SKUs it holds
// under the link's instance.
func (db *DB) MirroredUser(ctx context.Context, link licensing.GraphLink, userID uuid.UUID) (licensing.MirroredUser, error) {
	u := licensing.MirroredUser{User: licensing.User{ID: userID}, SKUs: []uuid.UUID{}}
	err := db.inRead(ctx, "read a mirrored user", func(tx *sql.Tx) error {
		if err := checkLink(ctx, tx, link); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT display_name, user_principal_name, usage_location FROM users WHERE id = ? AND customer_id = ?`,
			userID, link.Customer.ID).Scan(&u.DisplayName, &u.UserPrincipalName, &u.UsageLocation)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user", userID)
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT sku_id FROM assignments
			WHERE customer_id = ? AND provider_instance_id = ? AND user_id = ? ORDER BY sku_id`,
			link.Customer.ID, link.Instance.ID, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sku uuid.UUID
			if err := rows.Scan(&sku); err != nil {
				return err
			}
			u.SKUs = append(u.SKUs, sku)
		}
		return rows.Err()
	})
	if err != nil {
		return licensing.MirroredUser{}, err
	}
	return u, nil
}

// SyncState returns the link's sync state in one statement: no row means
// no link, a link without a graph_sync row was never synced.
func (db *DB) SyncState(ctx context.Context, link licensing.GraphLink) (licensing.SyncState, error) {
	var (
		delta sql.NullString
		at    sql.NullInt64
	)
	err := db.read.QueryRowContext(ctx, `SELECT g.delta_link, g.synced_at FROM provider_customers pc
		JOIN provider_instances p ON p.id = pc.provider_instance_id AND p.directory = 'graph'
		LEFT JOIN graph_sync g ON g.customer_id = pc.customer_id AND g.provider_instance_id = pc.provider_instance_id
		WHERE pc.tenant = ? AND pc.customer_id = ? AND pc.provider_instance_id = ?`,
		licensing.NormalizeTenant(link.Tenant), link.Customer.ID, link.Instance.ID).Scan(&delta, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return licensing.SyncState{}, linkNotFound(link.Customer.ID, link.Instance.ID)
	}
	if err != nil {
		return licensing.SyncState{}, dbError(err, "reading a sync state")
	}
	s := licensing.SyncState{DeltaLink: delta.String}
	if at.Valid {
		s.SyncedAt = time.Unix(0, at.Int64).UTC()
	}
	return s, nil
}

// SetSyncState records the link's sync state, SyncedAt to the microsecond
// as on PostgreSQL.
func (db *DB) SetSyncState(ctx context.Context, link licensing.GraphLink, s licensing.SyncState) error {
	var at sql.NullInt64
	if !s.SyncedAt.IsZero() {
		at = sql.NullInt64{Int64: nanos(s.SyncedAt.Truncate(time.Microsecond)), Valid: true}
	}
	return db.inWrite(ctx, "record a sync state", func(tx *sql.Tx) error {
		if err := checkLink(ctx, tx, link); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO graph_sync (customer_id, provider_instance_id, delta_link, synced_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (customer_id, provider_instance_id) DO UPDATE SET delta_link = excluded.delta_link, synced_at = excluded.synced_at`,
			link.Customer.ID, link.Instance.ID, s.DeltaLink, at)
		return err
	})
}

// SetAuditStatus resolves the tenant's Processing records with these ids.
func (db *DB) SetAuditStatus(ctx context.Context, tenant string, ids []uuid.UUID, status licensing.Status, reason string) error {
	if err := licensing.CheckOutcome(status); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	return db.inWrite(ctx, "record audit outcomes", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE audit_records SET status = ?, reason = ?
			WHERE tenant = ? AND status = ? AND id IN (SELECT value FROM json_each(?))`,
			string(status), reason, licensing.NormalizeTenant(tenant), string(licensing.StatusProcessing), jsonIDs(ids))
		return err
	})
}

// ProcessingRecords returns the link's records still Processing, oldest
// first (the partial index audit_processing serves it).
func (db *DB) ProcessingRecords(ctx context.Context, link licensing.GraphLink) ([]licensing.AuditRecord, error) {
	out := []licensing.AuditRecord{}
	err := db.inRead(ctx, "read processing audit records", func(tx *sql.Tx) error {
		if err := checkLink(ctx, tx, link); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT id, created_at, tenant, actor, correlation_id, operation, status, customer_id, customer_name,
			       reseller_id, reseller_name, user_id, provider_instance_id, sku_id, sku_name, reason
			FROM audit_records
			WHERE tenant = ? AND customer_id = ? AND provider_instance_id = ? AND status = 'Processing'
			ORDER BY created_at, seq`, licensing.NormalizeTenant(link.Tenant), link.Customer.ID, link.Instance.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanAudit(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
