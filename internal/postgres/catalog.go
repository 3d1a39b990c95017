package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// ProviderInstance returns the tenant's provider instance, or NotFound.
func (db *DB) ProviderInstance(ctx context.Context, tenant string, id uuid.UUID) (licensing.ProviderInstance, error) {
	tenant = licensing.NormalizeTenant(tenant)
	var pi licensing.ProviderInstance
	err := db.retry(ctx, func(ctx context.Context) error {
		var err error
		pi, err = scanInstance(db.pool.QueryRow(ctx,
			"SELECT "+instanceColumns+" FROM provider_instances p WHERE p.id = $1 AND p.tenant = $2", id, tenant))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return pi, licensing.Errorf(licensing.NotFound, "provider instance %s not found", id)
	}
	return pi, classify(err, "read a provider instance")
}

// instanceColumns are the columns scanInstance reads, of provider_instances p.
const instanceColumns = `p.id, p.name, p.provider, p.directory, p.graph_client_id, p.graph_secret_env,
	p.graph_secret_file, p.graph_default_usage_location`

// scanInstance reads instanceColumns. A local instance has Directory
// "local" and no Graph; a graph instance carries its app settings.
func scanInstance(row pgx.Row) (licensing.ProviderInstance, error) {
	var (
		pi  licensing.ProviderInstance
		app licensing.GraphApp
	)
	if err := row.Scan(&pi.ID, &pi.Name, &pi.Provider, &pi.Directory, &app.ClientID, &app.ClientSecretEnv,
		&app.ClientSecretFile, &app.DefaultUsageLocation); err != nil {
		return licensing.ProviderInstance{}, err
	}
	if pi.IsGraph() {
		pi.Graph = &app
	}
	return pi, nil
}

// Customer returns the tenant's customer, or NotFound.
func (db *DB) Customer(ctx context.Context, tenant string, id uuid.UUID) (licensing.Customer, error) {
	tenant = licensing.NormalizeTenant(tenant)
	var c licensing.Customer
	err := db.retry(ctx, func(ctx context.Context) error {
		return db.pool.QueryRow(ctx,
			"SELECT id, name, reseller_id, reseller_name FROM customers WHERE id = $1 AND tenant = $2",
			id, tenant).Scan(&c.ID, &c.Name, &c.ResellerID, &c.ResellerName)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return c, licensing.Errorf(licensing.NotFound, "customer %s not found", id)
	}
	return c, classify(err, "read a customer")
}

// User returns a user of the tenant's customer, or NotFound.
func (db *DB) User(ctx context.Context, tenant string, customerID, userID uuid.UUID) (licensing.User, error) {
	tenant = licensing.NormalizeTenant(tenant)
	var u licensing.User
	err := db.retry(ctx, func(ctx context.Context) error {
		return db.pool.QueryRow(ctx, `
			SELECT u.id, u.display_name, u.user_principal_name
			FROM users u JOIN customers c ON c.id = u.customer_id
			WHERE u.id = $1 AND u.customer_id = $2 AND c.tenant = $3`,
			userID, customerID, tenant).Scan(&u.ID, &u.DisplayName, &u.UserPrincipalName)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return u, licensing.Errorf(licensing.NotFound, "user %s not found", userID)
	}
	return u, classify(err, "read a user")
}

// Users returns one page of the customer's users, sorted by display name
// (or user principal name) in byte order, then id, so that pages never
// overlap; Search matches either name case-insensitively. A customer
// outside the tenant has no users (existence is Customer's question).
func (db *DB) Users(ctx context.Context, tenant string, customerID uuid.UUID, q licensing.UserQuery) (licensing.UserPage, error) {
	tenant = licensing.NormalizeTenant(tenant)
	key := `u.display_name`
	if q.Sort == licensing.SortUserPrincipalName {
		key = `u.user_principal_name`
	}
	order := key + ` COLLATE "C", u.id`
	pattern := containsPattern(q.Search)
	var page licensing.UserPage
	err := db.retry(ctx, func(ctx context.Context) error {
		page = licensing.UserPage{Items: []licensing.User{}}
		if !q.Last || q.Page.Size <= 0 {
			// One statement reads the total and the page, so they agree.
			return db.usersPage(ctx, db.pool, &page, tenant, customerID, q, key, order, pattern)
		}
		// The last page's size depends on the total: the two are read in
		// one snapshot, in two statements.
		tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		return db.usersPage(ctx, tx, &page, tenant, customerID, q, key, order, pattern)
	})
	if err != nil {
		return licensing.UserPage{}, classify(err, "list users")
	}
	return page, nil
}

// searchPlan makes a search statement planned for its pattern: a generic
// plan cannot know how selective the pattern is and scanned the customer's
// users (7 searches/s at 100k); planned for the pattern, the trigram
// indexes serve it. An unnamed statement is planned with its parameters.
const searchPlan = pgx.QueryExecModeExec

// usersPage reads one page and the total. Keyset pages (After, Before,
// Last) start from a position in the (customer, key, id) index instead of
// skipping OFFSET rows, so a page costs the same at any depth; backwards
// reads the index in reverse. Except for Last, whose size depends on the
// total, the total and the page are one statement (one round trip, and
// with a search one evaluation of the matches instead of two: the count
// and the page each ran them).
func (db *DB) usersPage(ctx context.Context, q querier, page *licensing.UserPage, tenant string, customerID uuid.UUID,
	uq licensing.UserQuery, key, order, pattern string) error {
	limit, offset := pageBounds(uq.Page)
	filter := `TRUE`
	args := []any{customerID, tenant}
	// from is the customer's users, or with a search its matches (either
	// name, lowercased when written, 0007): found first through the
	// trigram indexes, as a MATERIALIZED CTE, so that the planner cannot
	// walk the users in list order probing each (it did: 100k users read
	// for a page of 10). A search's statements are planned for their
	// pattern (searchPlan).
	var mode []any
	from := `users u JOIN customers c ON c.id = u.customer_id AND c.tenant = $2 WHERE u.customer_id = $1`
	with := ``
	if pattern != "" {
		with = `WITH m AS MATERIALIZED (
			SELECT u.id, u.display_name, u.user_principal_name
			FROM users u JOIN customers c ON c.id = u.customer_id AND c.tenant = $2
			WHERE u.customer_id = $1
			  AND (u.display_name_lower LIKE lower($3) ESCAPE '\' OR u.user_principal_name_lower LIKE lower($3) ESCAPE '\')) `
		from = `m u WHERE TRUE`
		args = append(args, pattern)
		mode = []any{searchPlan}
	}
	countSQL := `SELECT coalesce((SELECT user_count FROM customers WHERE id = $1 AND tenant = $2), 0)`
	if pattern != "" {
		countSQL = `SELECT count(*) FROM m`
	}
	last := uq.Last && uq.Page.Size > 0
	if last {
		var total int64
		if err := q.QueryRow(ctx, with+countSQL, append(mode, args...)...).Scan(&total); err != nil {
			return err
		}
		page.Total = int(total)
	}
	reverse := false
	n := len(args)
	switch {
	case uq.After != nil:
		filter += fmt.Sprintf(` AND (%s COLLATE "C", u.id) > ($%d, $%d)`, key, n+1, n+2)
		args = append(args, uq.After.Key, uq.After.ID)
		offset = 0
	case uq.Before != nil:
		filter += fmt.Sprintf(` AND (%s COLLATE "C", u.id) < ($%d, $%d)`, key, n+1, n+2)
		args = append(args, uq.Before.Key, uq.Before.ID)
		offset, reverse = 0, true
	case last:
		page.Number = max(1, (page.Total+uq.Page.Size-1)/uq.Page.Size)
		l := int64(page.Total - (page.Number-1)*uq.Page.Size)
		limit, offset, reverse = &l, 0, true
	}
	if reverse {
		order = key + ` COLLATE "C" DESC, u.id DESC`
	}
	n = len(args)
	pageSQL := fmt.Sprintf(`SELECT u.id, u.display_name, u.user_principal_name
		FROM %s AND %s
		ORDER BY %s
		LIMIT $%d OFFSET $%d`, from, filter, order, n+1, n+2)
	args = append(args, limit, offset)
	if last {
		pageSQL = with + `SELECT NULL::bigint, u.* FROM (` + pageSQL + `) u ORDER BY ` + order
	} else {
		// One row with the total and NULLs when the page is empty.
		pageSQL = fmt.Sprintf(`%sSELECT t.total, u.id, u.display_name, u.user_principal_name
		FROM (%s) t(total) LEFT JOIN LATERAL (%s) u ON TRUE
		ORDER BY %s`, with, countSQL, pageSQL, order)
	}
	rows, err := q.Query(ctx, pageSQL, append(mode, args...)...)
	if err != nil {
		return err
	}
	var (
		total     *int64
		id        uuid.NullUUID
		name, upn *string
	)
	if _, err := pgx.ForEachRow(rows, []any{&total, &id, &name, &upn}, func() error {
		if total != nil {
			page.Total = int(*total)
		}
		if id.Valid {
			page.Items = append(page.Items, licensing.User{ID: id.UUID, DisplayName: *name, UserPrincipalName: *upn})
		}
		return nil
	}); err != nil {
		return err
	}
	if reverse {
		slices.Reverse(page.Items)
	}
	return nil
}

// pageBounds turns a page into LIMIT and OFFSET; a page without a size
// means everything (LIMIT NULL).
func pageBounds(p licensing.Page) (limit *int64, offset int64) {
	if p.Size > 0 {
		l := int64(p.Size)
		limit = &l
		if p.Number > 1 {
			offset = int64(p.Number-1) * l
		}
	}
	return limit, offset
}

// containsPattern returns an ILIKE pattern matching s anywhere, with the
// pattern characters in s taken literally, or "" for an empty s.
func containsPattern(s string) string {
	if s == "" {
		return ""
	}
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
