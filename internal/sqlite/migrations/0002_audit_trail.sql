-- Refused updates are audited too (status Failed, with the reason), and
-- every published audit filter is served by an index instead of a scan of
-- the tenant's records.
ALTER TABLE audit_records ADD COLUMN reason TEXT NOT NULL DEFAULT '';

CREATE INDEX audit_by_reseller_time ON audit_records (tenant, reseller_id, created_at DESC, seq DESC);
CREATE INDEX audit_by_status_time ON audit_records (tenant, status, created_at DESC, seq DESC);
CREATE INDEX audit_by_operation_time ON audit_records (tenant, operation, created_at DESC, seq DESC);
DROP INDEX audit_by_customer;
CREATE INDEX audit_by_customer_time ON audit_records (tenant, customer_id, created_at DESC, seq DESC);

-- The names the audit trail has recorded, one row per customer or reseller
-- and name: the Customer and Reseller filters (substrings) look here first,
-- among a few names, and then use the indexes above by id.
CREATE TABLE audit_names (
    tenant   TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('customer', 'reseller')),
    id       TEXT NOT NULL,
    name_key TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, id, name_key)
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO audit_names (tenant, kind, id, name_key)
    SELECT tenant, 'customer', customer_id, customer_name_key FROM audit_records;
INSERT OR IGNORE INTO audit_names (tenant, kind, id, name_key)
    SELECT tenant, 'reseller', reseller_id, reseller_name_key FROM audit_records WHERE reseller_id IS NOT NULL;
