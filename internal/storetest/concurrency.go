package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// ManyUsersSnapshot is one customer with many users and one SKU (total
// seats, suspended of them, the first preassigned users holding one): the
// shape of a rush for the last seats, and of any test or benchmark that
// needs many users updating. It returns the snapshot, its tenant, the
// instance, customer and SKU ids and the users' ids.
func ManyUsersSnapshot(users int, total, suspended int32, preassigned int) (licensing.Snapshot, string, uuid.UUID, uuid.UUID, uuid.UUID, []uuid.UUID) {
	tenant := "race.contoso.test"
	pi, customer, sku := uuid.New(), uuid.New(), uuid.New()
	c := licensing.SnapshotCustomer{ID: customer.String(), Name: "Contention Ltd"}
	ids := make([]uuid.UUID, users)
	l := licensing.SnapshotLicense{ProviderInstanceID: pi.String(), SKUID: sku.String(), Name: "Microsoft 365 E3",
		TotalLicenses: total, SuspendedLicenses: suspended}
	for i := range ids {
		ids[i] = uuid.New()
		c.Users = append(c.Users, licensing.SnapshotUser{ID: ids[i].String(),
			DisplayName: fmt.Sprintf("User %03d", i), UserPrincipalName: fmt.Sprintf("user%03d@contention.test", i)})
		if i < preassigned {
			l.AssignedUserIDs = append(l.AssignedUserIDs, ids[i].String())
		}
	}
	c.Licenses = []licensing.SnapshotLicense{l}
	snap := licensing.Snapshot{Tenants: []licensing.SnapshotTenant{{
		Domain:            tenant,
		ProviderInstances: []licensing.SnapshotProviderInstance{{ID: pi.String(), Name: "CSP", Provider: "microsoft"}},
		Customers:         []licensing.SnapshotCustomer{c},
	}}}
	return snap, tenant, pi, customer, sku, ids
}

func testConcurrency(t *testing.T, open Opener) {
	t.Run("lastSeatsAreNeverOverAssigned", func(t *testing.T) {
		const racers, preassigned = 40, 3
		const total, suspended = 10, 2 // 5 seats free
		const free = total - suspended - preassigned
		s := open(t)
		snap, tenant, pi, customer, sku, users := ManyUsersSnapshot(racers+preassigned, total, suspended, preassigned)
		if err := s.Import(t.Context(), snap); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ref := licensing.UserRef{Tenant: tenant, CustomerID: customer, UserID: users[preassigned+i], ProviderInstanceID: pi}
				actor := licensing.Actor{Subject: fmt.Sprintf("racer-%d", i), CorrelationID: uuid.New()}
				_, errs[i] = s.ApplyUserLicenses(t.Context(), ref, actor, plan(assign(sku)))
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch licensing.ErrorCode(err) {
			case "":
				won++
			case licensing.Invalid:
			default:
				t.Errorf("racer %d failed with %v, want success or Invalid (no seat left)", i, err)
			}
		}
		if won != free {
			t.Errorf("%d racers got a seat, want exactly the %d free seats", won, free)
		}
		holders := 0
		for _, u := range users {
			ref := licensing.UserRef{Tenant: tenant, CustomerID: customer, UserID: u, ProviderInstanceID: pi}
			if h := held(t, s, ref); len(h) == 1 {
				holders++
			}
		}
		l := license(t, licenses(t, s, tenant, customer, pi), sku)
		if holders != preassigned+free || int(l.Consumed) != holders || l.Available() != 0 {
			t.Errorf("after the race: %d holders, license %+v; want %d holders = consumed, none available",
				holders, l, preassigned+free)
		}
		page, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: tenant}, Page: licensing.Page{Number: 1, Size: 100}})
		if err != nil || page.Total != free {
			t.Errorf("audit total = %d (%v), want one record per won seat: %d", page.Total, err, free)
		}
	})

	t.Run("sameUserRacingAssignsOnce", func(t *testing.T) {
		const racers = 20
		s := open(t)
		snap, tenant, pi, customer, sku, users := ManyUsersSnapshot(1, 5, 0, 0)
		if err := s.Import(t.Context(), snap); err != nil {
			t.Fatal(err)
		}
		ref := licensing.UserRef{Tenant: tenant, CustomerID: customer, UserID: users[0], ProviderInstanceID: pi}
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		applied := 0
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				changes, err := s.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: "twin", CorrelationID: uuid.New()}, plan(assign(sku)))
				if err != nil {
					t.Errorf("racer %d: %v", i, err)
				}
				mu.Lock()
				applied += len(changes)
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		l := license(t, licenses(t, s, tenant, customer, pi), sku)
		page, err := s.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: tenant}, Page: licensing.Page{Number: 1, Size: 100}})
		if err != nil {
			t.Fatal(err)
		}
		if applied != 1 || l.Consumed != 1 || page.Total != 1 {
			t.Errorf("%d identical racing updates: %d changes applied, consumed %d, %d audit records; want 1, 1, 1",
				racers, applied, l.Consumed, page.Total)
		}
	})
}
