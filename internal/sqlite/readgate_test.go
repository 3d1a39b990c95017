package sqlite

import (
	"context"
	"errors"
	"runtime/metrics"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// goroutinesCreated is the process's count of goroutines started so far.
func goroutinesCreated(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("runtime metric %s is not available", s[0].Name)
	}
	return s[0].Value.Uint64()
}

// TestReads_startNoGoroutinePerStatement: a request's reads run under a
// context the driver cannot see canceled. With the request's cancelable
// context, database/sql started a goroutine per transaction and per result
// set and modernc one per statement (four or more per users page), and at
// 64 connections on one CPU the hundreds waiting to start gave list pages
// p99s of 0.3–2 s (bench/NOTES.md). The package's tests do not run in
// parallel, so nothing else starts goroutines meanwhile; the bound leaves
// room for the runtime's own.
func TestReads_startNoGoroutinePerStatement(t *testing.T) {
	db, ids := openFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
	scope := licensing.Scope{Tenant: ids.Tenant}
	page := licensing.Page{Number: 1, Size: 10}
	reads := map[string]func() error{
		"Users": func() error {
			_, err := db.Users(ctx, ids.Tenant, ids.Fabrikam, licensing.UserQuery{Page: page})
			return err
		},
		"Users search": func() error {
			_, err := db.Users(ctx, ids.Tenant, ids.Fabrikam, licensing.UserQuery{Page: page, Search: "ken"})
			return err
		},
		"AuditRecords": func() error {
			_, err := db.AuditRecords(ctx, licensing.AuditQuery{Scope: scope, Page: page})
			return err
		},
		"Customers": func() error {
			_, err := db.Customers(ctx, licensing.CustomerQuery{Scope: scope, Page: page})
			return err
		},
		"ProviderInstances": func() error {
			_, err := db.ProviderInstances(ctx, ids.Tenant, page)
			return err
		},
		"UserView": func() error { _, err := db.UserView(ctx, ref); return err },
		"Licenses": func() error {
			_, err := db.Licenses(ctx, ids.Tenant, ids.Fabrikam, ids.Microsoft)
			return err
		},
		"HeldSKUs": func() error { _, err := db.HeldSKUs(ctx, ref); return err },
		"Customer": func() error { _, err := db.Customer(ctx, ids.Tenant, ids.Fabrikam); return err },
		"User":     func() error { _, err := db.User(ctx, ids.Tenant, ids.Fabrikam, ids.Ken); return err },
	}
	const n = 50
	for name, read := range reads {
		// Warm up: the pool's connections and the prepared statements.
		for range 3 {
			if err := read(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		before := goroutinesCreated(t)
		for range n {
			if err := read(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if started := goroutinesCreated(t) - before; started >= n/5 {
			t.Errorf("%s: %d reads started %d goroutines", name, n, started)
		}
	}
}

// TestReads_honourACanceledRequest: the statements cannot be canceled,
// but a request that has gone is still not served.
func TestReads_honourACanceledRequest(t *testing.T) {
	db, ids := openFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	page := licensing.Page{Number: 1, Size: 10}
	if _, err := db.Users(ctx, ids.Tenant, ids.Fabrikam, licensing.UserQuery{Page: page}); !errors.Is(err, context.Canceled) {
		t.Errorf("Users with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := db.AuditRecords(ctx, licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant}, Page: page}); !errors.Is(err, context.Canceled) {
		t.Errorf("AuditRecords with a canceled context: %v, want context.Canceled", err)
	}
}
