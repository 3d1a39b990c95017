-- The users list at 100k users per customer (issue 16).
-- A customer's users, kept by a trigger so that every writer (the import,
-- the Graph mirror) keeps it exact in its own transaction: the list's
-- totalCount without a search reads it instead of counting every user on
-- every page (count(*) OVER () did).
ALTER TABLE customers ADD COLUMN user_count bigint NOT NULL DEFAULT 0 CHECK (user_count >= 0);
UPDATE customers c SET user_count = (SELECT count(*) FROM users u WHERE u.customer_id = c.id);

-- A row trigger that added one to the customer's row per user made a
-- 100k-user import take minutes (every update of the same row in one
-- transaction walks the row's growing chain of versions). Instead a user
-- written marks its customer dirty (a no-op after the first mark of a
-- transaction), and a deferred trigger recounts each dirty customer once,
-- at commit. A second writer of the same customer waits on the mark until
-- the first commits, so its own recount sees the first's users.
CREATE TABLE user_count_dirty (customer_id uuid PRIMARY KEY);

CREATE FUNCTION users_mark_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		INSERT INTO user_count_dirty VALUES (OLD.customer_id) ON CONFLICT DO NOTHING;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO user_count_dirty VALUES (NEW.customer_id) ON CONFLICT DO NOTHING;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER users_mark_count AFTER INSERT OR DELETE OR UPDATE OF customer_id ON users
	FOR EACH ROW EXECUTE FUNCTION users_mark_count();

CREATE FUNCTION users_settle_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE customers SET user_count = (SELECT count(*) FROM users WHERE customer_id = NEW.customer_id)
	WHERE id = NEW.customer_id;
	DELETE FROM user_count_dirty WHERE customer_id = NEW.customer_id;
	RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER users_settle_count AFTER INSERT ON user_count_dirty
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION users_settle_count();

-- Indexes that serve the substring search (ILIKE '%…%') on either name.
-- pg_trgm (a trusted extension: the database's owner may create it) lives
-- in public whatever the search_path, so that every schema of the database
-- shares one installation and dropping a schema cannot take it along.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
CREATE INDEX users_display_name_trgm ON users USING gin (display_name public.gin_trgm_ops);
CREATE INDEX users_upn_trgm ON users USING gin (user_principal_name public.gin_trgm_ops);

-- The list's two orders, so that a page is read in order from an index
-- instead of sorting every user of the customer (and so that keyset pages,
-- seek=Next/Previous with a continuationToken, start where they left off).
CREATE INDEX users_by_display_name ON users (customer_id, display_name COLLATE "C", id);
CREATE INDEX users_by_upn ON users (customer_id, user_principal_name COLLATE "C", id);
