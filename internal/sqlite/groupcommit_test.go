package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
	"github.com/google/uuid"
)

// TestGroupCommit_updatesWaitingTogetherShareOneCommitAndStayAllOrNothing
// holds the write lock from another connection so that updates queue up,
// then releases it: the waiting updates must go through as one batch, the
// refused one must leave nothing behind and the others must all hold.
func TestGroupCommit_updatesWaitingTogetherShareOneCommitAndStayAllOrNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "licenses.db")
	db, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mu sync.Mutex
	var batches []int
	db.ObserveBatches(func(n int, _ time.Duration) { mu.Lock(); batches = append(batches, n); mu.Unlock() })
	snap, ids := storetest.Fixture()
	if err := db.Import(t.Context(), snap); err != nil {
		t.Fatal(err)
	}

	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}

	type want struct {
		user     uuid.UUID
		sku      uuid.UUID
		assign   bool
		accepted bool
	}
	cases := []want{
		{ids.AlanTuring, ids.E3, true, true},
		{ids.Barbara, ids.E3, true, true},
		{ids.Edsger, ids.E5, true, false}, // E5's seats are all suspended
		{ids.Ken, ids.E3, true, true},
		{ids.Ada, ids.ExchangeP1, false, true},
	}
	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: c.user, ProviderInstanceID: ids.Microsoft}
			_, errs[i] = db.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: "t"},
				licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}, []licensing.Selection{{SKUID: c.sku, Selected: c.assign}}))
		}()
	}
	time.Sleep(300 * time.Millisecond) // all updates reach the writer and wait
	if _, err := conn.ExecContext(t.Context(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	for i, c := range cases {
		if (errs[i] == nil) != c.accepted {
			t.Errorf("update %d: err = %v, want accepted=%v", i, errs[i], c.accepted)
		}
		if !c.accepted && licensing.ErrorCode(errs[i]) != licensing.Invalid {
			t.Errorf("update %d: err = %v, want Invalid", i, errs[i])
		}
		held, err := db.HeldSKUs(t.Context(), licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: c.user, ProviderInstanceID: ids.Microsoft})
		if err != nil {
			t.Fatal(err)
		}
		if got := held[c.sku]; got != (c.assign == c.accepted) {
			t.Errorf("update %d: holds %s = %v after the batch", i, c.sku, got)
		}
	}
	ls, err := db.Licenses(t.Context(), ids.Tenant, ids.Fabrikam, ids.Microsoft)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.SKUID == ids.E3 && l.Consumed != 5 {
			t.Errorf("E3 consumed = %d, want 5 (Ada, Grace + three assigned)", l.Consumed)
		}
	}
	page, err := db.AuditRecords(t.Context(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant}, Page: licensing.Page{Number: 1, Size: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 4 {
		t.Errorf("%d audit records, want 4 (one per accepted change, none for the refused one)", len(page.Items))
	}
	// The writer reports a batch after answering it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		sum := 0
		for _, n := range batches {
			sum += n
		}
		mu.Unlock()
		if sum >= len(cases) || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	largest := 0
	for _, n := range batches {
		largest = max(largest, n)
	}
	if largest < 2 {
		t.Errorf("batches %v: the waiting updates were not committed together", batches)
	}
}

// TestGroupCommit_callerWhoseContextEndsWhileQueuedIsUnavailable: a
// deadline that passes while the writer is busy answers Unavailable.
func TestGroupCommit_callerWhoseContextEndsWhileQueuedIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "licenses.db")
	db, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snap, ids := storetest.Fixture()
	if err := db.Import(t.Context(), snap); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(t.Context(), `ROLLBACK`)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
	_, err = db.ApplyUserLicenses(ctx, ref, licensing.Actor{Subject: "t"},
		licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}, []licensing.Selection{{SKUID: ids.E3, Selected: true}}))
	if licensing.ErrorCode(err) != licensing.Unavailable {
		t.Errorf("err = %v, want Unavailable", err)
	}
}
