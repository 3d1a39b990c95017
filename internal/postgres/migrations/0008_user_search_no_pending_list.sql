-- The users' trigram indexes without GIN's pending list (issue 16).
-- With fastupdate on (the default), inserted names wait in an unsorted
-- pending list that every search reads in full until VACUUM or autovacuum's
-- ANALYZE merges it (the import's own ANALYZE does not): after importing
-- 100k users the list held 131 and 291 pages, and a search read all 429 of
-- them, 9 ms of its 10, where the merged index takes 14 pages and 1 ms.
-- Users are written by imports and the Graph mirror, searched on every
-- request of the users list with a search, so inserts pay the index's
-- cost instead. The lists already there are merged now.
ALTER INDEX users_display_name_lower_trgm SET (fastupdate = off);
ALTER INDEX users_upn_lower_trgm SET (fastupdate = off);
SELECT pg_catalog.gin_clean_pending_list('users_display_name_lower_trgm'::regclass);
SELECT pg_catalog.gin_clean_pending_list('users_upn_lower_trgm'::regclass);
