package postgres

import (
	"context"
	"errors"
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
	order := `u.display_name COLLATE "C", u.id`
	if q.Sort == licensing.SortUserPrincipalName {
		order = `u.user_principal_name COLLATE "C", u.id`
	}
	limit, offset := pageBounds(q.Page)
	pattern := containsPattern(q.Search)
	var page licensing.UserPage
	err := db.retry(ctx, func(ctx context.Context) error {
		page = licensing.UserPage{Items: []licensing.User{}}
		// count(*) OVER () gives the total with the page in one statement;
		// a page past the end has no rows, so the total is counted apart.
		rows, err := db.pool.Query(ctx, `
			SELECT u.id, u.display_name, u.user_principal_name, count(*) OVER ()
			FROM users u JOIN customers c ON c.id = u.customer_id AND c.tenant = $5
			WHERE u.customer_id = $1
			  AND ($2 = '' OR u.display_name ILIKE $2 ESCAPE '\' OR u.user_principal_name ILIKE $2 ESCAPE '\')
			ORDER BY `+order+`
			LIMIT $3 OFFSET $4`,
			customerID, pattern, limit, offset, tenant)
		if err != nil {
			return err
		}
		var u licensing.User
		var total int64
		_, err = pgx.ForEachRow(rows, []any{&u.ID, &u.DisplayName, &u.UserPrincipalName, &total}, func() error {
			page.Items = append(page.Items, u)
			return nil
		})
		if err != nil {
			return err
		}
		page.Total = int(total)
		if len(page.Items) == 0 && offset > 0 {
			return db.pool.QueryRow(ctx, `
				SELECT count(*) FROM users u JOIN customers c ON c.id = u.customer_id AND c.tenant = $3
				WHERE u.customer_id = $1
				  AND ($2 = '' OR u.display_name ILIKE $2 ESCAPE '\' OR u.user_principal_name ILIKE $2 ESCAPE '\')`,
				customerID, pattern, tenant).Scan(&page.Total)
		}
		return nil
	})
	if err != nil {
		return licensing.UserPage{}, classify(err, "list users")
	}
	return page, nil
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
