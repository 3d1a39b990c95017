package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/sqlite"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
	"github.com/google/uuid"
)

// BenchmarkApplyUserLicenses measures the seat write path: every iteration
// is one real, durable update (a user's E3 assigned, then removed the next
// time round), with its audit record and fsync.
//
// Produced with: go test -run '^$' -bench . ./internal/sqlite
func BenchmarkApplyUserLicenses(b *testing.B) {
	const users = 512
	setup := func(b *testing.B) (*sqlite.DB, licensing.UserRef, uuid.UUID, []uuid.UUID) {
		b.Helper()
		db, err := sqlite.Open(b.Context(), sqlite.Config{Path: filepath.Join(b.TempDir(), "bench.db")})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		snap, tenant, pi, customer, sku, ids := storetest.ManyUsersSnapshot(users, users, 0, 0)
		if err := db.Import(b.Context(), snap); err != nil {
			b.Fatal(err)
		}
		return db, licensing.UserRef{Tenant: tenant, CustomerID: customer, ProviderInstanceID: pi}, sku, ids
	}
	toggle := func(b *testing.B, db *sqlite.DB, ref licensing.UserRef, sku uuid.UUID, assign bool) {
		changes, err := db.ApplyUserLicenses(b.Context(), ref, licensing.Actor{Subject: "bench", CorrelationID: uuid.New()},
			decide(licensing.Selection{SKUID: sku, Selected: assign}))
		if err != nil || len(changes) != 1 {
			b.Errorf("update of %s (assign %v): %v, %d changes; want 1", ref.UserID, assign, err, len(changes))
		}
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	}

	b.Run("serial", func(b *testing.B) {
		db, ref, sku, ids := setup(b)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			ref.UserID = ids[i%users]
			toggle(b, db, ref, sku, (i/users)%2 == 0)
		}
		report(b)
	})
	b.Run("parallel", func(b *testing.B) {
		db, ref, sku, ids := setup(b)
		var next atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			// Each goroutine owns one user, so its updates alternate.
			ref := ref
			n := int(next.Add(1) - 1)
			if n >= users {
				b.Errorf("more than %d goroutines", users)
				return
			}
			ref.UserID = ids[n]
			for assign := true; pb.Next(); assign = !assign {
				toggle(b, db, ref, sku, assign)
			}
		})
		report(b)
	})
}

// BenchmarkMirrorUsers: go test -run '^$' -bench MirrorUsers ./internal/sqlite
func BenchmarkMirrorUsers(b *testing.B) {
	db, err := sqlite.Open(b.Context(), sqlite.Config{Path: filepath.Join(b.TempDir(), "bench.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	storetest.BenchmarkMirrorUsers(b, db)
}

// BenchmarkUserReads: go test -run '^$' -bench UserReads -benchmem ./internal/sqlite
func BenchmarkUserReads(b *testing.B) {
	db, err := sqlite.Open(b.Context(), sqlite.Config{Path: filepath.Join(b.TempDir(), "bench.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	storetest.BenchmarkUserReads(b, db)
}

// BenchmarkUserLists: go test -run '^$' -bench UserLists -benchmem ./internal/sqlite
//
// statements/ measures the list statements (the read cache bypassed),
// cached/ the same calls served from the read cache, as they are while
// nothing is written.
func BenchmarkUserLists(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		for _, cached := range []bool{false, true} {
			name := fmt.Sprintf("users=%d/statements", n)
			if cached {
				name = fmt.Sprintf("users=%d/cached", n)
			}
			b.Run(name, func(b *testing.B) {
				db, err := sqlite.Open(b.Context(), sqlite.Config{Path: filepath.Join(b.TempDir(), "bench.db")})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { db.Close() })
				if cached {
					storetest.BenchmarkUserLists(b, db, n)
				} else {
					storetest.BenchmarkUserLists(b, uncachedLists{db}, n)
				}
			})
		}
	}
}

// uncachedLists is the store with its users list read without the cache.
type uncachedLists struct{ *sqlite.DB }

func (s uncachedLists) Users(ctx context.Context, tenant string, customerID uuid.UUID, q licensing.UserQuery) (licensing.UserPage, error) {
	return s.UsersUncached(ctx, tenant, customerID, q)
}
