package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// queryer is what both *sql.DB and *sql.Tx offer, so that the reads the
// write path needs are the same code as the public reads.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func notFound(kind string, id uuid.UUID) error {
	return licensing.Errorf(licensing.NotFound, "no %s %s", kind, id)
}

// ProviderInstance returns the tenant's provider instance, from the read
// cache when the database has not changed since it was read (readcache.go).
func (db *DB) ProviderInstance(ctx context.Context, tenant string, id uuid.UUID) (licensing.ProviderInstance, error) {
	return cachedRead(ctx, db, "provider instance", entityKey{licensing.NormalizeTenant(tenant), id}, cloneInstance, noItems,
		func() (licensing.ProviderInstance, error) {
			sctx, leave, err := db.enterRead(ctx)
			if err != nil {
				return licensing.ProviderInstance{}, err
			}
			defer leave()
			return providerInstance(sctx, pooled{db.readStmts}, tenant, id)
		})
}

func providerInstance(ctx context.Context, q queryer, tenant string, id uuid.UUID) (licensing.ProviderInstance, error) {
	pi, err := scanInstance(q.QueryRowContext(ctx, `SELECT `+instanceColumns+` FROM provider_instances p WHERE p.id = ? AND p.tenant = ?`,
		id, licensing.NormalizeTenant(tenant)))
	if errors.Is(err, sql.ErrNoRows) {
		return licensing.ProviderInstance{}, notFound("provider instance", id)
	}
	if err != nil {
		return licensing.ProviderInstance{}, dbError(err, "reading a provider instance")
	}
	return pi, nil
}

// instanceColumns are the columns scanInstance reads, of provider_instances p.
const instanceColumns = `p.id, p.name, p.provider, p.directory, p.graph_client_id, p.graph_secret_env,
	p.graph_secret_file, p.graph_default_usage_location`

