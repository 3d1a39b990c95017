package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Import writes a snapshot in one transaction, idempotently: tenants,
// provider instances, customers, users and licenses are inserted or
// updated to match it, and the assignments of each listed license become
// exactly its assignedUserIds. Things the snapshot does not list are left
// alone. An id that already belongs to another tenant (provider instance,
// customer) or another customer (user) is Invalid, naming each place, and
// nothing is written. The snapshot is validated first.
func (db *DB) Import(ctx context.Context, s licensing.Snapshot) error {
	if err := s.Validate(); err != nil {
		return err
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return importSnapshot(ctx, tx, s)
	})
	return classify(err, "import the snapshot")
}

// importSnapshot does the work of Import inside tx. Each upsert only
// updates a row that belongs where the snapshot puts it (the WHERE of
// DO UPDATE); a row that comes back empty therefore names a collision.
// Collisions are collected, not returned at once, so that every place is
// reported; the caller's rollback then discards whatever was written.
func importSnapshot(ctx context.Context, tx pgx.Tx, s licensing.Snapshot) error {
	invalid := licensing.Errorf(licensing.Invalid, "the snapshot collides with existing data; nothing was imported")
	upsert := func(place, what string, sql string, args ...any) error {
		var id uuid.UUID
		err := tx.QueryRow(ctx, sql, args...).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			invalid.Add(place, "%s", what)
			return nil
		}
		return err
	}
	for ti, t := range s.Tenants {
		tenant := licensing.NormalizeTenant(t.Domain)
		if _, err := tx.Exec(ctx, "INSERT INTO tenants (domain) VALUES ($1) ON CONFLICT DO NOTHING", tenant); err != nil {
			return err
		}
		for pi, p := range t.ProviderInstances {
			place := fmt.Sprintf("tenants[%d].providerInstances[%d].id", ti, pi)
			d := instanceSettings(p)
			if err := upsert(place, "provider instance "+p.ID+" already belongs to another tenant", `
				INSERT INTO provider_instances (id, tenant, name, provider, directory, graph_client_id, graph_secret_env,
					graph_secret_file, graph_default_usage_location) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, provider = EXCLUDED.provider,
					directory = EXCLUDED.directory, graph_client_id = EXCLUDED.graph_client_id,
					graph_secret_env = EXCLUDED.graph_secret_env, graph_secret_file = EXCLUDED.graph_secret_file,
					graph_default_usage_location = EXCLUDED.graph_default_usage_location
				WHERE provider_instances.tenant = EXCLUDED.tenant
				RETURNING id`, uuid.MustParse(p.ID), tenant, p.Name, p.Provider, d.Directory, d.Graph.ClientID,
				d.Graph.ClientSecretEnv, d.Graph.ClientSecretFile, d.Graph.DefaultUsageLocation); err != nil {
				return err
			}
			if d.Directory != licensing.DirectoryGraph {
				// Links are never deleted by an import, so a linked
				// instance turned local would leave customers pointing at
				// a Microsoft tenant nothing syncs.
				var linked bool
				if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM provider_customers WHERE provider_instance_id = $1)",
					uuid.MustParse(p.ID)).Scan(&linked); err != nil {
					return err
				}
				if linked {
					invalid.Add(fmt.Sprintf("tenants[%d].providerInstances[%d].directory", ti, pi),
						"provider instance %s has customers linked to their Microsoft tenants; it must stay \"graph\"", p.ID)
				}
			}
		}
		for ci, c := range t.Customers {
			cp := fmt.Sprintf("tenants[%d].customers[%d]", ti, ci)
			customerID := uuid.MustParse(c.ID)
			var reseller *uuid.UUID
			if c.ResellerID != "" {
				id := uuid.MustParse(c.ResellerID)
				reseller = &id
			}
			before := len(invalid.Properties)
			if err := upsert(cp+".id", "customer "+c.ID+" already belongs to another tenant", `
				INSERT INTO customers (id, tenant, name, reseller_id, reseller_name) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, reseller_id = EXCLUDED.reseller_id,
					reseller_name = EXCLUDED.reseller_name
				WHERE customers.tenant = EXCLUDED.tenant
				RETURNING id`, customerID, tenant, c.Name, reseller, c.ResellerName); err != nil {
				return err
			}
			if len(invalid.Properties) > before {
				// Users and licenses under a customer that is not this
				// tenant's would only add confusing follow-up errors.
				continue
			}
			for _, l := range c.ProviderCustomers {
				if err := writeLink(ctx, tx, tenant, customerID, uuid.MustParse(l.ProviderInstanceID), uuid.MustParse(l.MicrosoftTenantID)); err != nil {
					return err
				}
			}
			if len(c.Users) > 0 {
				var linked bool
				if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM provider_customers WHERE customer_id = $1)",
					customerID).Scan(&linked); err != nil {
					return err
				}
				if linked {
					invalid.Add(cp+".users",
						"customer %s is linked to a graph instance: its users come from its Microsoft 365 tenant, list none here", c.ID)
				}
			}
			for ui, u := range c.Users {
				if err := upsert(fmt.Sprintf("%s.users[%d].id", cp, ui), "user "+u.ID+" already belongs to another customer", `
					INSERT INTO users (id, customer_id, display_name, user_principal_name) VALUES ($1, $2, $3, $4)
					ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name,
						user_principal_name = EXCLUDED.user_principal_name
					WHERE users.customer_id = EXCLUDED.customer_id
					RETURNING id`, uuid.MustParse(u.ID), customerID, u.DisplayName, u.UserPrincipalName); err != nil {
					return err
				}
			}
			if len(invalid.Properties) > before {
				// Assigning a user of another customer would break a foreign
				// key; the collision is already reported.
				continue
			}
			// Touch license rows in (provider instance, SKU) order, the
			// order ApplyUserLicenses locks them in, so that an import
			// running next to updates cannot deadlock with them.
			order := make([]int, len(c.Licenses))
			for i := range order {
				order[i] = i
			}
			slices.SortFunc(order, func(a, b int) int {
				la, lb := c.Licenses[a], c.Licenses[b]
				if d := compareUUID(la.ProviderInstanceID, lb.ProviderInstanceID); d != 0 {
					return d
				}
				return compareUUID(la.SKUID, lb.SKUID)
			})
			for _, li := range order {
				l := c.Licenses[li]
				piID, skuID := uuid.MustParse(l.ProviderInstanceID), uuid.MustParse(l.SKUID)
				if _, err := tx.Exec(ctx, `
					INSERT INTO licenses (customer_id, provider_instance_id, sku_id, name, total, suspended)
					VALUES ($1, $2, $3, $4, $5, $6)
					ON CONFLICT (customer_id, provider_instance_id, sku_id) DO UPDATE
					SET name = EXCLUDED.name, total = EXCLUDED.total, suspended = EXCLUDED.suspended`,
					customerID, piID, skuID, l.Name, l.TotalLicenses, l.SuspendedLicenses); err != nil {
					return err
				}
				users := make([]uuid.UUID, len(l.AssignedUserIDs))
				for i, a := range l.AssignedUserIDs {
					users[i] = uuid.MustParse(a)
				}
				if _, err := tx.Exec(ctx, `
					DELETE FROM assignments
					WHERE customer_id = $1 AND provider_instance_id = $2 AND sku_id = $3 AND NOT (user_id = ANY($4))`,
					customerID, piID, skuID, users); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `
					INSERT INTO assignments (customer_id, provider_instance_id, sku_id, user_id)
					SELECT $1, $2, $3, u FROM unnest($4::uuid[]) AS u
					ON CONFLICT DO NOTHING`,
					customerID, piID, skuID, users); err != nil {
					return err
				}
			}
		}
	}
	if len(invalid.Properties) > 0 {
		return invalid
	}
	return nil
}

