package sqlite

import (
	"context"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Customers returns one page of the tenant's customers within the scope.
// lower() folds ASCII only without ICU, which is licensing.FoldASCII.
func (db *DB) Customers(ctx context.Context, q licensing.CustomerQuery) (licensing.CustomerPage, error) {
	where := `FROM customers WHERE tenant = ?`
	args := []any{licensing.NormalizeTenant(q.Scope.Tenant)}
	for _, r := range []*uuid.UUID{q.Scope.ResellerID, q.ResellerID} {
		if r != nil {
			where += ` AND reseller_id = ?`
			args = append(args, *r)
		}
	}
	if q.Search != "" {
		// instr, unlike LIKE, has no wildcards to escape.
		where += ` AND instr(lower(name), ?) > 0`
		args = append(args, licensing.FoldASCII(q.Search))
	}
	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	order := `lower(name) ` + dir + `, name ` + dir + `, id ` + dir
	sctx, tx, err := db.beginSnapshot(ctx, "listing customers")
	if err != nil {
		return licensing.CustomerPage{}, err
	}
	defer tx.end()
	page := licensing.CustomerPage{Items: []licensing.Customer{}}
	if err := tx.QueryRowContext(sctx, `SELECT count(*) `+where, args...).Scan(&page.Total); err != nil {
		return licensing.CustomerPage{}, dbError(err, "counting customers")
	}
	if err := ctx.Err(); err != nil {
		return licensing.CustomerPage{}, dbError(err, "listing customers")
	}
	rows, err := tx.QueryContext(sctx, `SELECT id, name, reseller_id, reseller_name `+where+
		` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, q.Page.Size, q.Page.Offset())...)
	if err != nil {
		return licensing.CustomerPage{}, dbError(err, "listing customers")
	}
	defer rows.Close()
	for rows.Next() {
		var c licensing.Customer
		var reseller uuid.NullUUID
		if err := rows.Scan(&c.ID, &c.Name, &reseller, &c.ResellerName); err != nil {
			return licensing.CustomerPage{}, dbError(err, "listing customers")
		}
		if reseller.Valid {
			id := reseller.UUID
			c.ResellerID = &id
		}
		page.Items = append(page.Items, c)
	}
	if err := rows.Err(); err != nil {
		return licensing.CustomerPage{}, dbError(err, "listing customers")
	}
	return page, nil
}

// ProviderInstances returns one page of the tenant's provider instances.
func (db *DB) ProviderInstances(ctx context.Context, tenant string, p licensing.Page) (licensing.ProviderInstancePage, error) {
	tenant = licensing.NormalizeTenant(tenant)
	sctx, tx, err := db.beginSnapshot(ctx, "listing provider instances")
	if err != nil {
		return licensing.ProviderInstancePage{}, err
	}
	defer tx.end()
	page := licensing.ProviderInstancePage{Items: []licensing.ProviderInstance{}}
	if err := tx.QueryRowContext(sctx, `SELECT count(*) FROM provider_instances WHERE tenant = ?`, tenant).Scan(&page.Total); err != nil {
		return licensing.ProviderInstancePage{}, dbError(err, "counting provider instances")
	}
	if err := ctx.Err(); err != nil {
		return licensing.ProviderInstancePage{}, dbError(err, "listing provider instances")
	}
	rows, err := tx.QueryContext(sctx, `SELECT `+instanceColumns+` FROM provider_instances p WHERE p.tenant = ?
		ORDER BY lower(p.provider), p.provider, lower(p.name), p.name, p.id LIMIT ? OFFSET ?`, tenant, p.Size, p.Offset())
	if err != nil {
		return licensing.ProviderInstancePage{}, dbError(err, "listing provider instances")
	}
	defer rows.Close()
	for rows.Next() {
		pi, err := scanInstance(rows)
		if err != nil {
			return licensing.ProviderInstancePage{}, dbError(err, "listing provider instances")
		}
		page.Items = append(page.Items, pi)
	}
	if err := rows.Err(); err != nil {
		return licensing.ProviderInstancePage{}, dbError(err, "listing provider instances")
	}
	return page, nil
}
