-- An index that serves the users list's substring search (issue 16): an
-- FTS5 trigram index over the lower-cased display name and user principal
-- name, kept by triggers. instr() over every user of a customer scanned
-- 100k rows per search; the trigram index finds the candidates, and the
-- query still checks instr() on them, so the answer is exactly the same.
-- (Searches shorter than three characters, which trigrams cannot serve,
-- still scan.)
CREATE VIRTUAL TABLE users_search USING fts5(
    display_key, upn_key, content = 'users', content_rowid = 'rowid', tokenize = 'trigram');
INSERT INTO users_search (users_search) VALUES ('rebuild');

CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, display_key, upn_key) VALUES (NEW.rowid, NEW.display_key, NEW.upn_key);
END;

CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, display_key, upn_key) VALUES ('delete', OLD.rowid, OLD.display_key, OLD.upn_key);
END;

CREATE TRIGGER users_search_update AFTER UPDATE OF display_key, upn_key ON users BEGIN
    INSERT INTO users_search (users_search, rowid, display_key, upn_key) VALUES ('delete', OLD.rowid, OLD.display_key, OLD.upn_key);
    INSERT INTO users_search (rowid, display_key, upn_key) VALUES (NEW.rowid, NEW.display_key, NEW.upn_key);
END;
