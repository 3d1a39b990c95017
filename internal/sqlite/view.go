package sqlite

import (
	"context"
	"database/sql"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// userViewQuery reads a licensing.UserView in one statement, so in one
// snapshot: the customer row, whether the user exists, the instance
// (columns NULL when it does not) and one row per license of the customer
// under it (NULL when there is none), each with whether the user holds it.
const userViewQuery = `
	SELECT c.name, c.reseller_id, c.reseller_name,
	       EXISTS (SELECT 1 FROM users u WHERE u.id = ? AND u.customer_id = ?),
	       p.id, p.name, p.provider, p.directory, p.graph_client_id, p.graph_secret_env,
	       p.graph_secret_file, p.graph_default_usage_location,
	       l.sku_id, l.name, l.total, l.suspended, l.consumed,
	       EXISTS (SELECT 1 FROM assignments a WHERE a.customer_id = l.customer_id
	               AND a.provider_instance_id = l.provider_instance_id AND a.sku_id = l.sku_id AND a.user_id = ?)
	FROM customers c
	LEFT JOIN provider_instances p ON p.id = ? AND p.tenant = c.tenant
	LEFT JOIN licenses l ON l.customer_id = c.id AND l.provider_instance_id = p.id
	WHERE c.id = ? AND c.tenant = ?
	ORDER BY l.name, l.sku_id`

// UserView implements licensing.Catalog. A view read since the database
// last changed is served from the cache (viewcache.go). Its statement reads
// rows by key only (a customer's licenses under one instance), so it runs
// under a context that cannot be canceled: the driver starts a goroutine
// per statement to watch a cancelable one, and at 64 concurrent requests
// those goroutines crowded the scheduler's run queue (the profile of the
// 500 ms p99 showed hundreds of them waiting to start). The request's
// deadline is still checked before the statement and between rows.
func (db *DB) UserView(ctx context.Context, ref licensing.UserRef) (licensing.UserView, error) {
	if err := ctx.Err(); err != nil {
		return licensing.UserView{}, dbError(err, "reading a user's licenses")
	}
	gen, v, hit, cacheable := db.views.lookup(ref)
	if hit {
		return v, nil
	}
	_, leave, err := db.enterRead(ctx)
	if err != nil {
		return licensing.UserView{}, err
	}
	defer leave()
	v, err = userView(ctx, pooled{db.readStmts}, ref)
	if err == nil && cacheable {
		db.views.put(gen, ref, v)
	}
	return v, err
}

func userView(ctx context.Context, q queryer, ref licensing.UserRef) (licensing.UserView, error) {
	if err := ctx.Err(); err != nil {
		return licensing.UserView{}, dbError(err, "reading a user's licenses")
	}
	rows, err := q.QueryContext(context.WithoutCancel(ctx), userViewQuery,
		ref.UserID, ref.CustomerID, ref.UserID, ref.ProviderInstanceID, ref.CustomerID, licensing.NormalizeTenant(ref.Tenant))
	if err != nil {
		return licensing.UserView{}, dbError(err, "reading a user's licenses")
	}
	defer rows.Close()
	v := licensing.UserView{Customer: licensing.Customer{ID: ref.CustomerID}}
	found := false
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return licensing.UserView{}, dbError(err, "reading a user's licenses")
		}
		var (
			reseller                                  uuid.NullUUID
			piID, sku                                 uuid.NullUUID
			piName, provider, directory, lname        sql.NullString
			clientID, secretEnv, secretFile, usageLoc sql.NullString
			total, suspended, consumed                sql.NullInt32
			held                                      bool
		)
		if err := rows.Scan(&v.Customer.Name, &reseller, &v.Customer.ResellerName, &v.UserFound,
			&piID, &piName, &provider, &directory, &clientID, &secretEnv, &secretFile, &usageLoc,
			&sku, &lname, &total, &suspended, &consumed, &held); err != nil {
			return licensing.UserView{}, dbError(err, "reading a user's licenses")
		}
		if !found {
			found = true
			if reseller.Valid {
				v.Customer.ResellerID = &reseller.UUID
			}
			if piID.Valid {
				pi := licensing.ProviderInstance{ID: piID.UUID, Name: piName.String, Provider: provider.String, Directory: directory.String}
				if pi.IsGraph() {
					pi.Graph = &licensing.GraphApp{ClientID: clientID.String, ClientSecretEnv: secretEnv.String,
						ClientSecretFile: secretFile.String, DefaultUsageLocation: usageLoc.String}
				}
				v.Instance = &pi
			}
			v.Seats = licensing.Seats{Licenses: []licensing.License{}, Held: map[uuid.UUID]bool{}}
		}
		if !sku.Valid || !v.UserFound || v.Instance == nil || v.Instance.IsGraph() {
			continue
		}
		v.Seats.Licenses = append(v.Seats.Licenses, licensing.License{SKUID: sku.UUID, Name: lname.String,
			Total: total.Int32, Suspended: suspended.Int32, Consumed: consumed.Int32})
		if held {
			v.Seats.Held[sku.UUID] = true
		}
	}
	if err := rows.Err(); err != nil {
		return licensing.UserView{}, dbError(err, "reading a user's licenses")
	}
	if !found {
		return licensing.UserView{}, notFound("customer", ref.CustomerID)
	}
	return v, nil
}
