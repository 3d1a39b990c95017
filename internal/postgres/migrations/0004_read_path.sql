-- The users list at 100k users per customer (issue 16).
-- A customer's users, kept by a trigger so that every writer (the import,
-- the Graph mirror) keeps it exact in its own transaction: the list's
-- totalCount without a search reads it instead of counting every user on
-- every page (count(*) OVER () did).
ALTER TABLE customers ADD COLUMN user_count bigint NOT NULL DEFAULT 0 CHECK (user_count >= 0);
UPDATE customers c SET user_count = (SELECT count(*) FROM users u WHERE u.customer_id = c.id);

CREATE FUNCTION users_keep_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.customer_id IS DISTINCT FROM NEW.customer_id) THEN
		UPDATE customers SET user_count = user_count - 1 WHERE id = OLD.customer_id;
	END IF;
	IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.customer_id IS DISTINCT FROM NEW.customer_id) THEN
		UPDATE customers SET user_count = user_count + 1 WHERE id = NEW.customer_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER users_keep_count AFTER INSERT OR DELETE OR UPDATE OF customer_id ON users
	FOR EACH ROW EXECUTE FUNCTION users_keep_count();

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
