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

-- A customer's users, kept the same way: the users list's totalCount
-- without a search reads it instead of counting up to 100k rows per page.
ALTER TABLE customers ADD COLUMN user_count INTEGER NOT NULL DEFAULT 0 CHECK (user_count >= 0);
UPDATE customers SET user_count = (SELECT count(*) FROM users u WHERE u.customer_id = customers.id);

CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
    UPDATE customers SET user_count = user_count + 1 WHERE id = NEW.customer_id;
END;

CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
    UPDATE customers SET user_count = user_count - 1 WHERE id = OLD.customer_id;
END;

CREATE TRIGGER users_count_move AFTER UPDATE OF customer_id ON users WHEN OLD.customer_id IS NOT NEW.customer_id BEGIN
    UPDATE customers SET user_count = user_count - 1 WHERE id = OLD.customer_id;
    UPDATE customers SET user_count = user_count + 1 WHERE id = NEW.customer_id;
END;
