// Package postgres is the PostgreSQL licensing.Store, built on pgx and
// pgxpool, for several stateless replicas sharing one database.
//
// Seats stay exact across processes because ApplyUserLicenses locks the
// customer's license rows (SELECT … ORDER BY sku_id FOR UPDATE) before it
// reads consumption, and consumption is derived by counting assignment
// rows, never kept in a counter. Serialization failures and deadlocks are
// retried a bounded number of times, invisibly to the caller.
//
// Errors follow the domain: unknown things are licensing.NotFound, an
// unreachable database (refused or lost connection, pool or context
// timeout, server shutting down) is licensing.Unavailable, anything else is
// licensing.Internal with the cause attached.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cloudcockpit-oss/userlicenses/internal/groupcommit"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Config says how to reach and use the database.
type Config struct {
	// URL is a PostgreSQL connection URL or DSN, e.g.
	// postgres://user@host:5432/db?sslmode=disable. Parameters pgx does not
	// know are sent as run-time parameters, so ?search_path=myschema puts
	// the store in that schema (which must exist).
	URL string
	// MaxConns caps the pool; 0 keeps pgxpool's default (max(4, NumCPU)).
	// Across replicas, the sum must stay below the server's max_connections.
	MaxConns int32
	// ConnectTimeout bounds each connection attempt; 0 means 5s.
	ConnectTimeout time.Duration
	// StatementTimeout is set as statement_timeout on every connection so
	// that no statement runs unbounded even when the caller's context has
	// no deadline; 0 means 30s, a negative value leaves the server's value.
	StatementTimeout time.Duration
	// Now is the clock of audit records; nil means time.Now.
	Now func() time.Time
	// SkipMigrations makes Open leave the schema alone, for deployments that
	// run Migrate explicitly (licensesd migrate) before starting replicas.
	// By default Open applies the pending migrations.
	SkipMigrations bool
	// MaxAttempts bounds how often a transaction that failed with a
	// serialization failure or a deadlock is tried; 0 means 5.
	MaxAttempts int
}

// DB is a licensing.Store on a PostgreSQL connection pool. It is safe for
// concurrent use, and any number of DBs (in any number of processes) may
// share one database.
type DB struct {
	pool        *pgxpool.Pool
	now         func() time.Time
	maxAttempts int
	// The group-commit writer (groupcommit.go).
	queue     *groupcommit.Queue[*update]
	closeOnce sync.Once
}

// ObserveBatches sets the function told each group-commit batch's size
// and time; call it before serving.
func (db *DB) ObserveBatches(f func(size int, d time.Duration)) { db.queue.Observe(f) }

var _ licensing.Store = (*DB)(nil)

// Open connects to the database and, unless cfg.SkipMigrations, applies
// the pending migrations. It fails with licensing.Unavailable when the
// database cannot be reached.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// The parse error masks passwords; still, do not repeat the URL.
		return nil, licensing.Wrap(licensing.Invalid, err, "the PostgreSQL URL is not valid")
	}
	if cfg.MaxConns > 0 {
		pcfg.MaxConns = cfg.MaxConns
	}
	pcfg.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	if pcfg.ConnConfig.ConnectTimeout <= 0 {
		pcfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	st := cfg.StatementTimeout
	if st == 0 {
		st = 30 * time.Second
	}
	if st > 0 {
		pcfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(st.Milliseconds(), 10)
	}
	// Every statement of ours runs inside a transaction we end ourselves; a
	// session idling inside one means its client vanished while holding row
	// locks, so let the server free them rather than wait for TCP keepalive.
	if _, set := pcfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		pcfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "60000"
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, classify(err, "open the PostgreSQL pool")
	}
	db := &DB{pool: pool, now: cfg.Now, maxAttempts: cfg.MaxAttempts}
	if db.now == nil {
		db.now = time.Now
	}
	if db.maxAttempts <= 0 {
		db.maxAttempts = 5
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, classify(err, "reach PostgreSQL")
	}
	if !cfg.SkipMigrations {
		if err := db.Migrate(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	db.startWriter()
	return db, nil
}

// Pool exposes the connection pool, for tests and tools that need to look
// at the database directly.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close waits for the connections in use to be released and closes the
// pool.
func (db *DB) Close() error {
	db.closeOnce.Do(db.stopWriter)
	db.pool.Close()
	return nil
}

// Ready reports whether the database answers and every embedded migration
// has been applied; /readyz calls it, so a replica whose schema is behind
// its binary is taken out of rotation.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return classify(err, "reach PostgreSQL")
	}
	pending, err := db.Pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return licensing.Errorf(licensing.Unavailable, "the database schema lacks migrations %s", strings.Join(pending, ", "))
	}
	return nil
}

