package sqlite

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
	"github.com/google/uuid"
)

// hits reads the cache's count of views served.
func hits(db *DB) uint64 {
	h, _ := db.ViewCacheLookups()
	return h
}

func kenRef(ids storetest.FixtureIDs) licensing.UserRef {
	return licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
}

// viewOf reads ref's view twice and fails unless the second came from
// the cache, so that what a test sees next is a cached view being dropped.
func viewOf(t *testing.T, db *DB, ref licensing.UserRef) licensing.UserView {
	t.Helper()
	if _, err := db.UserView(t.Context(), ref); err != nil {
		t.Fatal(err)
	}
	before := hits(db)
	v, err := db.UserView(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if hits(db) != before+1 {
		t.Fatalf("the second read of an unchanged view was not served from the cache")
	}
	return v
}

func e3(v licensing.UserView, sku uuid.UUID) licensing.License {
	for _, l := range v.Seats.Licenses {
		if l.SKUID == sku {
			return l
		}
	}
	return licensing.License{}
}

// The helper process of TestViewCache_anotherProcessWriteIsSeen: a second
// licensesd (seed, or serve on the same file by mistake) writing while we
// keep views.
func TestViewCache_helperProcess(t *testing.T) {
	path := os.Getenv("VIEWCACHE_HELPER_DB")
	if path == "" {
		t.Skip("only run as the helper process of TestViewCache_anotherProcessWriteIsSeen")
	}
	db, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, ids := storetest.Fixture()
	if _, err := db.ApplyUserLicenses(t.Context(), kenRef(ids), licensing.Actor{Subject: "other process"},
		licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}, []licensing.Selection{{SKUID: ids.E3, Selected: true}})); err != nil {
		t.Fatal(err)
	}
}

func TestViewCache_anotherProcessWriteIsSeen(t *testing.T) {
	db, ids := openFixture(t)
	before := viewOf(t, db, kenRef(ids))
	if before.Seats.Held[ids.E3] {
		t.Fatal("fixture: Ken already holds E3")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestViewCache_helperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "VIEWCACHE_HELPER_DB="+db.path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	after, err := db.UserView(t.Context(), kenRef(ids))
	if err != nil {
		t.Fatal(err)
	}
	if !after.Seats.Held[ids.E3] || e3(after, ids.E3).Consumed != e3(before, ids.E3).Consumed+1 {
		t.Fatalf("after another process assigned Ken E3: held %v, consumed %d (was %d); the cached view hid its write",
			after.Seats.Held[ids.E3], e3(after, ids.E3).Consumed, e3(before, ids.E3).Consumed)
	}
}

// Every write through this store, and through a second handle on the same
// file (another replica of the process), is seen by the next read, even
// with readers keeping the cache warm all along: no read returns fewer
// seats taken than the writes acknowledged before it started.
func TestViewCache_noAcknowledgedWriteIsHidden(t *testing.T) {
	const users = 60
	path := filepath.Join(t.TempDir(), "licenses.db")
	db, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	other, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	snap, tenant, pi, customer, sku, ids := storetest.ManyUsersSnapshot(users, users, 0, 0)
	if err := db.Import(t.Context(), snap); err != nil {
		t.Fatal(err)
	}
	ref := func(i int) licensing.UserRef {
		return licensing.UserRef{Tenant: tenant, CustomerID: customer, UserID: ids[i], ProviderInstanceID: pi}
	}

	var acked atomic.Int32
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for r := 0; r < 4; r++ {
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
				v, err := db.UserView(t.Context(), ref(0))
				if err != nil {
					errs <- err
					return
				}
				if got := v.Seats.Licenses[0].Consumed; got < want {
					errs <- fmt.Errorf("a read begun after %d acknowledged assignments saw %d", want, got)
					return
				}
			}
		}()
	}
	for i := 0; i < users; i++ {
		w := db
		if i%2 == 1 {
			w = other
		}
		if _, err := w.ApplyUserLicenses(t.Context(), ref(i), licensing.Actor{Subject: "t"},
			licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}, []licensing.Selection{{SKUID: sku, Selected: true}})); err != nil {
			t.Fatal(err)
		}
		acked.Add(1)
		// Let the readers fill the cache between writes.
		for h := hits(db); hits(db) < h+3; {
			if len(errs) > 0 {
				break
			}
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	v, err := db.UserView(t.Context(), ref(0))
	if err != nil || v.Seats.Licenses[0].Consumed != users {
		t.Fatalf("final view: %+v, %v; want %d consumed", v.Seats.Licenses, err, users)
	}
}

