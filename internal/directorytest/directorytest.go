// Package directorytest is the one contract suite of licensing.Directory,
// run against every implementation: the local store (SQLite, PostgreSQL)
// and the Microsoft Graph directory. Each implementation provides a
// Factory that builds a directory holding the World below; the suite
// checks what every directory promises, whatever holds the seats.
package directorytest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// SKU is one of the world's subscriptions: Usable seats (total minus
// suspended) and Suspended ones.
type SKU struct {
	ID        uuid.UUID
	Name      string
	Usable    int32
	Suspended int32
}

// World is what a directory holds at the start of each test: one customer
// with these SKUs and users, each user holding the SKUs listed.
type World struct {
	SKUs  []SKU
	Users map[uuid.UUID][]uuid.UUID
}

// Factory builds a directory holding w and returns it with the reference
// of the customer's user u (any user of w, same tenant, customer and
// provider instance).
type Factory func(t *testing.T, w World) (dir licensing.Directory, ref func(user uuid.UUID) licensing.UserRef)

var (
	skuA  = uuid.MustParse("05e9a617-0261-4cee-bb44-138d3ef5d965") // "Microsoft 365 E3"
	skuB  = uuid.MustParse("4b9405b0-7788-4568-add1-99614e613b69") // "Exchange Online (Plan 1)"
	user1 = uuid.MustParse("5d000000-0000-4000-8000-000000000001")
	user2 = uuid.MustParse("5d000000-0000-4000-8000-000000000002")
	user3 = uuid.MustParse("5d000000-0000-4000-8000-000000000003")
)

// StandardWorld: E3 with 3 usable seats (1 suspended) held by user 1;
// Exchange Online (Plan 1) with 1 usable seat held by user 2.
func StandardWorld() World {
	return World{
		SKUs: []SKU{{ID: skuA, Name: "Microsoft 365 E3", Usable: 3, Suspended: 1}, {ID: skuB, Name: "Exchange Online (Plan 1)", Usable: 1}},
		Users: map[uuid.UUID][]uuid.UUID{user1: {skuA}, user2: {skuB}, user3: nil,
			uuid.MustParse("5d000000-0000-4000-8000-000000000004"): nil, uuid.MustParse("5d000000-0000-4000-8000-000000000005"): nil},
	}
}

func actor() licensing.Actor {
	return licensing.Actor{Subject: "directorytest", CorrelationID: uuid.New()}
}

func byID(ls []licensing.License) map[uuid.UUID]licensing.License {
	m := map[uuid.UUID]licensing.License{}
	for _, l := range ls {
		m[l.SKUID] = l
	}
	return m
}

