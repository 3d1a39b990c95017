-- Consumed seats kept on the license row (issue 16). Every read of a
-- customer's licenses and every update counted the SKU's assignments
-- (count(*) over up to 100k rows per SKU), so reads and the write path
-- slowed down with the customer's size. Statement-level triggers with
-- transition tables keep the count exact for every writer (the write path,
-- the import, the Graph mirror, a cascade): one UPDATE of each license
-- touched per statement, however many rows the statement wrote, so a
-- 100k-row import does not rewrite the same license row 100k times (see
-- 0004 for why that matters). A license row is updated only by the
-- transaction that changes its assignments; the write path already holds
-- it FOR UPDATE, and under READ COMMITTED a concurrent writer's UPDATE waits
-- for that lock and then adds to the committed count.
ALTER TABLE licenses ADD COLUMN consumed integer NOT NULL DEFAULT 0 CHECK (consumed >= 0);
UPDATE licenses l SET consumed = (SELECT count(*) FROM assignments a
	WHERE a.customer_id = l.customer_id AND a.provider_instance_id = l.provider_instance_id AND a.sku_id = l.sku_id);

CREATE FUNCTION assignments_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		UPDATE licenses l SET consumed = l.consumed - o.n
		FROM (SELECT customer_id, provider_instance_id, sku_id, count(*)::integer AS n FROM old_rows
		      GROUP BY customer_id, provider_instance_id, sku_id) o
		WHERE l.customer_id = o.customer_id AND l.provider_instance_id = o.provider_instance_id AND l.sku_id = o.sku_id;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		UPDATE licenses l SET consumed = l.consumed + n.n
		FROM (SELECT customer_id, provider_instance_id, sku_id, count(*)::integer AS n FROM new_rows
		      GROUP BY customer_id, provider_instance_id, sku_id) n
		WHERE l.customer_id = n.customer_id AND l.provider_instance_id = n.provider_instance_id AND l.sku_id = n.sku_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION assignments_count();
CREATE TRIGGER assignments_count_delete AFTER DELETE ON assignments
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION assignments_count();
CREATE TRIGGER assignments_count_update AFTER UPDATE ON assignments
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION assignments_count();
