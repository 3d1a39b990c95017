-- Microsoft Graph as a directory. A provider instance says where its seats
-- live (local: these tables; graph: the customers' Microsoft 365 tenants)
-- and, for graph, which partner app signs in: its id and a reference to its
-- secret (an environment variable or a file), never the secret.
ALTER TABLE provider_instances
	ADD COLUMN directory text NOT NULL DEFAULT 'local' CHECK (directory IN ('local', 'graph')),
	ADD COLUMN graph_client_id text NOT NULL DEFAULT '',
	ADD COLUMN graph_secret_env text NOT NULL DEFAULT '',
	ADD COLUMN graph_secret_file text NOT NULL DEFAULT '',
	ADD COLUMN graph_default_usage_location text NOT NULL DEFAULT '';

-- A customer's link to a graph instance: its Entra tenant. The mirror of
-- that tenant lives in the ordinary tables (users of the customer, licenses
-- and assignments under the instance), so every read works unchanged.
CREATE TABLE provider_customers (
	tenant               text NOT NULL REFERENCES tenants (domain),
	customer_id          uuid NOT NULL REFERENCES customers (id),
	provider_instance_id uuid NOT NULL REFERENCES provider_instances (id),
	microsoft_tenant_id  uuid NOT NULL,
	PRIMARY KEY (customer_id, provider_instance_id)
);
-- GraphLinks walks every link by tenant, customer and instance.
CREATE INDEX provider_customers_tenant ON provider_customers (tenant, customer_id, provider_instance_id);
-- An instance's links, for the import's check that a linked instance stays graph.
CREATE INDEX provider_customers_instance ON provider_customers (provider_instance_id);

-- What the mirror remembers of a link's last sync (synced_at NULL: never).
CREATE TABLE graph_sync (
	customer_id          uuid NOT NULL,
	provider_instance_id uuid NOT NULL,
	delta_link           text NOT NULL DEFAULT '',
	synced_at            timestamptz,
	PRIMARY KEY (customer_id, provider_instance_id),
	FOREIGN KEY (customer_id, provider_instance_id)
		REFERENCES provider_customers (customer_id, provider_instance_id) ON DELETE CASCADE
);

-- Mirrored users: their usage location (Graph refuses an assignment
-- without one), which instance's mirror wrote them (NULL: imported) and
-- when it last saw them (the store's clock), so that a full pass can
-- delete the users Graph no longer lists.
ALTER TABLE users
	ADD COLUMN usage_location text NOT NULL DEFAULT '',
	ADD COLUMN mirror_instance_id uuid REFERENCES provider_instances (id),
	ADD COLUMN mirrored_at timestamptz;
CREATE INDEX users_mirror ON users (customer_id, mirror_instance_id, mirrored_at);

-- Deleting a user deletes its assignments by user first; this finds them
-- without a scan of the customer's assignments.
CREATE INDEX assignments_customer_user ON assignments (customer_id, user_id);

-- Records a crash left Processing, per link, oldest first: few rows, so a
-- partial index.
CREATE INDEX audit_records_processing ON audit_records (tenant, customer_id, provider_instance_id, created_at, seq)
	WHERE status = 'Processing';
