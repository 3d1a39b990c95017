package sqlite

import (
	"context"
	"encoding/json"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// The read cache keeps the answers of the other reads a request makes — a
// customer, a provider instance, a customer's licenses, a page of users or
// of audit records — under the view cache's generations (viewcache.go): an
// answer is served only within the generation it was read in, and any
// commit by any connection or process starts a new one and drops them all.
// So it holds the view cache's promise: a read after an acknowledged write
// never sees the state before it, and another tenant's read never finds
// an answer (the key holds the normalized tenant and every parameter of
// the read).
//
// Why: with the statements prepared and bounded by indexes, a users page
// still cost 60-70 µs of SQLite's own work and three statements (customer,
// instance, page) per request, and a customer's licenses three; served from
// the cache they cost a lookup and a copy. Only answers are kept, never
// errors: a NotFound is read again.
//
// readCacheWeight bounds what is kept: an answer weighs one plus its items
// (a page holds up to 2,000), so at most 50,000 users or audit records,
// about 20 MiB. A page heavier than a quarter of it is not kept.
const readCacheWeight = 50_000

// readKey is the identity of a read: its kind and every parameter it
// depends on, as JSON (which follows pointers and names every exported
// field, so a field added to a query type later is part of the key; the
// query types have no unexported fields, which
// TestReadKey_namesEveryField checks).
type readKey string

// keyFor returns the key of the read kind with its parameters.
func keyFor(kind string, params any) (readKey, bool) {
	b, err := json.Marshal(params)
	if err != nil {
		return "", false // not cacheable; read it
	}
	return readKey(kind + "\x00" + string(b)), true
}

// cachedAnswer is an answer as kept: copied when kept and when served.
type cachedAnswer struct {
	gen    uint64
	val    any
	weight int
}

// cachedRead returns the answer of the read named by kind and params: the
// one kept in this generation, else read's, kept for the generation that was
// current before it began. clone must return a copy sharing no memory with
// its argument; weight is the answer's number of items. A request already
// gone is answered as a statement would answer it, hit or not.
func cachedRead[T any](ctx context.Context, db *DB, kind string, params any, clone func(T) T, weight func(T) int, read func() (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, dbError(err, "reading "+kind)
	}
	key, keyed := keyFor(kind, params)
	if !keyed {
		return read()
	}
	gen, val, hit, ok := db.views.lookupRead(key)
	if hit {
		if v, is := val.(T); is {
			return clone(v), nil
		}
	}
	v, err := read()
	if err == nil && ok {
		db.views.putRead(gen, key, clone(v), 1+weight(v))
	}
	return v, err
}

// lookupRead is lookup for the read cache.
func (c *viewCache) lookupRead(key readKey) (gen uint64, val any, hit, ok bool) {
	gen, ok = c.current()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ok {
		c.readMisses++
		return 0, nil, false, false
	}
	if e, found := c.reads[key]; found && e.gen == gen {
		c.readHits++
		return gen, e.val, true, true
	}
	c.readMisses++
	return gen, nil, false, true
}

// putRead keeps val, read after lookupRead returned gen, unless a change
// has been seen since; it makes room by dropping arbitrary answers.
func (c *viewCache) putRead(gen uint64, key readKey, val any, weight int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || weight > c.maxWeight/4 {
		return
	}
	if old, found := c.reads[key]; found {
		c.weight -= old.weight
		delete(c.reads, key)
	}
	for k, e := range c.reads { // map order: arbitrary answers
		if c.weight+weight <= c.maxWeight {
			break
		}
		c.weight -= e.weight
		delete(c.reads, k)
	}
	c.reads[key] = cachedAnswer{gen: gen, val: val, weight: weight}
	c.weight += weight
}

// readLookups returns the counts of reads served from the cache and not.
func (c *viewCache) readLookups() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readHits, c.readMisses
}

// The keys of the cached reads: every parameter, the tenant normalized
// (the statements compare it normalized).
type (
	entityKey struct {
		Tenant string
		ID     uuid.UUID
	}
	licensesKey struct {
		Tenant             string
		Customer, Instance uuid.UUID
	}
	usersKey struct {
		Tenant   string
		Customer uuid.UUID
		Query    licensing.UserQuery
	}
)

// noItems is the weight of an answer that is one thing.
func noItems[T any](T) int { return 0 }

// Clones of the cached answers.

func cloneCustomer(c licensing.Customer) licensing.Customer {
	if c.ResellerID != nil {
		id := *c.ResellerID
		c.ResellerID = &id
	}
	return c
}

func cloneInstance(pi licensing.ProviderInstance) licensing.ProviderInstance {
	if pi.Graph != nil {
		g := *pi.Graph
		pi.Graph = &g
	}
	return pi
}

func cloneLicenses(ls []licensing.License) []licensing.License {
	if ls == nil {
		return nil
	}
	return append(make([]licensing.License, 0, len(ls)), ls...)
}

func cloneUserPage(p licensing.UserPage) licensing.UserPage {
	if p.Items != nil {
		p.Items = append(make([]licensing.User, 0, len(p.Items)), p.Items...)
	}
	return p
}

func cloneAuditPage(p licensing.AuditPage) licensing.AuditPage {
	if p.Items == nil {
		return p
	}
	items := make([]licensing.AuditRecord, len(p.Items))
	for i, r := range p.Items {
		if r.ResellerID != nil {
			id := *r.ResellerID
			r.ResellerID = &id
		}
		items[i] = r
	}
	p.Items = items
	return p
}
