// Package sqlite is the embedded licensing.Store, on modernc.org/sqlite
// (pure Go, no cgo). The database runs in WAL mode with synchronous=FULL,
// so a nil error from a write means the change is on disk, and with
// foreign keys enforced. Writes go through one connection that begins its
// transactions with BEGIN IMMEDIATE: writers queue in Go instead of
// spinning on SQLITE_BUSY, and a second process (licensesd seed next to
// licensesd serve) is kept out by SQLite's lock, waiting up to the busy
// timeout. Reads use a separate pool of read-only connections, which WAL
// lets run beside the writer.
//
// One writer was measured against eight pooled writers (each BEGIN
// IMMEDIATE, waiting in SQLite's busy handler) with
// go test -run '^$' -bench 'ApplyUserLicenses/parallel' -cpu 2,8: about
// 630 against 320 updates/s at 8 goroutines on a 2-CPU machine. The fsync
// of each commit dominates (about 1.6 ms), so the next gain is batching
// queued updates into one commit (see applyUpdate), not more writers.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/groupcommit"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/migration"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Config says which database to open and how.
type Config struct {
	// Path is a file path ("licenses.db") or an SQLite URI
	// ("file:licenses.db?cache=private"). The file is created when missing.
	// A plain path may not contain '?'.
	Path string
	// Now is the clock of the audit trail; nil means time.Now.
	Now func() time.Time
	// BusyTimeout bounds how long a statement waits for another process's
	// lock before failing with licensing.Unavailable; zero means 5s.
	BusyTimeout time.Duration
	// MaxReadConns bounds the read pool; zero means max(4, GOMAXPROCS).
	MaxReadConns int
}

// DB is the SQLite store. It is safe for concurrent use.
type DB struct {
	write *sql.DB // one connection: the single writer
	read  *sql.DB // query_only connections
	// readStmts and writeStmts prepare the fixed queries once per pool;
	// listStmts the list pages' queries, up to listStatements of them.
	readStmts, writeStmts, listStmts *stmtCache
	// views keeps users' views between changes (viewcache.go).
	views *viewCache
	// readGate admits as many readers as the read pool has connections,
	// first come first served (readgate.go).
	readGate chan struct{}
	// The group-commit writer (groupcommit.go).
	queue     *groupcommit.Queue[*update]
	closeOnce sync.Once
	now       func() time.Time
	path      string
}

var _ licensing.Store = (*DB)(nil)

// Open opens (creating if needed) the database and applies the embedded
// schema migrations not applied yet.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if strings.TrimSpace(cfg.Path) == "" {
		return nil, licensing.Errorf(licensing.Invalid, "sqlite: a database path is required")
	}
	if !strings.HasPrefix(cfg.Path, "file:") && strings.Contains(cfg.Path, "?") {
		return nil, licensing.Errorf(licensing.Invalid, "sqlite: %q: a plain path may not contain '?'; use a file: URI", cfg.Path)
	}
	db := &DB{now: cfg.Now, path: cfg.Path}
	if db.now == nil {
		db.now = time.Now
	}
	busy := cfg.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	common := []string{
		// busy_timeout first: the pragmas after it may need a lock.
		fmt.Sprintf("_pragma=busy_timeout(%d)", busy.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(FULL)",
	}
	var err error
	// temp_store(MEMORY): the savepoint journal of a batch (a savepoint
	// per update) stays in memory instead of spilling to a temp file, a
	// pwrite per page; it only ever undoes a refused update inside the
	// batch's transaction, so durability is the WAL's as before.
	db.write, err = sql.Open("sqlite", dsn(cfg.Path, append(common, "_pragma=journal_mode(WAL)", "_pragma=temp_store(MEMORY)", "_txlock=immediate")))
	if err != nil {
		return nil, dbError(err, "opening "+cfg.Path)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxIdleTime(0)
	db.write.SetConnMaxLifetime(0)
	if err := db.migrate(ctx); err != nil {
		db.write.Close()
		return nil, err
	}
	readDSN := dsn(cfg.Path, append(common, "_pragma=query_only(1)"))
	db.read, err = sql.Open("sqlite", readDSN)
	if err != nil {
		db.write.Close()
		return nil, dbError(err, "opening "+cfg.Path)
	}
	n := cfg.MaxReadConns
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	db.readGate = make(chan struct{}, n)
	watch, err := sql.Open("sqlite", readDSN) // a read connection of its own (viewcache.go)
	if err != nil {
		db.read.Close()
		db.write.Close()
		return nil, dbError(err, "opening "+cfg.Path)
	}
	db.views = newViewCache(watch, viewCacheEntries, readCacheWeight)
	db.readStmts, db.writeStmts = newStmtCache(db.read, 0), newStmtCache(db.write, 0)
	db.listStmts = newStmtCache(db.read, listStatements)
	db.startWriter()
	return db, nil
}

// dsn appends the driver's parameters to a path or file: URI.
func dsn(path string, params []string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + strings.Join(params, "&")
}

// Close closes both pools. The write connection's close checkpoints the WAL.
func (db *DB) Close() error {
	db.closeOnce.Do(db.stopWriter)
	db.readStmts.close()
	db.writeStmts.close()
	db.listStmts.close()
	return errors.Join(db.views.close(), db.read.Close(), db.write.Close())
}

// Ready reports whether the database answers and carries the schema this
// binary expects.
func (db *DB) Ready(ctx context.Context) error {
	v, err := schemaVersion(ctx, db.read)
	if err != nil {
		return dbError(err, "reading the schema version")
	}
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return licensing.Wrap(licensing.Internal, err, "reading the embedded migrations")
	}
	if want := ms[len(ms)-1].Version; v != want {
		return licensing.Errorf(licensing.Unavailable, "the database schema is at version %d, this binary needs %d", v, want)
	}
	return nil
}

// dbError maps a database error to the domain: a lock still held after the
// busy timeout (or a canceled wait) is Unavailable, worth retrying;
// anything else is Internal with the cause kept for the logs.
func dbError(err error, what string) error {
	if err == nil {
		return nil
	}
	var le *licensing.Error
	if errors.As(err, &le) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return licensing.Wrap(licensing.Unavailable, err, "%s: the request ended before the database answered", what)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return licensing.Wrap(licensing.Unavailable, err, "%s: the database is busy; try again", what)
		case sqlite3.SQLITE_INTERRUPT: // the request's deadline interrupted the statement
			return licensing.Wrap(licensing.Unavailable, err, "%s: the request ended before the database answered", what)
		}
	}
	return licensing.Wrap(licensing.Internal, err, "%s", what)
}

// Pools returns the read and write pools, for their metrics.
func (db *DB) Pools() map[string]*sql.DB {
	return map[string]*sql.DB{"sqlite-read": db.read, "sqlite-write": db.write}
}

// ViewCacheLookups returns how many reads of a user's view were served
// from the cache and how many read the database.
func (db *DB) ViewCacheLookups() (hits, misses uint64) { return db.views.lookups() }

// ReadCacheLookups returns how many of the other cached reads (readcache.go)
// were served from the cache, and how many were not.
func (db *DB) ReadCacheLookups() (hits, misses uint64) { return db.views.readLookups() }

// ObserveBatches sets the function told each group-commit batch's size
// and time; call it before serving.
func (db *DB) ObserveBatches(f func(size int, d time.Duration)) { db.queue.Observe(f) }
