package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
)

// BenchmarkApplyUserLicenses measures the write path: every iteration is
// a real change (a user gains the SKU, or loses it on the next turn), with
// its lock, its reads, its writes, its audit record and its commit. All
// users belong to one customer, so the parallel run measures the worst
// case: updates queueing on the same license rows.
func BenchmarkApplyUserLicenses(b *testing.B) {
	const users = 1024
	db, f, _ := seeded(b, users, users)
	actor := licensing.Actor{Subject: "bench", CorrelationID: uuid.New()}
	report := func(b *testing.B, start time.Time) {
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
	}
	// The testing package calls each sub-benchmark several times (growing
	// b.N); each call starts from no assignments, as its toggles assume.
	reset := func(b *testing.B) {
		if _, err := db.Pool().Exec(context.Background(), "DELETE FROM assignments"); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("serial", func(b *testing.B) {
		ctx := context.Background()
		held := make([]bool, users)
		reset(b)
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			u := i % users
			held[u] = !held[u]
			changes, err := db.ApplyUserLicenses(ctx, f.ref(f.Users[u]), actor, f.set(held[u]))
			if err != nil || len(changes) != 1 {
				b.Fatalf("%v, %v", changes, err)
			}
		}
		report(b, start)
	})

	b.Run("parallel", func(b *testing.B) {
		ctx := context.Background()
		var next atomic.Int64
		reset(b)
		// Several requests per CPU, as an HTTP server has: they wait on the
		// database, not on the CPU.
		b.SetParallelism(4)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			// Each goroutine owns one user, so that its toggles never
			// contradict another goroutine's.
			u := int(next.Add(1)-1) % users
			held := false
			for pb.Next() {
				held = !held
				changes, err := db.ApplyUserLicenses(ctx, f.ref(f.Users[u]), actor, f.set(held))
				if err != nil || len(changes) != 1 {
					b.Errorf("%v, %v", changes, err)
					return
				}
			}
		})
		report(b, start)
	})
}

// BenchmarkMirrorUsers: LICENSES_TEST_POSTGRES_URL=… go test -run '^$' -bench MirrorUsers ./internal/postgres
func BenchmarkMirrorUsers(b *testing.B) {
	storetest.BenchmarkMirrorUsers(b, open(b, pgtest.URL(b)))
}

// BenchmarkUserReads: LICENSES_TEST_POSTGRES_URL=… go test -run '^$' -bench UserReads -benchmem ./internal/postgres
func BenchmarkUserReads(b *testing.B) {
	storetest.BenchmarkUserReads(b, open(b, pgtest.URL(b)))
}
