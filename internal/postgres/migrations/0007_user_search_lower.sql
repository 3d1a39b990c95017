-- Users' names lowercased once, when written, for the search (issue 16).
-- The search was ILIKE on both names, served by 0004's trigram indexes at
-- 100k users; at 10k the planner judged a scan of the customer's users
-- cheaper (it prices ILIKE like any operator) and ILIKE lowercased every
-- name of every row on every request: 14 ms for 10k users, searches 5-6x
-- slower than at 1k. LIKE on names lowercased in advance scans 10k rows in
-- about 2 ms (8 ms with ILIKE, same rows), and the trigram indexes move to
-- the lowercased names so that large customers keep their index path.
ALTER TABLE users
	ADD COLUMN display_name_lower text GENERATED ALWAYS AS (lower(display_name)) STORED,
	ADD COLUMN user_principal_name_lower text GENERATED ALWAYS AS (lower(user_principal_name)) STORED;
CREATE INDEX users_display_name_lower_trgm ON users USING gin (display_name_lower public.gin_trgm_ops);
CREATE INDEX users_upn_lower_trgm ON users USING gin (user_principal_name_lower public.gin_trgm_ops);
DROP INDEX users_display_name_trgm;
DROP INDEX users_upn_trgm;
