-- Refused updates are audited too (status Failed, with the reason), and
-- every published audit filter is served by an index instead of a scan of
-- the tenant's records.
ALTER TABLE audit_records ADD COLUMN reason text NOT NULL DEFAULT '';

CREATE INDEX audit_records_reseller_time ON audit_records (tenant, reseller_id, created_at DESC, seq DESC);
CREATE INDEX audit_records_status_time ON audit_records (tenant, status, created_at DESC, seq DESC);
CREATE INDEX audit_records_operation_time ON audit_records (tenant, operation, created_at DESC, seq DESC);
CREATE INDEX audit_records_customer_time ON audit_records (tenant, customer_id, created_at DESC, seq DESC);

-- The names the audit trail has recorded, one row per customer or reseller
-- and name: the Customer and Reseller filters (substrings) look here first,
-- among a few names, and then use the indexes above by id.
CREATE TABLE audit_names (
	tenant text NOT NULL,
	kind   text NOT NULL CHECK (kind IN ('customer', 'reseller')),
	id     uuid NOT NULL,
	name   text NOT NULL,
	PRIMARY KEY (tenant, kind, id, name)
);
INSERT INTO audit_names (tenant, kind, id, name)
	SELECT DISTINCT tenant, 'customer', customer_id, customer_name FROM audit_records
	ON CONFLICT DO NOTHING;
INSERT INTO audit_names (tenant, kind, id, name)
	SELECT DISTINCT tenant, 'reseller', reseller_id, reseller_name FROM audit_records WHERE reseller_id IS NOT NULL
	ON CONFLICT DO NOTHING;
