package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

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

// ProviderInstance returns the tenant's provider instance.
func (db *DB) ProviderInstance(ctx context.Context, tenant string, id uuid.UUID) (licensing.ProviderInstance, error) {
	return providerInstance(ctx, db.read, tenant, id)
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

// Customer returns the tenant's customer, whoever its reseller.
func (db *DB) Customer(ctx context.Context, tenant string, id uuid.UUID) (licensing.Customer, error) {
	return customer(ctx, db.read, tenant, id)
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
	return user(ctx, db.read, tenant, customerID, userID)
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
// tenant has none.
func (db *DB) Users(ctx context.Context, tenant string, customerID uuid.UUID, q licensing.UserQuery) (licensing.UserPage, error) {
	where := `FROM users u JOIN customers c ON c.id = u.customer_id WHERE u.customer_id = ? AND c.tenant = ?`
	args := []any{customerID, licensing.NormalizeTenant(tenant)}
	if s := strings.ToLower(q.Search); s != "" {
		// instr, unlike LIKE, has no wildcards to escape.
		where += ` AND (instr(u.display_key, ?) > 0 OR instr(u.upn_key, ?) > 0)`
		args = append(args, s, s)
	}
	order := `u.display_name COLLATE NOCASE, u.id`
	if q.Sort == licensing.SortUserPrincipalName {
		order = `u.user_principal_name COLLATE NOCASE, u.id`
	}
	// One read transaction, so that the total and the page agree.
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return licensing.UserPage{}, dbError(err, "listing users")
	}
	defer tx.Rollback()
	var page licensing.UserPage
	if err := tx.QueryRowContext(ctx, `SELECT count(*) `+where, args...).Scan(&page.Total); err != nil {
		return licensing.UserPage{}, dbError(err, "counting users")
	}
	rows, err := tx.QueryContext(ctx, `SELECT u.id, u.display_name, u.user_principal_name `+where+
		` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, q.Page.Size, q.Page.Offset())...)
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
	return page, nil
}
