package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/faultproxy"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
)

// TestFault_cutDatabaseIsUnavailableNeverHalfAppliedAndRecovers loses the
// network path to PostgreSQL (a proxy between the store and the server),
// and proves that reads and updates fail with Unavailable, quickly, that
// an update cut in the middle of its transaction leaves nothing behind,
// and that once the path is back the same store works again by itself.
func TestFault_cutDatabaseIsUnavailableNeverHalfAppliedAndRecovers(t *testing.T) {
	direct, f, url := seeded(t, 4, 10) // a pool that bypasses the proxy, to look at the truth
	proxy, err := faultproxy.New(pgtest.HostPort(t, url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	db := open(t, pgtest.WithHost(t, url, proxy.Addr()), func(c *postgres.Config) {
		c.ConnectTimeout = time.Second
		c.MaxConns = 4
	})
	bounded := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	actor := licensing.Actor{Subject: "fault", CorrelationID: uuid.New()}
	if _, err := db.ApplyUserLicenses(bounded(), f.ref(f.Users[0]), actor, f.set(true)); err != nil {
		t.Fatalf("before the cut: %v", err)
	}
	auditCount := func() int {
		t.Helper()
		page, err := direct.AuditRecords(context.Background(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: f.Tenant}, Page: licensing.Page{Number: 1, Size: 100}})
		if err != nil {
			t.Fatal(err)
		}
		return page.Total
	}
	wantUnavailable := func(what string, err error, started time.Time) {
		t.Helper()
		if licensing.ErrorCode(err) != licensing.Unavailable {
			t.Errorf("%s while cut: %v, want Unavailable", what, err)
		}
		if d := time.Since(started); d > 4*time.Second {
			t.Errorf("%s took %v to fail; an unreachable database must fail fast", what, d)
		}
	}

	t.Run("cutInTheMiddleOfAnUpdate", func(t *testing.T) {
		// The decision runs with the license rows locked and nothing yet
		// written; cutting there makes the writes and the commit fail.
		started := time.Now()
		_, err := db.ApplyUserLicenses(bounded(), f.ref(f.Users[1]), actor, func(s licensing.Seats) ([]licensing.Change, error) {
			proxy.Cut()
			return f.set(true)(s)
		})
		wantUnavailable("an update cut mid-transaction", err, started)
	})

	t.Run("whileCut", func(t *testing.T) {
		proxy.Cut()
		started := time.Now()
		_, err := db.Customer(bounded(), f.Tenant, f.Customer)
		wantUnavailable("Customer", err, started)
		started = time.Now()
		_, err = db.Licenses(bounded(), f.Tenant, f.Customer, f.PI)
		wantUnavailable("Licenses", err, started)
		started = time.Now()
		_, err = db.ApplyUserLicenses(bounded(), f.ref(f.Users[2]), actor, f.set(true))
		wantUnavailable("ApplyUserLicenses", err, started)
		started = time.Now()
		wantUnavailable("Ready", db.Ready(bounded()), started)
	})

	// Nothing of the failed updates reached the database.
	if n := assertConsistent(t, direct, f); n != 1 {
		t.Fatalf("%d assignments after the failed updates, want the 1 made before the cut", n)
	}
	if n := auditCount(); n != 1 {
		t.Fatalf("%d audit records after the failed updates, want 1", n)
	}

	proxy.Restore()
	// The store recovers by itself: no reopen, and no failed call first.
	if err := db.Ready(bounded()); err != nil {
		t.Fatalf("Ready after restore: %v", err)
	}
	for i, u := range f.Users[1:] {
		if _, err := db.ApplyUserLicenses(bounded(), f.ref(u), actor, f.set(true)); err != nil {
			t.Fatalf("update %d after restore: %v", i, err)
		}
	}
	if n := assertConsistent(t, direct, f); n != 4 {
		t.Fatalf("%d assignments after restore, want 4", n)
	}
	if n := auditCount(); n != 4 {
		t.Fatalf("%d audit records after restore, want 4", n)
	}
}

// TestFault_idleConnectionsCutWhileIdleAreReplacedUnnoticed covers the
// common outage: the database (or a NAT, or a failover) drops connections
// the pool holds idle, and the next caller must not see an error.
func TestFault_idleConnectionsCutWhileIdleAreReplacedUnnoticed(t *testing.T) {
	_, f, url := seeded(t, 1, 1)
	proxy, err := faultproxy.New(pgtest.HostPort(t, url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	db := open(t, pgtest.WithHost(t, url, proxy.Addr()), func(c *postgres.Config) { c.MaxConns = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.Customer(ctx, f.Tenant, f.Customer); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	proxy.Restore()
	if _, err := db.Customer(ctx, f.Tenant, f.Customer); err != nil {
		t.Fatalf("read right after the idle connections were cut: %v", err)
	}
	if _, err := db.ApplyUserLicenses(ctx, f.ref(f.Users[0]), licensing.Actor{Subject: "s"}, f.set(true)); err != nil {
		t.Fatalf("update right after the idle connections were cut: %v", err)
	}
}