// compareUUID orders uuid strings the way PostgreSQL orders uuid values
// (bytewise), which for canonical lowercase text is string order.
func compareUUID(a, b string) int {
	ua, ub := uuid.MustParse(a), uuid.MustParse(b)
	return slices.Compare(ua[:], ub[:])
}

// instanceSettings is what a snapshot instance stores about its directory:
// the kind ("local" when unset) and the app of a graph instance (empty
// strings otherwise).
func instanceSettings(p licensing.SnapshotProviderInstance) licensing.ProviderInstance {
	d := licensing.ProviderInstance{Directory: licensing.DirectoryLocal, Graph: &licensing.GraphApp{}}
	if p.Directory == licensing.DirectoryGraph {
		d.Directory = licensing.DirectoryGraph
		if g := p.Graph; g != nil {
			d.Graph = &licensing.GraphApp{ClientID: g.ClientID, ClientSecretEnv: g.ClientSecretEnv,
				ClientSecretFile: g.ClientSecretFile, DefaultUsageLocation: g.DefaultUsageLocation}
		}
	}
	return d
}

// writeLink inserts or updates a customer's link to a graph instance. When
// the Microsoft tenant changes, the sync state of the old one (its delta
// link) is dropped, so that the next pass is a full one of the new tenant.
func writeLink(ctx context.Context, tx pgx.Tx, tenant string, customerID, instanceID, msTenant uuid.UUID) error {
	// old is the tenant before the statement (NULL for a new link): the
	// FROM of an upsert cannot see it, a CTE's snapshot can.
	var changed bool
	err := tx.QueryRow(ctx, `
		WITH old AS (
			SELECT microsoft_tenant_id FROM provider_customers WHERE customer_id = $2 AND provider_instance_id = $3
		), up AS (
			INSERT INTO provider_customers (tenant, customer_id, provider_instance_id, microsoft_tenant_id)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (customer_id, provider_instance_id) DO UPDATE SET microsoft_tenant_id = EXCLUDED.microsoft_tenant_id
			WHERE provider_customers.microsoft_tenant_id <> EXCLUDED.microsoft_tenant_id
		)
		SELECT EXISTS (SELECT 1 FROM old WHERE microsoft_tenant_id <> $4)`,
		tenant, customerID, instanceID, msTenant).Scan(&changed)
	if err != nil || !changed {
		return err
	}
	_, err = tx.Exec(ctx, "DELETE FROM graph_sync WHERE customer_id = $1 AND provider_instance_id = $2", customerID, instanceID)
	return err
}
