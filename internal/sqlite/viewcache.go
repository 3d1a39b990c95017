package sqlite

import (
	"context"
	"database/sql"
	"sync"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// viewCacheEntries bounds the views kept: about a kilobyte each with a
// customer's handful of licenses, so some 10 MiB at most.
const viewCacheEntries = 10_000

// viewCache keeps users' views (UserView) for as long as the database has
// not changed, so that a GET of a user's licenses, and an update that would
// change nothing, need no statement of their own: the view's statement was
// half of a GET's time (bench/NOTES.md).
//
// "Not changed" is SQLite's own answer, asked on every lookup: PRAGMA
// data_version on a connection kept for it changes whenever any other
// connection has committed since it was last asked (our writer, and any
// other process on the file, such as licensesd seed next to a running
// serve; https://sqlite.org/pragma.html#pragma_data_version). A change, or
// a failure to ask, starts a new generation and drops every view; a view is
// served only within the generation it was read in. A view is read after
// its generation was established, so it holds at least that generation's
// commits, and a lookup after a write was acknowledged asks after that
// commit, sees the change and misses: no acknowledged write is ever hidden,
// whichever connection or process made it. Entries are keyed by the whole
// UserRef, tenant included, exactly what the view's statement filters on,
// so a view is only ever served to the lookup that would have read it.
type viewCache struct {
	watch *sql.DB // one connection, only for data_version

	mu      sync.Mutex
	conn    *sql.Conn // nil until asked, and again after a failure
	stmt    *sql.Stmt // PRAGMA data_version, prepared on conn
	version int64     // what conn last answered
	gen     uint64
	entries map[viewKey]cachedView
	max     int
	// Lookups that served a view, and that did not (for /metrics).
	hits, misses uint64
}

type viewKey struct {
	tenant                   string
	customer, user, instance uuid.UUID
}

func keyOf(ref licensing.UserRef) viewKey {
	return viewKey{licensing.NormalizeTenant(ref.Tenant), ref.CustomerID, ref.UserID, ref.ProviderInstanceID}
}

type cachedView struct {
	gen  uint64
	view licensing.UserView
}

func newViewCache(watch *sql.DB, max int) *viewCache {
	watch.SetMaxOpenConns(1)
	watch.SetMaxIdleConns(1)
	watch.SetConnMaxIdleTime(0)
	watch.SetConnMaxLifetime(0)
	return &viewCache{watch: watch, entries: map[viewKey]cachedView{}, max: max}
}

// lookup returns the generation current now and the view of ref if one was
// read in it. ok is false when the database could not be asked; then
// nothing may be cached or served.
func (c *viewCache) lookup(ref licensing.UserRef) (gen uint64, v licensing.UserView, hit, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.check() {
		c.misses++
		return 0, licensing.UserView{}, false, false
	}
	e, found := c.entries[keyOf(ref)]
	if found && e.gen == c.gen {
		c.hits++
		return c.gen, e.view.Clone(), true, true
	}
	c.misses++
	return c.gen, licensing.UserView{}, false, true
}

// lookups returns the counts of lookups that served a view and that did not.
func (c *viewCache) lookups() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// put keeps v, read after lookup returned gen, unless a change has been
// seen since.
func (c *viewCache) put(gen uint64, ref licensing.UserRef, v licensing.UserView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		for k := range c.entries { // map order: an arbitrary entry
			delete(c.entries, k)
			break
		}
	}
	c.entries[keyOf(ref)] = cachedView{gen, v.Clone()}
}

// check asks data_version and starts a new generation when it changed. A
// new connection's data_version is no baseline (it is per connection), so
// the first answer on one starts a generation too. Call with mu held.
func (c *viewCache) check() bool {
	ctx := context.Background() // a cancelable one costs a goroutine per statement (readgate.go)
	fresh := false
	if c.conn == nil {
		conn, err := c.watch.Conn(ctx)
		if err != nil {
			c.newGeneration()
			return false
		}
		stmt, err := conn.PrepareContext(ctx, `PRAGMA data_version`)
		if err != nil {
			discard(conn)
			c.newGeneration()
			return false
		}
		c.conn, c.stmt, fresh = conn, stmt, true
	}
	var v int64
	if err := c.stmt.QueryRowContext(ctx).Scan(&v); err != nil {
		c.drop()
		return false
	}
	if fresh || v != c.version {
		c.version = v
		c.newGeneration()
	}
	return true
}

func (c *viewCache) newGeneration() {
	c.gen++
	clear(c.entries)
}

// drop forgets the connection after a failure, and every view with it.
func (c *viewCache) drop() {
	if c.conn != nil {
		c.stmt.Close()
		discard(c.conn)
		c.conn, c.stmt = nil, nil
	}
	c.newGeneration()
}

func (c *viewCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop()
	return c.watch.Close()
}
