package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// BenchmarkPatch measures a changing PATCH end to end: HTTP, token check,
// spec validation, the seat rules and a durable SQLite commit. Each
// iteration assigns or removes one user's SKU (alternating), so every
// request writes.
//
// Produced with: go test -run '^$' -bench Patch ./internal/e2e
func BenchmarkPatch(b *testing.B) {
	const users = 512
	setup := func(b *testing.B) (*gen.ClientWithResponses, uuid.UUID, uuid.UUID, uuid.UUID, []uuid.UUID, []gen.RequestEditorFn) {
		b.Helper()
		cfg := daemon.Config{Addr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(b.TempDir(), "bench.db"), JWTSecret: secret}
		pi, customer, sku := uuid.New(), uuid.New(), uuid.New()
		c := licensing.SnapshotCustomer{ID: customer.String(), Name: "Bench Corp"}
		ids := make([]uuid.UUID, users)
		for i := range ids {
			ids[i] = uuid.New()
			c.Users = append(c.Users, licensing.SnapshotUser{ID: ids[i].String(), DisplayName: fmt.Sprintf("User %d", i)})
		}
		c.Licenses = []licensing.SnapshotLicense{{ProviderInstanceID: pi.String(), SKUID: sku.String(), Name: "E3", TotalLicenses: users}}
		snap := licensing.Snapshot{Tenants: []licensing.SnapshotTenant{{Domain: "bench.test",
			ProviderInstances: []licensing.SnapshotProviderInstance{{ID: pi.String(), Name: "CSP", Provider: "microsoft"}},
			Customers:         []licensing.SnapshotCustomer{c}}}}
		if err := daemon.Seed(context.Background(), cfg, snap); err != nil {
			b.Fatal(err)
		}
		m, err := daemon.Start(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Shutdown(context.Background()) })
		client, err := gen.NewClientWithResponses(m.URL(), gen.WithHTTPClient(&http.Client{
			Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}))
		if err != nil {
			b.Fatal(err)
		}
		tok, err := auth.SignHS256([]byte(secret), auth.Claims{Subject: "bench", Tenant: "bench.test", Roles: []string{"csp"}, ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		return client, pi, customer, sku, ids, []gen.RequestEditorFn{withTenant("bench.test"), withToken(tok)}
	}
	toggle := func(b *testing.B, c *gen.ClientWithResponses, pi, customer, sku, user uuid.UUID, assign bool, ed []gen.RequestEditorFn) {
		res, err := c.UpdateCustomerUserLicensesWithResponse(context.Background(), customer, user, &gen.UpdateCustomerUserLicensesParams{},
			body(pi, item(sku, assign)), ed...)
		if err != nil || res.StatusCode() != http.StatusOK {
			b.Errorf("PATCH: %v %v", err, res)
		}
	}
	report := func(b *testing.B) { b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s") }

	b.Run("serial", func(b *testing.B) {
		c, pi, customer, sku, ids, ed := setup(b)
		for i := 0; b.Loop(); i++ {
			toggle(b, c, pi, customer, sku, ids[i%users], (i/users)%2 == 0, ed)
		}
		report(b)
	})
	b.Run("parallel", func(b *testing.B) {
		c, pi, customer, sku, ids, ed := setup(b)
		var next atomic.Int64
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			user := ids[int(next.Add(1)-1)%users] // each goroutine owns one user
			for assign := true; pb.Next(); assign = !assign {
				toggle(b, c, pi, customer, sku, user, assign, ed)
			}
		})
		report(b)
	})
}