// Run runs the suite.
func Run(t *testing.T, build Factory) {
	ctx := context.Background()

	t.Run("licenses are sorted by name with the world's counts", func(t *testing.T) {
		dir, ref := build(t, StandardWorld())
		r := ref(user1)
		ls, err := dir.Licenses(ctx, r.Tenant, r.CustomerID, r.ProviderInstanceID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) != 2 || ls[0].SKUID != skuB || ls[1].SKUID != skuA {
			t.Fatalf("licenses %+v, want Exchange Online (Plan 1) then Microsoft 365 E3", ls)
		}
		e3 := ls[1]
		if e3.Total != 4 || e3.Suspended != 1 || e3.Consumed != 1 || e3.Available() != 2 {
			t.Errorf("E3 %+v: want total 4, suspended 1, consumed 1, available 2", e3)
		}
		if ls[0].Available() != 0 {
			t.Errorf("EO1 %+v: want no seat available", ls[0])
		}
	})

	t.Run("held SKUs are the user's", func(t *testing.T) {
		dir, ref := build(t, StandardWorld())
		for user, want := range map[uuid.UUID][]uuid.UUID{user1: {skuA}, user2: {skuB}, user3: nil} {
			h, err := dir.HeldSKUs(ctx, ref(user))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, on := range h {
				if on {
					n++
				}
			}
			if n != len(want) || (len(want) == 1 && !h[want[0]]) {
				t.Errorf("user %s holds %v, want %v", user, h, want)
			}
		}
	})

	t.Run("an update applies the decision whole and shows in the seats", func(t *testing.T) {
		dir, ref := build(t, StandardWorld())
		var seen licensing.Seats
		changes, err := dir.ApplyUserLicenses(ctx, ref(user1), actor(), func(s licensing.Seats) ([]licensing.Change, error) {
			seen = s
			return []licensing.Change{{SKUID: skuA, Assign: false}}, nil
		})
		if err != nil || len(changes) != 1 {
			t.Fatalf("apply: %v %+v", err, changes)
		}
		if !seen.Held[skuA] || len(seen.Licenses) != 2 {
			t.Errorf("the decision saw %+v, want the user's E3 and both licenses", seen)
		}
		if changes[0].SKUName != "Microsoft 365 E3" {
			t.Errorf("change %+v: want the SKU's name of record", changes[0])
		}
		h, _ := dir.HeldSKUs(ctx, ref(user1))
		r := ref(user1)
		ls, _ := dir.Licenses(ctx, r.Tenant, r.CustomerID, r.ProviderInstanceID)
		if h[skuA] || byID(ls)[skuA].Consumed != 0 {
			t.Errorf("after the removal: held %v, E3 %+v", h, byID(ls)[skuA])
		}
		if _, err := dir.ApplyUserLicenses(ctx, ref(user3), actor(), licensing.Decide(licensing.ProviderInstance{Provider: "microsoft"},
			[]licensing.Selection{{SKUID: skuA, Selected: true}})); err != nil {
			t.Fatalf("assigning with the real decision: %v", err)
		}
		if h, _ := dir.HeldSKUs(ctx, ref(user3)); !h[skuA] {
			t.Error("the assignment did not apply")
		}
	})

	t.Run("a refused decision changes nothing and its error is returned", func(t *testing.T) {
		dir, ref := build(t, StandardWorld())
		refusal := licensing.Errorf(licensing.Invalid, "no")
		_, err := dir.ApplyUserLicenses(ctx, ref(user3), actor(), licensing.Decide(licensing.ProviderInstance{Provider: "microsoft"},
			[]licensing.Selection{{SKUID: skuA, Selected: true}, {SKUID: skuB, Selected: true}}))
		if licensing.ErrorCode(err) != licensing.Invalid {
			t.Fatalf("assigning a SKU without a free seat: %v, want Invalid", err)
		}
		if _, err := dir.ApplyUserLicenses(ctx, ref(user1), actor(), func(licensing.Seats) ([]licensing.Change, error) { return nil, refusal }); !errors.Is(err, refusal) {
			t.Fatalf("the decision's error: %v, want it returned", err)
		}
		if h, _ := dir.HeldSKUs(ctx, ref(user3)); h[skuA] || h[skuB] {
			t.Errorf("a refused update changed the user: %v", h)
		}
	})

	t.Run("a decision that breaks the invariants is refused whole", func(t *testing.T) {
		dir, ref := build(t, StandardWorld())
		_, err := dir.ApplyUserLicenses(ctx, ref(user3), actor(), func(licensing.Seats) ([]licensing.Change, error) {
			return []licensing.Change{{SKUID: skuA, Assign: true}, {SKUID: skuB, Assign: true}}, nil // no EO1 seat
		})
		if licensing.ErrorCode(err) != licensing.Internal {
			t.Fatalf("a change without a seat: %v, want Internal", err)
		}
		if h, _ := dir.HeldSKUs(ctx, ref(user3)); h[skuA] || h[skuB] {
			t.Errorf("part of a refused change list was applied: %v", h)
		}
	})

	t.Run("no change is no write", func(t *testing.T) {
		dir, ref := build(t, StandardWorld())
		changes, err := dir.ApplyUserLicenses(ctx, ref(user1), actor(), func(licensing.Seats) ([]licensing.Change, error) { return nil, nil })
		if err != nil || len(changes) != 0 {
			t.Fatalf("%v %+v", err, changes)
		}
	})

	t.Run("concurrent assignments never over-assign", func(t *testing.T) {
		w := StandardWorld()
		dir, ref := build(t, w)
		// E3 has 2 free seats; five users (one already holding it) race.
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for user := range w.Users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := dir.ApplyUserLicenses(ctx, ref(user), actor(), licensing.Decide(licensing.ProviderInstance{Provider: "microsoft"},
					[]licensing.Selection{{SKUID: skuA, Selected: true}}))
				if err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if c := licensing.ErrorCode(err); c != licensing.Invalid && c != licensing.Unavailable {
					t.Errorf("user %s: %v", user, err)
				}
			}()
		}
		wg.Wait()
		holders := 0
		for user := range w.Users {
			if h, _ := dir.HeldSKUs(ctx, ref(user)); h[skuA] {
				holders++
			}
		}
		if holders > 3 {
			t.Fatalf("%d users hold E3, which has 3 usable seats", holders)
		}
		if holders != 3 {
			t.Errorf("%d users hold E3 after the race, want all 3 seats used (%d updates succeeded)", holders, ok)
		}
	})
}
