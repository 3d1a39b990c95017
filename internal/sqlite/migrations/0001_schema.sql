-- The directory: tenants (by normalized portal domain), their provider
-- instances and customers, the customers' users and licenses, and the
-- assignments of licenses to users. Consumed seats are never stored: they
-- are the count of assignment rows, so they cannot drift.
CREATE TABLE tenants (
    domain TEXT PRIMARY KEY
) STRICT;

CREATE TABLE provider_instances (
    id       TEXT PRIMARY KEY,
    tenant   TEXT NOT NULL REFERENCES tenants (domain),
    name     TEXT NOT NULL,
    provider TEXT NOT NULL
) STRICT;

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL REFERENCES tenants (domain),
    name          TEXT NOT NULL,
    reseller_id   TEXT,
    reseller_name TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX customers_by_tenant ON customers (tenant, id);

-- display_key and upn_key hold the names lower-cased by Go (SQLite's
-- lower() and LIKE fold ASCII only), for case-insensitive substring search.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    customer_id         TEXT NOT NULL REFERENCES customers (id),
    display_name        TEXT NOT NULL,
    user_principal_name TEXT NOT NULL,
    display_key         TEXT NOT NULL,
    upn_key             TEXT NOT NULL,
    UNIQUE (customer_id, id)
) STRICT;
CREATE INDEX users_by_display_name ON users (customer_id, display_name COLLATE NOCASE, id);
CREATE INDEX users_by_upn ON users (customer_id, user_principal_name COLLATE NOCASE, id);

CREATE TABLE licenses (
    customer_id          TEXT NOT NULL REFERENCES customers (id),
    provider_instance_id TEXT NOT NULL REFERENCES provider_instances (id),
    sku_id               TEXT NOT NULL,
    name                 TEXT NOT NULL,
    total                INTEGER NOT NULL CHECK (total >= 0),
    suspended            INTEGER NOT NULL CHECK (suspended >= 0),
    PRIMARY KEY (customer_id, provider_instance_id, sku_id)
) STRICT, WITHOUT ROWID;

-- The user must be the license's customer's: the composite key says so.
CREATE TABLE assignments (
    customer_id          TEXT NOT NULL,
    provider_instance_id TEXT NOT NULL,
    sku_id               TEXT NOT NULL,
    user_id              TEXT NOT NULL,
    PRIMARY KEY (customer_id, provider_instance_id, sku_id, user_id),
    FOREIGN KEY (customer_id, provider_instance_id, sku_id)
        REFERENCES licenses (customer_id, provider_instance_id, sku_id) ON DELETE CASCADE,
    FOREIGN KEY (customer_id, user_id) REFERENCES users (customer_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX assignments_by_user ON assignments (user_id, provider_instance_id, sku_id);

-- Audit records are history: they copy the names they show and reference
-- nothing, so that they outlive renames. created_at is Unix nanoseconds
-- from the store's clock; seq breaks ties between records of one commit.
-- The *_key columns are lower-cased by Go for substring filters.
CREATE TABLE audit_records (
    seq                  INTEGER PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE,
    created_at           INTEGER NOT NULL,
    tenant               TEXT NOT NULL,
    actor                TEXT NOT NULL,
    correlation_id       TEXT NOT NULL,
    operation            TEXT NOT NULL,
    status               TEXT NOT NULL,
    customer_id          TEXT NOT NULL,
    customer_name        TEXT NOT NULL,
    customer_name_key    TEXT NOT NULL,
    reseller_id          TEXT,
    reseller_name        TEXT NOT NULL,
    reseller_name_key    TEXT NOT NULL,
    user_id              TEXT NOT NULL,
    provider_instance_id TEXT NOT NULL,
    sku_id               TEXT NOT NULL,
    sku_name             TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_tenant_time ON audit_records (tenant, created_at DESC, seq DESC);
CREATE INDEX audit_by_correlation ON audit_records (tenant, correlation_id);
CREATE INDEX audit_by_customer ON audit_records (tenant, customer_id);
