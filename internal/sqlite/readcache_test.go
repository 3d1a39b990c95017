package sqlite

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
	"github.com/google/uuid"
)

func readHits(db *DB) uint64 {
	h, _ := db.views.readLookups()
	return h
}

// aRead is one cached read of the fixture and the same read made without
// the cache.
type aRead struct {
	name             string
	cached, uncached func(context.Context, *DB, storetest.FixtureIDs) (any, error)
}

func fixtureReads() []aRead {
	usersQ := licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Sort: licensing.SortDisplayName}
	auditQ := func(ids storetest.FixtureIDs) licensing.AuditQuery {
		return licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant}, Page: licensing.Page{Number: 1, Size: 25}}
	}
	return []aRead{
		{"customer",
			func(ctx context.Context, db *DB, ids storetest.FixtureIDs) (any, error) {
				return db.Customer(ctx, ids.Tenant, ids.Fabrikam)
			},
			func(ctx context.Context, db *DB, ids storetest.FixtureIDs) (any, error) {
				return customer(ctx, pooled{db.readStmts}, ids.Tenant, ids.Fabrikam)
			}},
		{"provider instance",
			func(ctx context.Context, db *DB, ids storetest.FixtureIDs) (any, error) {
				return db.ProviderInstance(ctx, ids.Tenant, ids.Microsoft)
			},
			func(ctx context.Context, db *DB, ids storetest.FixtureIDs) (any, error) {
				return providerInstance(ctx, pooled{db.readStmts}, ids.Tenant, ids.Microsoft)
			}},
		{"licenses",
			func(ctx context.Context, db *DB, ids storetest.FixtureIDs) (any, error) {
				return db.Licenses(ctx, ids.Tenant, ids.Fabrikam, ids.Microsoft)
			},
			func(ctx context.Context, db *DB, ids storetest.FixtureIDs) (any, error) {
				return licenses(ctx, pooled{db.readStmts}, ids.Tenant, ids.Fabrikam, ids.Microsoft)
			}},
		{"users page",
			func(ctx context.Context, db *DB, ids storetest.FixtureIDs) (any, error) {
				return db.Users(ctx, ids.Tenant, ids.Fabrikam, usersQ)
			},
			func(ctx context.Context, db *DB, ids storetest.FixtureIDs) (any, error) {
				return db.users(ctx, ids.Tenant, ids.Fabrikam, usersQ)
			}},
		{"audit page",
			func(ctx context.Context, db *DB, ids storetest.FixtureIDs) (any, error) {
				return db.AuditRecords(ctx, auditQ(ids))
			},
			func(ctx context.Context, db *DB, ids storetest.FixtureIDs) (any, error) {
				return db.auditRecords(ctx, auditQ(ids))
			}},
	}
}

// readTwice reads r twice and fails unless the second answer came from
// the cache, so that what a test sees next is a cached answer dropped.
func readTwice(t *testing.T, db *DB, ids storetest.FixtureIDs, r aRead) any {
	t.Helper()
	if _, err := r.cached(t.Context(), db, ids); err != nil {
		t.Fatal(err)
	}
	before := readHits(db)
	v, err := r.cached(t.Context(), db, ids)
	if err != nil {
		t.Fatal(err)
	}
	if readHits(db) != before+1 {
		t.Fatalf("%s: the second read with nothing changed was not served from the cache", r.name)
	}
	return v
}

// renamed is the fixture with Fabrikam, the Microsoft instance, Ada and
// Fabrikam's E3 seats changed, and a record written for the audit log.
func renamedFixture() licensing.Snapshot {
	snap, _ := storetest.Fixture()
	t := &snap.Tenants[0]
	t.ProviderInstances[0].Name += " (renamed)"
	c := &t.Customers[0]
	c.Name += " (renamed)"
	c.Users[0].DisplayName = "Augusta Ada King"
	for i := range c.Licenses {
		c.Licenses[i].TotalLicenses++
	}
	return snap
}

