package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// Import writes the snapshot in one transaction. Rows that exist are
// updated, so importing twice changes nothing; each listed license's
// assignments become exactly its assignedUserIds; what the snapshot does
// not list is left alone. A snapshot whose ids already belong elsewhere (a
// customer of another tenant, a user of another customer, a provider
// instance of another tenant) is rejected whole with Invalid.
func (db *DB) Import(ctx context.Context, s licensing.Snapshot) error {
	// Validate again: a store must not rely on every caller having done so.
	if err := s.Validate(); err != nil {
		return err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return dbError(err, "starting the import")
	}
	defer tx.Rollback()
	if err := checkCollisions(ctx, tx, s); err != nil {
		return err
	}
	if err := write(ctx, tx, s); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return dbError(err, "committing the import")
	}
	return nil
}

// checkCollisions reads, before anything is written, whether an id of the
// snapshot already belongs to another parent, and names every such place.
func checkCollisions(ctx context.Context, tx *sql.Tx, s licensing.Snapshot) error {
	e := licensing.Errorf(licensing.Invalid, "the snapshot's ids collide with existing data; nothing was imported")
	owner := func(query string, id string) (string, error) {
		var parent string
		err := tx.QueryRowContext(ctx, query, id).Scan(&parent)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return parent, err
	}
	for ti, t := range s.Tenants {
		tenant := licensing.NormalizeTenant(t.Domain)
		for pi, p := range t.ProviderInstances {
			got, err := owner(`SELECT tenant FROM provider_instances WHERE id = ?`, canonical(p.ID))
			if err != nil {
				return dbError(err, "checking the snapshot")
			}
			if got != "" && got != tenant {
				e.Add(fmt.Sprintf("tenants[%d].providerInstances[%d].id", ti, pi), "provider instance %s belongs to another tenant", p.ID)
			}
			if p.Directory != licensing.DirectoryGraph {
				// Links are never deleted by an import, so a linked
				// instance turned local would leave customers pointing at
				// a Microsoft tenant nothing syncs.
				var linked bool
				if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM provider_customers WHERE provider_instance_id = ?)`,
					canonical(p.ID)).Scan(&linked); err != nil {
					return dbError(err, "checking the snapshot")
				}
				if linked {
					e.Add(fmt.Sprintf("tenants[%d].providerInstances[%d].directory", ti, pi),
						"provider instance %s has customers linked to their Microsoft tenants; it must stay \"graph\"", p.ID)
				}
			}
		}
		for ci, c := range t.Customers {
			got, err := owner(`SELECT tenant FROM customers WHERE id = ?`, canonical(c.ID))
			if err != nil {
				return dbError(err, "checking the snapshot")
			}
			if got != "" && got != tenant {
				e.Add(fmt.Sprintf("tenants[%d].customers[%d].id", ti, ci), "customer %s belongs to another tenant", c.ID)
			}
			if len(c.Users) > 0 {
				var linked bool
				if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM provider_customers WHERE customer_id = ?)`,
					canonical(c.ID)).Scan(&linked); err != nil {
					return dbError(err, "checking the snapshot")
				}
				if linked {
					e.Add(fmt.Sprintf("tenants[%d].customers[%d].users", ti, ci),
						"customer %s is linked to a graph instance: its users come from its Microsoft 365 tenant, list none here", c.ID)
				}
			}
			for ui, u := range c.Users {
				got, err := owner(`SELECT customer_id FROM users WHERE id = ?`, canonical(u.ID))
				if err != nil {
					return dbError(err, "checking the snapshot")
				}
				if got != "" && got != canonical(c.ID) {
					e.Add(fmt.Sprintf("tenants[%d].customers[%d].users[%d].id", ti, ci, ui), "user %s belongs to another customer", u.ID)
				}
			}
		}
	}
	if len(e.Properties) > 0 {
		return e
	}
	return nil
}

// canonical returns the stored form of a validated uuid: lower case.
func canonical(id string) string { return uuid.MustParse(id).String() }