// A view is served only to the lookup that would read it: the tenant is
// part of the key (normalized as the statement normalizes it), and the
// same customer, user and instance under another tenant are not found.
func TestViewCache_keysTenantAndInstance(t *testing.T) {
	db, ids := openFixture(t)
	ada := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ada, ProviderInstanceID: ids.Microsoft}
	wendy := licensing.UserRef{Tenant: ids.OtherTenant, CustomerID: ids.Woodgrove, UserID: ids.Wendy, ProviderInstanceID: ids.OtherMicrosoft}
	for _, c := range []struct {
		cached licensing.UserRef
		under  string
	}{{ada, ids.OtherTenant}, {wendy, ids.Tenant}} {
		viewOf(t, db, c.cached)
		asked := c.cached
		asked.Tenant = c.under
		if _, err := db.UserView(t.Context(), asked); licensing.ErrorCode(err) != licensing.NotFound {
			t.Errorf("the cached view of %s's customer %s asked under %s: %v; want NotFound", c.cached.Tenant, c.cached.CustomerID, c.under, err)
		}
	}
	aws := ada
	aws.ProviderInstanceID = ids.AWS
	v, err := db.UserView(t.Context(), aws)
	if err != nil {
		t.Fatal(err)
	}
	if v.Instance == nil || v.Instance.ID != ids.AWS {
		t.Errorf("Ada under AWS served %+v", v.Instance)
	}

	upper := ada
	upper.Tenant = "  " + strings.ToUpper(ids.Tenant)
	before := hits(db)
	if v, err := db.UserView(t.Context(), upper); err != nil || v.Customer.ID != ids.Fabrikam {
		t.Fatalf("tenant %q: %+v, %v", upper.Tenant, v.Customer, err)
	}
	if hits(db) != before+1 {
		t.Errorf("tenant %q did not share %q's view, though the statement reads the same rows", upper.Tenant, ids.Tenant)
	}
}

// What the cache hands out is the caller's to change.
func TestViewCache_servesCopies(t *testing.T) {
	db, ids := openFixture(t)
	nora := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Northwind, UserID: ids.Nora, ProviderInstanceID: ids.Microsoft}
	want, err := userView(t.Context(), pooled{db.readStmts}, nora)
	if err != nil {
		t.Fatal(err)
	}
	if want.Customer.ResellerID == nil || len(want.Seats.Licenses) == 0 || len(want.Seats.Held) == 0 {
		t.Fatalf("fixture: Nora's view lacks a reseller, licenses or held SKUs: %+v", want)
	}
	for range 3 {
		v := viewOf(t, db, nora)
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("cached view %+v\nwant %+v", v, want)
		}
		*v.Customer.ResellerID = uuid.New()
		v.Instance.Name = "changed"
		v.Seats.Licenses[0].Consumed = 99
		v.Seats.Licenses = append(v.Seats.Licenses, licensing.License{Name: "extra"})
		clear(v.Seats.Held)
	}
}

func TestViewCache_bounded(t *testing.T) {
	db, ids := openFixture(t)
	db.views.max = 3
	for _, u := range []uuid.UUID{ids.Ada, ids.Grace, ids.AlanTuring, ids.AlanNamesake, ids.Barbara, ids.Edsger, ids.Ken} {
		ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: u, ProviderInstanceID: ids.Microsoft}
		if v, err := db.UserView(t.Context(), ref); err != nil || !v.UserFound {
			t.Fatalf("%s: %+v, %v", u, v, err)
		}
		db.views.mu.Lock()
		n := len(db.views.entries)
		db.views.mu.Unlock()
		if n > 3 {
			t.Fatalf("%d views kept, bound 3", n)
		}
	}
}

// When the database cannot be asked whether it changed, nothing is served
// from the cache or kept in it; reads still answer from the database.
func TestViewCache_unaskableServesNothing(t *testing.T) {
	db, ids := openFixture(t)
	viewOf(t, db, kenRef(ids))
	db.views.asking.Lock()
	db.views.forget()
	err := db.views.watch.Close()
	db.views.asking.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	before := hits(db)
	for range 3 {
		v, err := db.UserView(t.Context(), kenRef(ids))
		if err != nil || !v.UserFound {
			t.Fatalf("read with the watch closed: %+v, %v", v, err)
		}
	}
	db.views.mu.Lock()
	n := len(db.views.entries)
	db.views.mu.Unlock()
	if hits(db) != before || n != 0 {
		t.Errorf("with the watch closed: %d views served from the cache, %d kept; want none", hits(db)-before, n)
	}
}

// Views of one customer share its part (customer, instance, licenses), but
// only when it is equal: two views kept in one generation may have been
// read on either side of a commit no lookup has seen yet, and neither may
// be served with the other's seats.
func TestViewCache_sharesOnlyEqualParts(t *testing.T) {
	db, ids := openFixture(t)
	ref := func(u uuid.UUID) licensing.UserRef {
		return licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: u, ProviderInstanceID: ids.Microsoft}
	}
	ada, grace := viewOf(t, db, ref(ids.Ada)), viewOf(t, db, ref(ids.Grace))
	db.views.mu.Lock()
	same := db.views.entries[keyOf(ref(ids.Ada))].shared == db.views.entries[keyOf(ref(ids.Grace))].shared
	db.views.mu.Unlock()
	if !same {
		t.Error("two users of one customer, read with nothing changed between, do not share the customer's part")
	}
	gen, _, _, ok := db.views.lookup(ref(ids.Ada))
	if !ok {
		t.Fatal("the database could not be asked")
	}
	later := grace.Clone()
	later.Seats.Licenses[0].Consumed++
	db.views.put(gen, ref(ids.Grace), later)
	for _, c := range []struct {
		name string
		ref  licensing.UserRef
		want licensing.UserView
	}{{"Ada", ref(ids.Ada), ada}, {"Grace", ref(ids.Grace), later}} {
		_, got, hit, _ := db.views.lookup(c.ref)
		if !hit || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: served %+v (hit %v), want %+v", c.name, got.Seats.Licenses, hit, c.want.Seats.Licenses)
		}
	}
}
