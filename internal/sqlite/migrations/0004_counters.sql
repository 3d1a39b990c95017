-- Counters the read path would otherwise count on every request (issue 16):
-- a license's consumed seats, kept by triggers on assignments so that every
-- writer (updates, the import, cascades) keeps them exact in its own
-- transaction. Reading a user's licenses no longer scans every assignment
-- of a SKU, so it costs the same at 1k and at 100k users.
ALTER TABLE licenses ADD COLUMN consumed INTEGER NOT NULL DEFAULT 0 CHECK (consumed >= 0);
UPDATE licenses SET consumed = (
    SELECT count(*) FROM assignments a
    WHERE a.customer_id = licenses.customer_id AND a.provider_instance_id = licenses.provider_instance_id
      AND a.sku_id = licenses.sku_id);

CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments BEGIN
    UPDATE licenses SET consumed = consumed + 1
    WHERE customer_id = NEW.customer_id AND provider_instance_id = NEW.provider_instance_id AND sku_id = NEW.sku_id;
END;

CREATE TRIGGER assignments_count_delete AFTER DELETE ON assignments BEGIN
    UPDATE licenses SET consumed = consumed - 1
    WHERE customer_id = OLD.customer_id AND provider_instance_id = OLD.provider_instance_id AND sku_id = OLD.sku_id;
END;