// retry runs fn until it succeeds, fails for good or the attempts run out.
// fn must be safe to repeat: it runs one whole transaction, or a read.
// Serialization failures and deadlocks are tried up to maxAttempts times;
// a connection that turns out dead before the transaction could commit
// (typically a pooled connection cut while idle) is retried once on a
// fresh connection, so that the store recovers without the caller
// noticing, while an unreachable database still fails fast.
func (db *DB) retry(ctx context.Context, fn func(ctx context.Context) error) error {
	connRetried := false
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		var (
			again   bool
			refused *decisionError
		)
		switch {
		case errors.As(err, &refused):
			return err // the rules said no; asking again gives the same answer
		case isConflict(err):
			again = attempt < db.maxAttempts
		case !connRetried && isConnLost(err) && !errors.Is(err, errCommitUnknown):
			again, connRetried = true, true
		}
		if !again || ctx.Err() != nil {
			return err
		}
		// Jittered exponential backoff: conflicting transactions retried at
		// the same instant would only collide again.
		base := time.Duration(1<<min(attempt, 6)) * time.Millisecond
		wait := base + rand.N(base)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// inTx runs fn in a READ COMMITTED transaction and commits, retrying as
// retry does. READ COMMITTED is set explicitly because the locking in
// ApplyUserLicenses relies on each statement seeing what the transactions
// it waited for committed, whatever the database's default isolation.
func (db *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return db.retry(ctx, func(ctx context.Context) error {
		tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
		if err != nil {
			return err
		}
		// Rollback after Commit is a no-op; after a failure it releases the
		// locks at once, or the dead connection is discarded by the pool. It
		// must run even when ctx is done, but not hang on a silent network.
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = tx.Rollback(rctx)
		}()
		if err := fn(ctx, tx); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			if isConnLost(err) {
				// COMMIT may or may not have reached the server: never retry
				// it blindly, report the database as unavailable.
				return fmt.Errorf("%w: %w", errCommitUnknown, err)
			}
			return err
		}
		return nil
	})
}

// errCommitUnknown marks a connection lost while committing: the outcome
// is unknown, so the transaction must not be repeated behind the caller's
// back. (Repeating the same update is harmless to the caller: it changes
// nothing the second time.)
var errCommitUnknown = errors.New("connection lost while committing; the outcome is unknown")

// isConflict reports a serialization failure or a deadlock: the server
// rolled the transaction back and trying again is the documented remedy.
func isConflict(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// isConnLost reports an error of the path to the database rather than of
// the statement: refused, reset or closed connections, connect failures.
func isConnLost(err error) bool {
	var (
		connect *pgconn.ConnectError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &connect), errors.As(err, &netErr),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, net.ErrClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), pgconn.Timeout(err):
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case strings.HasPrefix(pg.Code, "08"), // connection exception
			pg.Code == "57P01", pg.Code == "57P02", pg.Code == "57P03": // shutdown, crash, starting up
			return true
		}
	}
	// The pool reports acquiring from a closed pool only by message.
	return strings.Contains(err.Error(), "closed pool")
}

// classify turns a database error into a domain error: domain errors pass
// through, an unreachable or overloaded database is Unavailable (the HTTP
// layer answers 503 with Retry-After), anything else is Internal.
func classify(err error, doing string) error {
	if err == nil {
		return nil
	}
	var de *licensing.Error
	if errors.As(err, &de) {
		return err
	}
	if isConnLost(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return licensing.Wrap(licensing.Unavailable, err, "the database is unavailable (could not %s)", doing)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == "57014", // statement_timeout or cancel: the server is too slow right now
			strings.HasPrefix(pg.Code, "53"), // insufficient resources, e.g. too many connections
			pg.Code == "55P03",               // lock not available
			isConflict(err):                  // still conflicting after every retry
			return licensing.Wrap(licensing.Unavailable, err, "the database is busy (could not %s)", doing)
		}
	}
	return licensing.Wrap(licensing.Internal, err, "could not %s", doing)
}