// Every read's cached answer is dropped by the next commit, whichever
// handle on the file made it (a second handle is another process or
// replica on the same database): the next read answers what the database
// holds now, never what it held before an acknowledged write.
func TestReadCache_everyCommitIsSeenByTheNextRead(t *testing.T) {
	writes := []struct {
		name  string
		write func(t *testing.T, h *DB, ids storetest.FixtureIDs)
	}{
		{"import", func(t *testing.T, h *DB, _ storetest.FixtureIDs) {
			if err := h.Import(t.Context(), renamedFixture()); err != nil {
				t.Fatal(err)
			}
		}},
		{"update", func(t *testing.T, h *DB, ids storetest.FixtureIDs) {
			if _, err := h.ApplyUserLicenses(t.Context(), kenRef(ids), licensing.Actor{Subject: "test"},
				licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}, []licensing.Selection{{SKUID: ids.E3, Selected: true}})); err != nil {
				t.Fatal(err)
			}
			// The audit log also holds the Failed records of refused updates, written on their own.
			if err := h.RecordAudit(t.Context(), []licensing.AuditRecord{{Tenant: ids.Tenant, Actor: "test", CorrelationID: uuid.New(),
				Operation: licensing.OperationAssign, Status: licensing.StatusFailed, CustomerID: ids.Fabrikam, CustomerName: "Fabrikam",
				UserID: ids.Ken, ProviderInstanceID: ids.Microsoft, SKUID: ids.E5, SKUName: "Microsoft 365 E5", Reason: "no seat"}}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	// Which write changes which answer.
	changes := map[string]string{"customer": "import", "provider instance": "import", "licenses": "update",
		"users page": "import", "audit page": "update"}
	for _, r := range fixtureReads() {
		for _, w := range writes {
			if changes[r.name] != w.name {
				continue
			}
			for _, second := range []bool{false, true} {
				name := r.name + "/" + w.name + " through this handle"
				if second {
					name = r.name + "/" + w.name + " through a second handle"
				}
				t.Run(name, func(t *testing.T) {
					db, ids := openFixture(t)
					h := db
					if second {
						var err error
						if h, err = Open(t.Context(), Config{Path: db.path}); err != nil {
							t.Fatal(err)
						}
						t.Cleanup(func() { h.Close() })
					}
					before := readTwice(t, db, ids, r)
					w.write(t, h, ids)
					after, err := r.cached(t.Context(), db, ids)
					if err != nil {
						t.Fatal(err)
					}
					want, err := r.uncached(t.Context(), db, ids)
					if err != nil {
						t.Fatal(err)
					}
					if reflect.DeepEqual(want, before) {
						t.Fatalf("fixture: the %s did not change the %s", w.name, r.name)
					}
					if !reflect.DeepEqual(after, want) {
						t.Errorf("after the %s the %s read\n%+v\nthe database holds\n%+v", w.name, r.name, after, want)
					}
				})
			}
		}
	}
}

// An answer kept for one tenant is never another's: the same ids asked
// under the other tenant answer what that tenant holds (nothing), and a
// tenant spelled differently shares the answer, since the statements
// compare it normalized.
func TestReadCache_keysTheTenant(t *testing.T) {
	db, ids := openFixture(t)
	if err := db.RecordAudit(t.Context(), []licensing.AuditRecord{{Tenant: ids.Tenant, Actor: "test", CorrelationID: uuid.New(),
		Operation: licensing.OperationAssign, Status: licensing.StatusFailed, CustomerID: ids.Fabrikam, CustomerName: "Fabrikam",
		UserID: ids.Ken, ProviderInstanceID: ids.Microsoft, SKUID: ids.E5, SKUName: "E5", Reason: "no seat"}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range fixtureReads() {
		t.Run(r.name, func(t *testing.T) {
			kept := readTwice(t, db, ids, r)
			other := ids
			other.Tenant = ids.OtherTenant
			got, err := r.cached(t.Context(), db, other)
			want, werr := r.uncached(t.Context(), db, other)
			if licensing.ErrorCode(err) != licensing.ErrorCode(werr) || !reflect.DeepEqual(got, want) {
				t.Errorf("asked under %s: %+v, %v; the database answers %+v, %v", other.Tenant, got, err, want, werr)
			}
			if err == nil && reflect.DeepEqual(got, kept) {
				t.Errorf("asked under %s: served %s's answer %+v", other.Tenant, ids.Tenant, got)
			}

			upper := ids
			upper.Tenant = "  " + strings.ToUpper(ids.Tenant)
			before := readHits(db)
			if got, err := r.cached(t.Context(), db, upper); err != nil || !reflect.DeepEqual(got, kept) {
				t.Errorf("tenant %q: %+v, %v; want %+v", upper.Tenant, got, err, kept)
			}
			if readHits(db) != before+1 {
				t.Errorf("tenant %q did not share %q's answer", upper.Tenant, ids.Tenant)
			}
		})
	}
}

// What the cache hands out is the caller's to change.
func TestReadCache_servesCopies(t *testing.T) {
	db, ids := openFixture(t)
	if _, err := db.ApplyUserLicenses(t.Context(), licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Northwind, UserID: ids.Nora, ProviderInstanceID: ids.Microsoft},
		licensing.Actor{Subject: "test"}, licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft},
			[]licensing.Selection{{SKUID: ids.E3, Selected: false}})); err != nil {
		t.Fatal(err)
	}
	northwind := func(ctx context.Context, db *DB) (licensing.Customer, error) {
		return db.Customer(ctx, ids.Tenant, ids.Northwind)
	}
	auditQ := licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant}, Page: licensing.Page{Number: 1, Size: 25}}
	want := struct {
		c  licensing.Customer
		ls []licensing.License
		u  licensing.UserPage
		a  licensing.AuditPage
	}{}
	var err error
	if want.c, err = customer(t.Context(), pooled{db.readStmts}, ids.Tenant, ids.Northwind); err != nil {
		t.Fatal(err)
	}
	if want.ls, err = licenses(t.Context(), pooled{db.readStmts}, ids.Tenant, ids.Fabrikam, ids.Microsoft); err != nil {
		t.Fatal(err)
	}
	if want.u, err = db.users(t.Context(), ids.Tenant, ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}}); err != nil {
		t.Fatal(err)
	}
	if want.a, err = db.auditRecords(t.Context(), auditQ); err != nil {
		t.Fatal(err)
	}
	if want.c.ResellerID == nil || len(want.ls) == 0 || len(want.u.Items) == 0 || len(want.a.Items) == 0 || want.a.Items[0].ResellerID == nil {
		t.Fatalf("fixture: %+v", want)
	}
	for range 3 {
		c, err := northwind(t.Context(), db)
		if err != nil || !reflect.DeepEqual(c, want.c) {
			t.Fatalf("customer %+v, %v; want %+v", c, err, want.c)
		}
		*c.ResellerID = uuid.New()
		ls, err := db.Licenses(t.Context(), ids.Tenant, ids.Fabrikam, ids.Microsoft)
		if err != nil || !reflect.DeepEqual(ls, want.ls) {
			t.Fatalf("licenses %+v, %v; want %+v", ls, err, want.ls)
		}
		ls[0].Consumed = 99
		u, err := db.Users(t.Context(), ids.Tenant, ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}})
		if err != nil || !reflect.DeepEqual(u, want.u) {
			t.Fatalf("users %+v, %v; want %+v", u, err, want.u)
		}
		u.Items[0].DisplayName = "changed"
		a, err := db.AuditRecords(t.Context(), auditQ)
		if err != nil || !reflect.DeepEqual(a, want.a) {
			t.Fatalf("audit %+v, %v; want %+v", a, err, want.a)
		}
		a.Items[0].CustomerName = "changed"
		*a.Items[0].ResellerID = uuid.New()
	}
	if readHits(db) < 8 {
		t.Errorf("%d reads served from the cache; the copies checked were not the cache's", readHits(db))
	}
}

