-- The directory: tenants (portals, by normalized domain), their provider
-- instances and customers, the customers' users and licenses.
CREATE TABLE tenants (
	domain text PRIMARY KEY
);

CREATE TABLE provider_instances (
	id       uuid PRIMARY KEY,
	tenant   text NOT NULL REFERENCES tenants (domain),
	name     text NOT NULL,
	provider text NOT NULL
);
CREATE INDEX provider_instances_tenant ON provider_instances (tenant);

CREATE TABLE customers (
	id            uuid PRIMARY KEY,
	tenant        text NOT NULL REFERENCES tenants (domain),
	name          text NOT NULL,
	reseller_id   uuid,
	reseller_name text NOT NULL DEFAULT ''
);
CREATE INDEX customers_tenant ON customers (tenant);

CREATE TABLE users (
	id                  uuid PRIMARY KEY,
	customer_id         uuid NOT NULL REFERENCES customers (id),
	display_name        text NOT NULL,
	user_principal_name text NOT NULL,
	-- Lets assignments reference (customer, user) so that a user can only
	-- hold licenses of its own customer.
	UNIQUE (customer_id, id)
);

-- A license row is the seats a customer bought of one SKU under one
-- provider instance. Consumption is not stored: it is the number of
-- assignment rows, so it can never drift from the assignments.
CREATE TABLE licenses (
	customer_id          uuid NOT NULL REFERENCES customers (id),
	provider_instance_id uuid NOT NULL REFERENCES provider_instances (id),
	sku_id               uuid NOT NULL,
	name                 text NOT NULL,
	total                integer NOT NULL CHECK (total >= 0),
	suspended            integer NOT NULL CHECK (suspended >= 0),
	PRIMARY KEY (customer_id, provider_instance_id, sku_id)
);

CREATE TABLE assignments (
	customer_id          uuid NOT NULL,
	provider_instance_id uuid NOT NULL,
	sku_id               uuid NOT NULL,
	user_id              uuid NOT NULL,
	PRIMARY KEY (customer_id, provider_instance_id, sku_id, user_id),
	FOREIGN KEY (customer_id, provider_instance_id, sku_id)
		REFERENCES licenses (customer_id, provider_instance_id, sku_id),
	FOREIGN KEY (customer_id, user_id) REFERENCES users (customer_id, id)
);
-- HeldSKUs and the write path look assignments up by user.
CREATE INDEX assignments_user ON assignments (customer_id, provider_instance_id, user_id);

-- Audit records are history: they copy the names they show (customer,
-- reseller, SKU) instead of referencing rows that may change later.
CREATE TABLE audit_records (
	-- seq orders records written in the same microsecond, newest first.
	seq                  bigint GENERATED ALWAYS AS IDENTITY,
	id                   uuid PRIMARY KEY,
	created_at           timestamptz NOT NULL,
	tenant               text NOT NULL,
	actor                text NOT NULL,
	correlation_id       uuid NOT NULL,
	operation            text NOT NULL,
	status               text NOT NULL,
	customer_id          uuid NOT NULL,
	customer_name        text NOT NULL,
	reseller_id          uuid,
	reseller_name        text NOT NULL,
	user_id              uuid NOT NULL,
	provider_instance_id uuid NOT NULL,
	sku_id               uuid NOT NULL,
	sku_name             text NOT NULL
);
CREATE INDEX audit_records_tenant_time ON audit_records (tenant, created_at DESC, seq DESC);
CREATE INDEX audit_records_correlation ON audit_records (correlation_id);
