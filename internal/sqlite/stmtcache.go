package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// listStatements is how many list queries the read pool keeps prepared:
// every shape of the users list (sorts, searches, directions: 18) and the
// audit log's common filters. Each is prepared on each read connection
// that runs it, a few kilobytes of SQLite's memory each.
const listStatements = 128

// stmtCache prepares each fixed query once per pool and reuses it:
// profiling the GET showed a quarter of its time in SQLite parsing the
// same five statements again on every request. database/sql keeps the
// prepared statement per connection and re-prepares it on a new one.
//
// The point reads and the writes, whose text is fixed, go through a cache
// without a limit.
//
// Inside a transaction nothing is prepared (preparing on the pool would
// wait for a connection, and the writer's only one is the transaction's):
// a query not prepared yet runs unprepared and is noted, and
// preparePending prepares the noted ones once the transaction is over.
//
// A cache with a limit (the list queries' one) prepares no more than that
// many queries; the others run unprepared. The list queries' text depends
// on which filters a request gives (a few thousand combinations for the
// audit log), so the first ones asked, in practice the common shapes,
// stay prepared and a caller cannot make the cache grow.
type stmtCache struct {
	db      *sql.DB
	limit   int // 0: every query is prepared
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
}

func newStmtCache(db *sql.DB, limit int) *stmtCache {
	return &stmtCache{db: db, limit: limit, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// lookup returns the prepared statement or nil, noting the query.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[query]; ok {
		return s
	}
	c.pending[query] = true
	return nil
}

// preparePending prepares the queries noted inside transactions; call it
// with no transaction of this pool open in this goroutine.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	c.pending = map[string]bool{}
	c.mu.Unlock()
	for _, q := range queries {
		_, _ = c.stmt(ctx, q) // a failure leaves the query unprepared
	}
}

// stmt returns the prepared statement, preparing it on the pool first,
// or nil when the cache is full. The lock is not held while preparing,
// which waits for a connection.
func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	s, ok := c.m[query]
	full := c.limit > 0 && len(c.m) >= c.limit
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	if full {
		return nil, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if have, ok := c.m[query]; ok {
		s.Close() // another goroutine prepared it meanwhile
		return have, nil
	}
	if c.limit > 0 && len(c.m) >= c.limit {
		s.Close() // others filled the cache meanwhile: run it unprepared
		return nil, nil
	}
	c.m[query] = s
	return s, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		s.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// pooled runs prepared statements on the pool.
type pooled struct{ c *stmtCache }

func (p pooled) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := p.c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return p.c.db.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

func (p pooled) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := p.c.stmt(ctx, query)
	if err != nil || s == nil {
		// A *sql.Row cannot be built with an error from outside
		// database/sql; run the query unprepared to report it.
		return p.c.db.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// inTx runs prepared statements of the write pool inside tx (the
// statement bound to tx's connection, prepared there once).
type inTx struct {
	tx *sql.Tx
	c  *stmtCache
}

func (t inTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.c.lookup(query); s != nil {
		return t.tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t inTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.c.lookup(query); s != nil {
		return t.tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t inTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.c.lookup(query); s != nil {
		return t.tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}