func TestReadCache_bounded(t *testing.T) {
	db, ids := openFixture(t)
	db.views.maxWeight = 12
	for size := 1; size <= 7; size++ {
		if _, err := db.Users(t.Context(), ids.Tenant, ids.Fabrikam, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: size}}); err != nil {
			t.Fatal(err)
		}
		db.views.mu.Lock()
		w, n := db.views.weight, 0
		for _, e := range db.views.reads {
			n += e.weight
		}
		db.views.mu.Unlock()
		if w != n || w > 12 {
			t.Fatalf("after a page of %d: weight %d (counted %d), bound 12", size, w, n)
		}
	}
	// A page heavier than a quarter of the bound is read, not kept.
	q := licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 7}}
	before := readHits(db)
	for range 2 {
		if p, err := db.Users(t.Context(), ids.Tenant, ids.Fabrikam, q); err != nil || len(p.Items) != 7 {
			t.Fatalf("%+v, %v", p, err)
		}
	}
	if readHits(db) != before {
		t.Error("a page of 7 users was served from a cache bounded to 12")
	}
}

// When the database cannot be asked whether it changed, nothing is served
// from the read cache or kept in it; reads still answer.
func TestReadCache_unaskableServesNothing(t *testing.T) {
	db, ids := openFixture(t)
	reads := fixtureReads()
	for _, r := range reads {
		readTwice(t, db, ids, r)
	}
	db.views.asking.Lock()
	db.views.forget()
	err := db.views.watch.Close()
	db.views.asking.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	before := readHits(db)
	for _, r := range reads {
		if _, err := r.cached(t.Context(), db, ids); err != nil {
			t.Fatalf("%s with the watch closed: %v", r.name, err)
		}
	}
	db.views.mu.Lock()
	n := len(db.views.reads)
	db.views.mu.Unlock()
	if readHits(db) != before || n != 0 {
		t.Errorf("with the watch closed: %d answers served from the cache, %d kept; want none", readHits(db)-before, n)
	}
}

