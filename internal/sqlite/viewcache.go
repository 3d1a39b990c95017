package sqlite

import (
	"context"
	"database/sql"
	"reflect"
	"runtime"
	"sync"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// viewCacheEntries bounds the views kept. A view's customer, instance and
// licenses are the same for every user of the customer and are kept once
// (shared); what is kept per user is about 200 bytes, so some 20 MiB at
// most. With 10,000 views of a kilobyte each, a GET cycling over 20,000 of
// 100,000 users (the benchmark) missed most of the time.
const viewCacheEntries = 100_000

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
//
// Requests arriving together share one question: the first to arrive asks
// after yielding once (as the group-commit writer does), and those that
// arrived before the question was put wait for its answer, which is as
// fresh for them as one of their own. Asked by every request, the question
// was 14 % of a GET's CPU at 64 connections.
type viewCache struct {
	watch *sql.DB // one connection, only for data_version

	// asking is held while data_version is asked; it guards the three
	// fields below.
	asking  sync.Mutex
	conn    *sql.Conn // nil until asked, and again after a failure
	stmt    *sql.Stmt // PRAGMA data_version, prepared on conn
	version int64     // what conn last answered

	mu      sync.Mutex
	next    *question // the question lookups arriving now will share
	gen     uint64
	entries map[viewKey]cachedView // only views of generation gen
	shared  map[sharedKey]*shared  // their customer parts, of generation gen
	max     int
	// Lookups that served a view, and that did not (for /metrics).
	hits, misses uint64

	// The read cache (readcache.go): answers of generation gen, their
	// total weight and its bound, and the lookups that served one or not.
	reads                map[readKey]cachedAnswer
	weight, maxWeight    int
	readHits, readMisses uint64
}

// question is one asking of data_version, shared by the lookups that
// arrived before it was put.
type question struct {
	answered chan struct{}
	gen      uint64 // the generation current when it was answered
	ok       bool   // false: the database could not be asked
}

type viewKey struct {
	tenant                   string
	customer, user, instance uuid.UUID
}

func keyOf(ref licensing.UserRef) viewKey {
	return viewKey{licensing.NormalizeTenant(ref.Tenant), ref.CustomerID, ref.UserID, ref.ProviderInstanceID}
}

// sharedKey and shared are the part of a view common to every user of one
// customer under one instance.
type sharedKey struct {
	tenant             string
	customer, instance uuid.UUID
}

type shared struct {
	customer licensing.Customer
	instance *licensing.ProviderInstance
	licenses []licensing.License
}

// of reports whether s is v's part. reflect.DeepEqual follows the pointers
// (reseller, instance, Graph app) and tells a nil list from an empty one,
// and a field added to these types later is compared too.
func (s *shared) of(v licensing.UserView) bool {
	return reflect.DeepEqual(*s, shared{v.Customer, v.Instance, v.Seats.Licenses})
}

// cachedView is a view as kept: its shared part and what is the user's.
type cachedView struct {
	gen     uint64
	shared  *shared
	found   bool
	held    []uuid.UUID
	heldNil bool
}

// view rebuilds the view, sharing no memory with the cache (the held map
// is built afresh, the rest cloned).
func (e cachedView) view() licensing.UserView {
	v := licensing.UserView{Customer: e.shared.customer, UserFound: e.found, Instance: e.shared.instance,
		Seats: licensing.Seats{Licenses: e.shared.licenses}}.Clone()
	if !e.heldNil {
		v.Seats.Held = make(map[uuid.UUID]bool, len(e.held))
		for _, sku := range e.held {
			v.Seats.Held[sku] = true
		}
	}
	return v
}

func newViewCache(watch *sql.DB, max, maxWeight int) *viewCache {
	watch.SetMaxOpenConns(1)
	watch.SetMaxIdleConns(1)
	watch.SetConnMaxIdleTime(0)
	watch.SetConnMaxLifetime(0)
	return &viewCache{watch: watch, entries: map[viewKey]cachedView{}, shared: map[sharedKey]*shared{}, max: max,
		reads: map[readKey]cachedAnswer{}, maxWeight: maxWeight}
}

// lookup returns the generation current now and the view of ref if one was
// read in it. ok is false when the database could not be asked; then
// nothing may be cached or served.
func (c *viewCache) lookup(ref licensing.UserRef) (gen uint64, v licensing.UserView, hit, ok bool) {
	gen, ok = c.current()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ok {
		c.misses++
		return 0, licensing.UserView{}, false, false
	}
	if e, found := c.entries[keyOf(ref)]; found && e.gen == gen {
		c.hits++
		return gen, e.view(), true, true
	}
	c.misses++
	return gen, licensing.UserView{}, false, true
}

// current returns the generation established by a question put after the
// call began: a shared one not put yet, or its own.
func (c *viewCache) current() (uint64, bool) {
	c.mu.Lock()
	if q := c.next; q != nil {
		c.mu.Unlock()
		<-q.answered
		return q.gen, q.ok
	}
	q := &question{answered: make(chan struct{})}
	c.next = q
	c.mu.Unlock()
	runtime.Gosched() // let the requests already running reach here and share q

	c.asking.Lock()
	c.mu.Lock()
	c.next = nil // put now: later lookups need a later question
	c.mu.Unlock()
	v, fresh, err := c.ask()
	c.mu.Lock()
	switch {
	case err != nil:
		c.newGeneration()
	case fresh || v != c.version:
		c.version = v
		c.newGeneration()
	}
	q.gen, q.ok = c.gen, err == nil
	c.mu.Unlock()
	c.asking.Unlock()
	close(q.answered)
	return q.gen, q.ok
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
	k := keyOf(ref)
	sk := sharedKey{k.tenant, k.customer, k.instance}
	sh := c.shared[sk]
	// Views of one generation may have been read on either side of a
	// commit not seen yet: share only what is equal, so that no view mixes
	// two moments.
	if sh == nil || !sh.of(v) {
		if len(c.shared) >= c.max {
			clear(c.shared) // the views keep theirs; sharing starts over
		}
		w := v.Clone()
		sh = &shared{customer: w.Customer, instance: w.Instance, licenses: w.Seats.Licenses}
		c.shared[sk] = sh
	}
	e := cachedView{gen: gen, shared: sh, found: v.UserFound, heldNil: v.Seats.Held == nil}
	for sku, held := range v.Seats.Held {
		if held {
			e.held = append(e.held, sku)
		}
	}
	c.entries[k] = e
}

// ask returns data_version, and whether it came from a new connection:
// data_version is per connection, so a new one's first answer is no
// baseline. A failure forgets the connection. Call with asking held.
func (c *viewCache) ask() (v int64, fresh bool, err error) {
	ctx := context.Background() // a cancelable one costs a goroutine per statement (readgate.go)
	if c.conn == nil {
		conn, err := c.watch.Conn(ctx)
		if err != nil {
			return 0, false, err
		}
		stmt, err := conn.PrepareContext(ctx, `PRAGMA data_version`)
		if err != nil {
			discard(conn)
			return 0, false, err
		}
		c.conn, c.stmt, fresh = conn, stmt, true
	}
	if err := c.stmt.QueryRowContext(ctx).Scan(&v); err != nil {
		c.forget()
		return 0, false, err
	}
	return v, fresh, nil
}

// newGeneration drops every view and every answer; call with mu held.
func (c *viewCache) newGeneration() {
	c.gen++
	clear(c.entries)
	clear(c.shared)
	clear(c.reads)
	c.weight = 0
}

// forget drops the connection; call with asking held.
func (c *viewCache) forget() {
	if c.conn != nil {
		c.stmt.Close()
		discard(c.conn)
		c.conn, c.stmt = nil, nil
	}
}

func (c *viewCache) close() error {
	c.asking.Lock()
	defer c.asking.Unlock()
	c.forget()
	c.mu.Lock()
	c.newGeneration()
	c.mu.Unlock()
	return c.watch.Close()
}