// scanInstance reads instanceColumns. A local instance has Directory
// "local" and no Graph; a graph instance carries its app settings.
func scanInstance(row interface{ Scan(...any) error }) (licensing.ProviderInstance, error) {
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

// Customer returns the tenant's customer, whoever its reseller, from the
// read cache when the database has not changed since it was read.
func (db *DB) Customer(ctx context.Context, tenant string, id uuid.UUID) (licensing.Customer, error) {
	return cachedRead(ctx, db, "customer", entityKey{licensing.NormalizeTenant(tenant), id}, cloneCustomer, noItems,
		func() (licensing.Customer, error) {
			sctx, leave, err := db.enterRead(ctx)
			if err != nil {
				return licensing.Customer{}, err
			}
			defer leave()
			return customer(sctx, pooled{db.readStmts}, tenant, id)
		})
}

func customer(ctx context.Context, q queryer, tenant string, id uuid.UUID) (licensing.Customer, error) {
	c := licensing.Customer{ID: id}
	var reseller uuid.NullUUID
	err := q.QueryRowContext(ctx, `SELECT name, reseller_id, reseller_name FROM customers WHERE id = ? AND tenant = ?`,
		id, licensing.NormalizeTenant(tenant)).Scan(&c.Name, &reseller, &c.ResellerName)
	if errors.Is(err, sql.ErrNoRows) {
		return licensing.Customer{}, notFound("customer", id)
	}
	if err != nil {
		return licensing.Customer{}, dbError(err, "reading a customer")
	}
	if reseller.Valid {
		c.ResellerID = &reseller.UUID
	}
	return c, nil
}

// User returns a user of the tenant's customer.
func (db *DB) User(ctx context.Context, tenant string, customerID, userID uuid.UUID) (licensing.User, error) {
	sctx, leave, err := db.enterRead(ctx)
	if err != nil {
		return licensing.User{}, err
	}
	defer leave()
	return user(sctx, pooled{db.readStmts}, tenant, customerID, userID)
}

func user(ctx context.Context, q queryer, tenant string, customerID, userID uuid.UUID) (licensing.User, error) {
	u := licensing.User{ID: userID}
	err := q.QueryRowContext(ctx, `
		SELECT u.display_name, u.user_principal_name
		FROM users u JOIN customers c ON c.id = u.customer_id
		WHERE u.id = ? AND u.customer_id = ? AND c.tenant = ?`,
		userID, customerID, licensing.NormalizeTenant(tenant)).Scan(&u.DisplayName, &u.UserPrincipalName)
	if errors.Is(err, sql.ErrNoRows) {
		return licensing.User{}, notFound("user", userID)
	}
	if err != nil {
		return licensing.User{}, dbError(err, "reading a user")
	}
	return u, nil
}

// Users returns one page of a customer's users; a customer outside the
// tenant has none. The page is served from the read cache when the
// database has not changed since it was read.
func (db *DB) Users(ctx context.Context, tenant string, customerID uuid.UUID, q licensing.UserQuery) (licensing.UserPage, error) {
	return cachedRead(ctx, db, "users", usersKey{licensing.NormalizeTenant(tenant), customerID, q}, cloneUserPage,
		func(p licensing.UserPage) int { return len(p.Items) },
		func() (licensing.UserPage, error) { return db.users(ctx, tenant, customerID, q) })
}

func (db *DB) users(ctx context.Context, tenant string, customerID uuid.UUID, q licensing.UserQuery) (licensing.UserPage, error) {
	where := `FROM users u JOIN customers c ON c.id = u.customer_id WHERE u.customer_id = ? AND c.tenant = ?`
	args := []any{customerID, licensing.NormalizeTenant(tenant)}
	s := strings.ToLower(q.Search)
	if utf8.RuneCountInString(s) >= 3 {
		// The trigram index (0005_user_search.sql) finds the candidates;
		// instr checks them, so the index cannot change the answer. CROSS
		// JOIN makes the index drive: left to itself, SQLite walked the
		// users in list order and probed the matches, reading all 100k
		// users of a customer when fewer than a page match.
		where = `FROM users_search fts CROSS JOIN users u ON u.rowid = fts.rowid JOIN customers c ON c.id = u.customer_id
			WHERE fts.users_search MATCH ? AND u.customer_id = ? AND c.tenant = ?`
		args = []any{`"` + strings.ReplaceAll(s, `"`, `""`) + `"`, customerID, licensing.NormalizeTenant(tenant)}
	}
	if s != "" {
		// instr, unlike LIKE, has no wildcards to escape.
		where += ` AND (instr(u.display_key, ?) > 0 OR instr(u.upn_key, ?) > 0)`
		args = append(args, s, s)
	}
	key := `u.display_name`
	if q.Sort == licensing.SortUserPrincipalName {
		key = `u.user_principal_name`
	}
	order := key + ` COLLATE NOCASE, u.id`
	// Without a search the total is the customer's kept count (0004):
	// counting 100k rows per page made the first page 30× slower.
	count := `SELECT count(*) ` + where
	countArgs := args
	if s == "" {
		count = `SELECT coalesce((SELECT user_count FROM customers WHERE id = ? AND tenant = ?), 0)`
	}
	// Keyset pages (After, Before, Last) start from a position in the
	// index instead of skipping Offset rows: the cost of a page no longer
	// grows with its depth. Backwards reads the index in reverse.
	pageArgs := append([]any(nil), args...)
	limit, offset, reverse := q.Page.Size, q.Page.Offset(), false
	switch {
	case q.After != nil:
		// The first term is what lets SQLite seek in the index (it does
		// not seek on the row value alone); the second is the exact test.
		where += ` AND ` + key + ` COLLATE NOCASE >= ? AND (` + key + ` COLLATE NOCASE, u.id) > (?, ?)`
		pageArgs = append(pageArgs, q.After.Key, q.After.Key, q.After.ID)
		offset = 0
	case q.Before != nil:
		where += ` AND ` + key + ` COLLATE NOCASE <= ? AND (` + key + ` COLLATE NOCASE, u.id) < (?, ?)`
		pageArgs = append(pageArgs, q.Before.Key, q.Before.Key, q.Before.ID)
		offset, reverse = 0, true
	case q.Last:
		return db.lastUsersPage(ctx, q, count, countArgs, where, pageArgs, key)
	}
	outer := `p.k COLLATE NOCASE, p.id`
	if reverse {
		order, outer = key+` COLLATE NOCASE DESC, u.id DESC`, `p.k COLLATE NOCASE DESC, p.id DESC`
	}
	sctx, leave, err := db.enterRead(ctx)
	if err != nil {
		return licensing.UserPage{}, err
	}
	defer leave()
	// The total and the page are one statement, which SQLite reads in one
	// snapshot, so they agree; a fixed text per shape (sort, search,
	// direction) is prepared once (listStmts): parsing the list's
	// statements on every request was 18 % of a first page's CPU.
	rows, err := pooled{db.listStmts}.QueryContext(sctx, `SELECT t.total, p.id, p.display_name, p.user_principal_name
		FROM (SELECT (`+count+`) AS total) t
		LEFT JOIN (SELECT u.id, u.display_name, u.user_principal_name, `+key+` AS k `+where+`
			ORDER BY `+order+` LIMIT ? OFFSET ?) p ON 1
		ORDER BY `+outer,
		append(append(append([]any(nil), countArgs...), pageArgs...), limit, offset)...)
	if err != nil {
		return licensing.UserPage{}, dbError(err, "listing users")
	}
	page, err := scanUsersPage(rows)
	if err != nil {
		return licensing.UserPage{}, err
	}
	if reverse {
		slices.Reverse(page.Items)
	}
	return page, nil
}

// scanUsersPage reads the rows of the users statement: the total on each
// row, and one row of NULLs when the page is empty.
func scanUsersPage(rows *sql.Rows) (licensing.UserPage, error) {
	defer rows.Close()
	var page licensing.UserPage
	for rows.Next() {
		var id uuid.NullUUID
		var name, upn sql.NullString
		if err := rows.Scan(&page.Total, &id, &name, &upn); err != nil {
			return licensing.UserPage{}, dbError(err, "listing users")
		}
		if id.Valid {
			page.Items = append(page.Items, licensing.User{ID: id.UUID, DisplayName: name.String, UserPrincipalName: upn.String})
		}
	}
	if err := rows.Err(); err != nil {
		return licensing.UserPage{}, dbError(err, "listing users")
	}
	return page, nil
}

// lastUsersPage reads the last page, whose size depends on the total: the
// two statements run in one read transaction, so that they agree.
func (db *DB) lastUsersPage(ctx context.Context, q licensing.UserQuery, count string, countArgs []any,
	where string, pageArgs []any, key string) (licensing.UserPage, error) {
	sctx, tx, err := db.beginSnapshot(ctx, "listing users")
	if err != nil {
		return licensing.UserPage{}, err
	}
	defer tx.end()
	var page licensing.UserPage
	if err := tx.QueryRowContext(sctx, count, countArgs...).Scan(&page.Total); err != nil {
		return licensing.UserPage{}, dbError(err, "counting users")
	}
	if err := ctx.Err(); err != nil {
		return licensing.UserPage{}, dbError(err, "listing users")
	}
	page.Number = max(1, (page.Total+q.Page.Size-1)/q.Page.Size)
	limit := page.Total - (page.Number-1)*q.Page.Size
	rows, err := tx.QueryContext(sctx, `SELECT u.id, u.display_name, u.user_principal_name `+where+
		` ORDER BY `+key+` COLLATE NOCASE DESC, u.id DESC LIMIT ?`, append(pageArgs, limit)...)
	if err != nil {
		return licensing.UserPage{}, dbError(err, "listing users")
	}
	defer rows.Close()
	for rows.Next() {
		var u licensing.User
		if err := rows.Scan(&u.ID, &u.DisplayName, &u.UserPrincipalName); err != nil {
			return licensing.UserPage{}, dbError(err, "listing users")
		}
		page.Items = append(page.Items, u)
	}
	if err := rows.Err(); err != nil {
		return licensing.UserPage{}, dbError(err, "listing users")
	}
	slices.Reverse(page.Items)
	return page, nil
}