// A request already gone gets its context's error, hit or not.
func TestReadCache_goneRequestIsRefused(t *testing.T) {
	db, ids := openFixture(t)
	for _, r := range fixtureReads() {
		readTwice(t, db, ids, r)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := r.cached(ctx, db, ids); licensing.ErrorCode(err) != licensing.Unavailable {
			t.Errorf("%s for a canceled request: %v; want Unavailable", r.name, err)
		}
	}
}

// The key of a read is every parameter it depends on: each field of the
// query types, set on its own, changes the key (JSON skips unexported
// fields, so one added later would fail here, not serve a wrong page).
func TestReadKey_namesEveryField(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	id := uuid.MustParse("00000000-0000-0000-0000-000000000009")
	for _, zero := range []any{usersKey{}, licensing.AuditQuery{}, licensesKey{}, entityKey{}} {
		c := reflect.New(reflect.TypeOf(zero)).Elem() // addressable: its fields can be set
		base, ok := keyFor("k", c.Interface())
		if !ok {
			t.Fatalf("%T: no key", zero)
		}
		var walk func(v reflect.Value, path string)
		walk = func(v reflect.Value, path string) {
			for i := range v.NumField() {
				f, sf := v.Field(i), v.Type().Field(i)
				p := path + "." + sf.Name
				if !sf.IsExported() {
					t.Errorf("%T%s is unexported: the key would not hold it", zero, p)
					continue
				}
				if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(id) {
					walk(f, p)
					continue
				}
				old := reflect.New(f.Type()).Elem()
				old.Set(f)
				setNonZero(t, f, p, at, id)
				if k, _ := keyFor("k", c.Interface()); k == base {
					t.Errorf("%T%s set: the key did not change", zero, p)
				}
				f.Set(old)
			}
		}
		walk(c, "")
		if k, _ := keyFor("other", c.Interface()); k == base {
			t.Errorf("%T: two kinds share a key", zero)
		}
	}
}

func setNonZero(t *testing.T, f reflect.Value, path string, at time.Time, id uuid.UUID) {
	t.Helper()
	switch f.Interface().(type) {
	case string, licensing.UserSort, licensing.Status:
		f.SetString("x")
	case int:
		f.SetInt(3)
	case bool:
		f.SetBool(true)
	case uuid.UUID:
		f.Set(reflect.ValueOf(id))
	case *uuid.UUID:
		f.Set(reflect.ValueOf(&id))
	case *time.Time:
		f.Set(reflect.ValueOf(&at))
	case []licensing.Operation:
		f.Set(reflect.ValueOf([]licensing.Operation{licensing.OperationAssign}))
	case *licensing.UserPosition:
		f.Set(reflect.ValueOf(&licensing.UserPosition{Key: "k", ID: id}))
	default:
		t.Fatalf("%s: no non-zero value for %s", path, f.Type())
	}
}

// With readers keeping the cache warm all along, no read of a customer's
// licenses or of the audit log returns less than the writes acknowledged
// before it started, written through this handle or a second one.
func TestReadCache_noAcknowledgedWriteIsHidden(t *testing.T) {
	const users = 40
	db, err := Open(t.Context(), Config{Path: t.TempDir() + "/licenses.db"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	other, err := Open(t.Context(), Config{Path: db.path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	snap, tenant, pi, cust, sku, ids := storetest.ManyUsersSnapshot(users, users, 0, 0)
	if err := db.Import(t.Context(), snap); err != nil {
		t.Fatal(err)
	}
	var acked atomic.Int32
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				want := acked.Load()
				var got int32
				if r%2 == 0 {
					ls, err := db.Licenses(t.Context(), tenant, cust, pi)
					if err != nil || len(ls) == 0 {
						errs <- fmt.Errorf("licenses: %+v, %v", ls, err)
						return
					}
					got = ls[0].Consumed
				} else {
					p, err := db.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: tenant}, Page: licensing.Page{Number: 1, Size: 1}})
					if err != nil {
						errs <- err
						return
					}
					got = int32(p.Total)
				}
				if got < want {
					errs <- fmt.Errorf("reader %d: a read begun after %d acknowledged assignments saw %d", r, want, got)
					return
				}
			}
		}()
	}
	for i := range users {
		w := db
		if i%2 == 1 {
			w = other
		}
		ref := licensing.UserRef{Tenant: tenant, CustomerID: cust, UserID: ids[i], ProviderInstanceID: pi}
		if _, err := w.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: "t"},
			licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}, []licensing.Selection{{SKUID: sku, Selected: true}})); err != nil {
			t.Fatal(err)
		}
		acked.Add(1)
		// Let the readers fill the cache between writes.
		for h := readHits(db); readHits(db) < h+4 && len(errs) == 0; {
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
