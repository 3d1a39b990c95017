package postgres

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// userViewQuery reads a licensing.UserView in one statement, so in one
// snapshot: the customer row, whether the user exists, the instance
// (columns NULL when it does not) and one row per license of the customer
// under it (NULL when there is none), each with its consumed seats and
// whether the user holds it. Licenses are in Licenses' order.
const userViewQuery = `
	SELECT c.name, c.reseller_id, c.reseller_name,
	       EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.customer_id = c.id),
	       p.id, p.name, p.provider, p.directory, p.graph_client_id, p.graph_secret_env,
	       p.graph_secret_file, p.graph_default_usage_location,
	       l.sku_id, l.name, l.total, l.suspended, l.consumed,
	       EXISTS (SELECT 1 FROM assignments a WHERE a.customer_id = l.customer_id
	               AND a.provider_instance_id = l.provider_instance_id AND a.sku_id = l.sku_id AND a.user_id = $1)
	FROM customers c
	LEFT JOIN provider_instances p ON p.id = $2 AND p.tenant = c.tenant
	LEFT JOIN licenses l ON l.customer_id = c.id AND l.provider_instance_id = p.id
	WHERE c.id = $3 AND c.tenant = $4
	ORDER BY l.name COLLATE "C", l.sku_id`

// UserView implements licensing.Catalog with one round trip.
func (db *DB) UserView(ctx context.Context, ref licensing.UserRef) (licensing.UserView, error) {
	tenant := licensing.NormalizeTenant(ref.Tenant)
	var v licensing.UserView
	err := db.retry(ctx, func(ctx context.Context) error {
		rows, err := db.pool.Query(ctx, userViewQuery, ref.UserID, ref.ProviderInstanceID, ref.CustomerID, tenant)
		if err != nil {
			return err
		}
		v, err = scanUserView(rows, ref)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return licensing.UserView{}, licensing.Errorf(licensing.NotFound, "customer %s not found", ref.CustomerID)
	}
	if err != nil {
		return licensing.UserView{}, classify(err, "read a user's licenses")
	}
	return v, nil
}

func scanUserView(rows pgx.Rows, ref licensing.UserRef) (licensing.UserView, error) {
	defer rows.Close()
	v := licensing.UserView{Customer: licensing.Customer{ID: ref.CustomerID}}
	found := false
	for rows.Next() {
		var (
			piID, sku                                 *uuid.UUID
			piName, provider, directory, lname        *string
			clientID, secretEnv, secretFile, usageLoc *string
			total, suspended, consumed                *int32
			held                                      *bool
		)
		if err := rows.Scan(&v.Customer.Name, &v.Customer.ResellerID, &v.Customer.ResellerName, &v.UserFound,
			&piID, &piName, &provider, &directory, &clientID, &secretEnv, &secretFile, &usageLoc,
			&sku, &lname, &total, &suspended, &consumed, &held); err != nil {
			return licensing.UserView{}, err
		}
		if !found {
			found = true
			if piID != nil {
				pi := licensing.ProviderInstance{ID: *piID, Name: *piName, Provider: *provider, Directory: *directory}
				if pi.IsGraph() {
					pi.Graph = &licensing.GraphApp{ClientID: *clientID, ClientSecretEnv: *secretEnv,
						ClientSecretFile: *secretFile, DefaultUsageLocation: *usageLoc}
				}
				v.Instance = &pi
			}
			v.Seats = licensing.Seats{Licenses: []licensing.License{}, Held: map[uuid.UUID]bool{}}
		}
		if sku == nil || !v.UserFound || v.Instance == nil || v.Instance.IsGraph() {
			continue
		}
		v.Seats.Licenses = append(v.Seats.Licenses, licensing.License{SKUID: *sku, Name: *lname,
			Total: *total, Suspended: *suspended, Consumed: *consumed})
		if *held {
			v.Seats.Held[*sku] = true
		}
	}
	if err := rows.Err(); err != nil {
		return licensing.UserView{}, err
	}
	if !found {
		return licensing.UserView{}, pgx.ErrNoRows
	}
	return v, nil
}
