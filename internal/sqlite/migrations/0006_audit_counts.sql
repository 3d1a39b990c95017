-- A tenant's audit records, kept by a trigger (issue 16): the audit log's
-- first page without filters, the page an administrator opens, counted up
-- to AuditCountLimit (10,000) index entries per request for its totalCount,
-- which made it the slowest read once the log had grown. Records are never
-- deleted and never change tenant, so one trigger on insert keeps it exact
-- in the writer's own transaction.
CREATE TABLE audit_counts (
    tenant TEXT PRIMARY KEY,
    n      INTEGER NOT NULL CHECK (n >= 0)
) STRICT;
INSERT INTO audit_counts (tenant, n) SELECT tenant, count(*) FROM audit_records GROUP BY tenant;

CREATE TRIGGER audit_count_insert AFTER INSERT ON audit_records BEGIN
    INSERT INTO audit_counts (tenant, n) VALUES (NEW.tenant, 1)
    ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
