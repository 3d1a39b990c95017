package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// BenchmarkMirrorUsers measures what a sync pass costs the store: each
// iteration is one MirrorUsers commit of a full Graph page (999 users, two
// SKUs each, one of which changes every round) for a customer of 100
// pages (99,900 users), cycling through the pages, so that after the
// first round every call updates existing users and rewrites half of
// their assignments. It reports users/s; a full pass of 100k users takes
// 100 iterations. s must be empty.
func BenchmarkMirrorUsers(b *testing.B, s licensing.Store) {
	const (
		pageSize = 999
		pages    = 100
	)
	snap, ids := GraphFixture()
	if err := s.Import(b.Context(), snap); err != nil {
		b.Fatal(err)
	}
	link, err := s.GraphLink(b.Context(), ids.Tenant, ids.Linked, ids.Graph)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.MirrorLicenses(b.Context(), link, []licensing.License{
		{SKUID: ids.E3, Name: "Microsoft 365 E3", Total: 200000},
		{SKUID: ids.E5, Name: "Microsoft 365 E5", Total: 200000},
		{SKUID: ids.Visio, Name: "Visio Plan 2", Total: 200000},
	}); err != nil {
		b.Fatal(err)
	}
	page := make([]licensing.MirroredUser, pageSize)
	start := time.Now()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p, round := i%pages, i/pages
		second := ids.E5
		if round%2 == 1 {
			second = ids.Visio
		}
		for j := range page {
			n := p*pageSize + j
			page[j] = licensing.MirroredUser{
				User: licensing.User{ID: uuid.UUID{0x30, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, byte(n >> 16), byte(n >> 8), byte(n), 0x42, 0x42},
					DisplayName: fmt.Sprintf("User %06d", n), UserPrincipalName: fmt.Sprintf("u%06d@linked.test", n)},
				UsageLocation: "US",
				SKUs:          []uuid.UUID{ids.E3, second},
			}
		}
		if err := s.MirrorUsers(b.Context(), link, page, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*pageSize)/time.Since(start).Seconds(), "users/s")
}

// BenchmarkUserReads measures the reads a GET of a user's licenses makes:
// "view" the one UserView call the service makes, "singleReads" the five
// calls it made before (customer, user, instance, licenses, held SKUs), on
// the storetest fixture (a user holding 2 of 5 SKUs). s must be empty.
func BenchmarkUserReads(b *testing.B, s licensing.Store) {
	snap, ids := Fixture()
	if err := s.Import(b.Context(), snap); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ada, ProviderInstanceID: ids.Microsoft}
	b.Run("view", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if v, err := s.UserView(ctx, ref); err != nil || len(v.Seats.Licenses) != 5 {
				b.Fatalf("UserView: %d licenses, %v", len(v.Seats.Licenses), err)
			}
		}
	})
	b.Run("singleReads", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err1 := s.Customer(ctx, ref.Tenant, ref.CustomerID)
			_, err2 := s.User(ctx, ref.Tenant, ref.CustomerID, ref.UserID)
			_, err3 := s.ProviderInstance(ctx, ref.Tenant, ref.ProviderInstanceID)
			ls, err4 := s.Licenses(ctx, ref.Tenant, ref.CustomerID, ref.ProviderInstanceID)
			_, err5 := s.HeldSKUs(ctx, ref)
			if err := errors.Join(err1, err2, err3, err4, err5); err != nil || len(ls) != 5 {
				b.Fatalf("single reads: %d licenses, %v", len(ls), err)
			}
		}
	})
}

// BenchmarkUserLists measures the users list calls behind GET
// .../users for a customer of n users (the Fabrikam fixture plus n-7
// generated ones): the first page, a deep page by number (offset), a
// keyset page after a position, and a search matching a few users. s must
// be empty.
func BenchmarkUserLists(b *testing.B, s licensing.Store, n int) {
	snap, ids := Fixture()
	fabrikam := &snap.Tenants[0].Customers[0]
	for i := len(fabrikam.Users); i < n; i++ {
		id := uuid.UUID{0x31, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, byte(i >> 16), byte(i >> 8), byte(i), 0x42, 0x42}
		fabrikam.Users = append(fabrikam.Users, licensing.SnapshotUser{ID: id.String(),
			DisplayName: fmt.Sprintf("User %06d", i), UserPrincipalName: fmt.Sprintf("u%06d@fabrikam.test", i)})
	}
	if err := s.Import(b.Context(), snap); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	list := func(name string, q func(i int) licensing.UserQuery, want int) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p, err := s.Users(ctx, ids.Tenant, ids.Fabrikam, q(i))
				if err != nil || len(p.Items) != want {
					b.Fatalf("Users: %d items, %v", len(p.Items), err)
				}
			}
		})
	}
	list("firstPage", func(int) licensing.UserQuery {
		return licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}}
	}, 25)
	list("deepPage", func(int) licensing.UserQuery {
		return licensing.UserQuery{Page: licensing.Page{Number: n / 50, Size: 25}}
	}, 25)
	list("after", func(int) licensing.UserQuery {
		return licensing.UserQuery{Page: licensing.Page{Number: 2, Size: 25},
			After: &licensing.UserPosition{Key: fmt.Sprintf("User %06d", n/2), ID: uuid.Nil}}
	}, 25)
	// "User 00010" matches ten users (User 000100-000109), as do 00011 and 00012.
	list("search", func(i int) licensing.UserQuery {
		return licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Search: fmt.Sprintf("User %05d", 10+i%3)}
	}, 10)
}
