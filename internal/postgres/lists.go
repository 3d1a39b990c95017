package postgres

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// foldASCII is licensing.FoldASCII in SQL: PostgreSQL's lower() folds by
// the database's locale, which would order and match differently from
// SQLite; translate folds ASCII letters only, and "C" orders by bytes.
func foldASCII(column string) string {
	return `translate(` + column + `, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE "C"`
}

// Customers returns one page of the tenant's customers within the scope.
func (db *DB) Customers(ctx context.Context, q licensing.CustomerQuery) (licensing.CustomerPage, error) {
	tenant := licensing.NormalizeTenant(q.Scope.Tenant)
	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	order := foldASCII("name") + ` ` + dir + `, name COLLATE "C" ` + dir + `, id ` + dir
	where := `FROM customers WHERE tenant = $1
		AND ($2::uuid IS NULL OR reseller_id = $2)
		AND ($3::uuid IS NULL OR reseller_id = $3)
		AND ($4 = '' OR strpos(` + foldASCII("name") + `, $4) > 0)`
	args := []any{tenant, q.Scope.ResellerID, q.ResellerID, licensing.FoldASCII(q.Search)}
	limit, offset := pageBounds(q.Page)
	var page licensing.CustomerPage
	err := db.retry(ctx, func(ctx context.Context) error {
		page = licensing.CustomerPage{Items: []licensing.Customer{}}
		// One snapshot, so that the total and the page agree.
		return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT count(*) `+where, args...).Scan(&page.Total); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT id, name, reseller_id, reseller_name `+where+
				` ORDER BY `+order+` LIMIT $5 OFFSET $6`, append(args, limit, offset)...)
			if err != nil {
				return err
			}
			var c licensing.Customer
			var reseller *uuid.UUID
			_, err = pgx.ForEachRow(rows, []any{&c.ID, &c.Name, &reseller, &c.ResellerName}, func() error {
				item := c
				if reseller != nil {
					id := *reseller
					item.ResellerID = &id
				}
				page.Items = append(page.Items, item)
				return nil
			})
			return err
		})
	})
	if err != nil {
		return licensing.CustomerPage{}, classify(err, "list customers")
	}
	return page, nil
}

// ProviderInstances returns one page of the tenant's provider instances.
func (db *DB) ProviderInstances(ctx context.Context, tenant string, p licensing.Page) (licensing.ProviderInstancePage, error) {
	tenant = licensing.NormalizeTenant(tenant)
	limit, offset := pageBounds(p)
	order := strings.Join([]string{foldASCII("p.provider"), `p.provider COLLATE "C"`, foldASCII("p.name"), `p.name COLLATE "C"`, "p.id"}, ", ")
	var page licensing.ProviderInstancePage
	err := db.retry(ctx, func(ctx context.Context) error {
		page = licensing.ProviderInstancePage{Items: []licensing.ProviderInstance{}}
		return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM provider_instances WHERE tenant = $1`, tenant).Scan(&page.Total); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT `+instanceColumns+` FROM provider_instances p WHERE p.tenant = $1
				ORDER BY `+order+` LIMIT $2 OFFSET $3`, tenant, limit, offset)
			if err != nil {
				return err
			}
			items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (licensing.ProviderInstance, error) { return scanInstance(r) })
			page.Items = append(page.Items, items...)
			return err
		})
	})
	if err != nil {
		return licensing.ProviderInstancePage{}, classify(err, "list provider instances")
	}
	return page, nil
}