func write(ctx context.Context, tx *sql.Tx, s licensing.Snapshot) error {
	exec := func(what, query string, args ...any) error {
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return dbError(err, "importing "+what)
		}
		return nil
	}
	for _, t := range s.Tenants {
		tenant := licensing.NormalizeTenant(t.Domain)
		if err := exec("a tenant", `INSERT INTO tenants (domain) VALUES (?) ON CONFLICT DO NOTHING`, tenant); err != nil {
			return err
		}
		for _, p := range t.ProviderInstances {
			d := instanceSettings(p)
			if err := exec("a provider instance", `
				INSERT INTO provider_instances (id, tenant, name, provider, directory, graph_client_id, graph_secret_env,
					graph_secret_file, graph_default_usage_location) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET name = excluded.name, provider = excluded.provider,
					directory = excluded.directory, graph_client_id = excluded.graph_client_id,
					graph_secret_env = excluded.graph_secret_env, graph_secret_file = excluded.graph_secret_file,
					graph_default_usage_location = excluded.graph_default_usage_location`,
				canonical(p.ID), tenant, p.Name, p.Provider, d.Directory, d.Graph.ClientID, d.Graph.ClientSecretEnv,
				d.Graph.ClientSecretFile, d.Graph.DefaultUsageLocation); err != nil {
				return err
			}
		}
		for _, c := range t.Customers {
			cid := canonical(c.ID)
			var reseller any
			if c.ResellerID != "" {
				reseller = canonical(c.ResellerID)
			}
			if err := exec("a customer", `
				INSERT INTO customers (id, tenant, name, reseller_id, reseller_name) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET name = excluded.name, reseller_id = excluded.reseller_id,
					reseller_name = excluded.reseller_name`,
				cid, tenant, c.Name, reseller, c.ResellerName); err != nil {
				return err
			}
			for _, l := range c.ProviderCustomers {
				if err := writeLink(ctx, tx, tenant, cid, canonical(l.ProviderInstanceID), canonical(l.MicrosoftTenantID)); err != nil {
					return err
				}
			}
			for _, u := range c.Users {
				if err := exec("a user", `
					INSERT INTO users (id, customer_id, display_name, user_principal_name, display_key, upn_key)
					VALUES (?, ?, ?, ?, ?, ?)
					ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
						user_principal_name = excluded.user_principal_name,
						display_key = excluded.display_key, upn_key = excluded.upn_key`,
					canonical(u.ID), cid, u.DisplayName, u.UserPrincipalName,
					strings.ToLower(u.DisplayName), strings.ToLower(u.UserPrincipalName)); err != nil {
					return err
				}
			}
			for _, l := range c.Licenses {
				pi, sku := canonical(l.ProviderInstanceID), canonical(l.SKUID)
				if err := exec("a license", `
					INSERT INTO licenses (customer_id, provider_instance_id, sku_id, name, total, suspended)
					VALUES (?, ?, ?, ?, ?, ?)
					ON CONFLICT (customer_id, provider_instance_id, sku_id) DO UPDATE SET
						name = excluded.name, total = excluded.total, suspended = excluded.suspended`,
					cid, pi, sku, l.Name, l.TotalLicenses, l.SuspendedLicenses); err != nil {
					return err
				}
				if err := exec("assignments", `DELETE FROM assignments WHERE customer_id = ? AND provider_instance_id = ? AND sku_id = ?`,
					cid, pi, sku); err != nil {
					return err
				}
				for _, a := range l.AssignedUserIDs {
					if err := exec("an assignment", `
						INSERT INTO assignments (customer_id, provider_instance_id, sku_id, user_id) VALUES (?, ?, ?, ?)`,
						cid, pi, sku, canonical(a)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
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
func writeLink(ctx context.Context, tx *sql.Tx, tenant, customerID, instanceID, msTenant string) error {
	var old string
	err := tx.QueryRowContext(ctx, `SELECT microsoft_tenant_id FROM provider_customers WHERE customer_id = ? AND provider_instance_id = ?`,
		customerID, instanceID).Scan(&old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO provider_customers (tenant, customer_id, provider_instance_id, microsoft_tenant_id)
			VALUES (?, ?, ?, ?)`, tenant, customerID, instanceID, msTenant)
	case err == nil && old != msTenant:
		if _, err = tx.ExecContext(ctx, `UPDATE provider_customers SET microsoft_tenant_id = ? WHERE customer_id = ? AND provider_instance_id = ?`,
			msTenant, customerID, instanceID); err == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM graph_sync WHERE customer_id = ? AND provider_instance_id = ?`, customerID, instanceID)
		}
	}
	if err != nil {
		return dbError(err, "importing a provider customer link")
	}
	return nil
}
