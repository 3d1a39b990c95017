package postgres_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
)

func TestMigrate_concurrentReplicasApplyEachMigrationOnce(t *testing.T) {
	url := pgtest.URL(t)
	const replicas = 4
	dbs := make([]*postgres.DB, replicas)
	for i := range dbs {
		// Separate pools, as separate processes would have.
		dbs[i] = open(t, url, func(c *postgres.Config) { c.SkipMigrations = true })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := dbs[0].Ready(ctx); licensing.ErrorCode(err) != licensing.Unavailable {
		t.Fatalf("Ready before migrating = %v, want Unavailable", err)
	}
	start := make(chan struct{})
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			errs[i] = db.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Migrate: %v", i, err)
		}
	}
	var total, distinct int
	if err := dbs[0].Pool().QueryRow(ctx, "SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&total, &distinct); err != nil {
		t.Fatal(err)
	}
	if total != distinct || total == 0 {
		t.Fatalf("schema_migrations has %d rows for %d versions; want each version once", total, distinct)
	}
	for i, db := range dbs {
		if err := db.Ready(ctx); err != nil {
			t.Errorf("replica %d: Ready after migrating: %v", i, err)
		}
		if p, err := db.Pending(ctx); err != nil || len(p) != 0 {
			t.Errorf("replica %d: Pending = %v, %v; want none", i, p, err)
		}
	}
}

func TestApply_twoPoolsRaceForTheLastSeats(t *testing.T) {
	const (
		users = 40
		seats = 7
	)
	a, f, url := seeded(t, users, seats)
	b := open(t, url) // a second replica on the same database
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, u := range f.Users {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Go(func() {
			<-start
			changes, err := db.ApplyUserLicenses(ctx, f.ref(u), licensing.Actor{Subject: "race", CorrelationID: uuid.New()}, f.set(true))
			switch {
			case err == nil && len(changes) == 1:
				ok.Add(1)
			case licensing.ErrorCode(err) == licensing.Invalid:
				refused.Add(1)
			default:
				t.Errorf("user %d: %v, %v", i, changes, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != seats || refused.Load() != users-seats {
		t.Fatalf("%d succeeded and %d were refused; want %d and %d", ok.Load(), refused.Load(), seats, users-seats)
	}
	if n := assertConsistent(t, a, f); n != seats {
		t.Fatalf("%d assignments, want %d", n, seats)
	}
	page, err := a.AuditRecords(ctx, licensing.AuditQuery{Scope: licensing.Scope{Tenant: f.Tenant}, Page: licensing.Page{Number: 1, Size: 100}})
	if err != nil || page.Total != seats {
		t.Fatalf("audit records: %d, %v; want %d", page.Total, err, seats)
	}
}

func TestApply_sameRequestRacingChangesOnce(t *testing.T) {
	a, f, url := seeded(t, 1, 5)
	b := open(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var changed atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Go(func() {
			changes, err := db.ApplyUserLicenses(ctx, f.ref(f.Users[0]), licensing.Actor{Subject: "s"}, f.set(true))
			if err != nil {
				t.Error(err)
			}
			changed.Add(int32(len(changes)))
		})
	}
	wg.Wait()
	if changed.Load() != 1 {
		t.Fatalf("%d changes, want exactly 1", changed.Load())
	}
	if n := assertConsistent(t, a, f); n != 1 {
		t.Fatalf("%d assignments, want 1", n)
	}
}

func TestApply_refusedDecisionWritesNothingAndIsReturnedAsIs(t *testing.T) {
	db, f, _ := seeded(t, 2, 1)
	ctx := context.Background()
	if _, err := db.ApplyUserLicenses(ctx, f.ref(f.Users[0]), licensing.Actor{Subject: "s"}, f.set(true)); err != nil {
		t.Fatal(err)
	}
	_, err := db.ApplyUserLicenses(ctx, f.ref(f.Users[1]), licensing.Actor{Subject: "s"}, f.set(true))
	var de *licensing.Error
	if !errors.As(err, &de) || de.Code != licensing.Invalid ||
		len(de.Properties) != 1 || de.Properties[0].Property != "customerUserLicenses[0].skuId" {
		t.Fatalf("err = %v, want the decision's own Invalid error", err)
	}
	if n := assertConsistent(t, db, f); n != 1 {
		t.Fatalf("%d assignments, want 1", n)
	}
}

func TestApply_writesOneAuditRecordPerChangeWithTheInjectedClock(t *testing.T) {
	url := pgtest.URL(t)
	at := time.Date(2031, 3, 4, 5, 6, 7, 891234567, time.FixedZone("x", 3600))
	db := open(t, url, func(c *postgres.Config) { c.Now = func() time.Time { return at } })
	f, s := newFixture(1, 3)
	ctx := context.Background()
	if err := db.Import(ctx, s); err != nil {
		t.Fatal(err)
	}
	corr := uuid.New()
	for _, sel := range []bool{true, true, false} {
		if _, err := db.ApplyUserLicenses(ctx, f.ref(f.Users[0]), licensing.Actor{Subject: "ada", CorrelationID: corr}, f.set(sel)); err != nil {
			t.Fatal(err)
		}
	}
	page, err := db.AuditRecords(ctx, licensing.AuditQuery{Scope: licensing.Scope{Tenant: f.Tenant}, CorrelationID: &corr, Page: licensing.Page{Number: 1, Size: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 2 || len(page.Items) != 2 {
		t.Fatalf("%d records (%d on the page), want 2: assign, then remove; the repeat changes nothing", page.Total, len(page.Items))
	}
	newest := page.Items[0]
	if newest.Operation != licensing.OperationRemove || page.Items[1].Operation != licensing.OperationAssign {
		t.Fatalf("operations %s, %s; want newest (remove) first", newest.Operation, page.Items[1].Operation)
	}
	if want := at.UTC().Truncate(time.Microsecond); !newest.CreatedAt.Equal(want) {
		t.Fatalf("CreatedAt %v, want %v", newest.CreatedAt, want)
	}
	if newest.Actor != "ada" || newest.CustomerName != "Fabrikam" || newest.SKUName != "Microsoft 365 E3" || newest.Status != licensing.StatusSucceeded {
		t.Fatalf("record %+v", newest)
	}
}

func TestLookups_unknownOrOtherTenantIsNotFound(t *testing.T) {
	db, f, _ := seeded(t, 1, 1)
	ctx := context.Background()
	other := "portal.other.test"
	u := f.Users[0]
	checks := map[string]error{}
	_, checks["provider instance of another tenant"] = db.ProviderInstance(ctx, other, f.PI)
	_, checks["unknown customer"] = db.Customer(ctx, f.Tenant, uuid.New())
	_, checks["customer of another tenant"] = db.Customer(ctx, other, f.Customer)
	_, checks["user of another customer"] = db.User(ctx, f.Tenant, uuid.New(), u)
	// Reads of lists (Users, Licenses, HeldSKUs) outside the tenant are
	// empty, not NotFound, on every store: storetest's Rules pin that.
	_, checks["apply for an unknown user"] = db.ApplyUserLicenses(ctx, f.ref(uuid.New()), licensing.Actor{}, f.set(true))
	for name, err := range checks {
		if licensing.ErrorCode(err) != licensing.NotFound {
			t.Errorf("%s: %v, want NotFound", name, err)
		}
	}
	if c, err := db.Customer(ctx, f.Tenant, f.Customer); err != nil || c.Name != "Fabrikam" {
		t.Fatalf("the customer itself: %v, %v", c, err)
	}
}

func TestImport_isIdempotentAndSetsAssignmentsExactly(t *testing.T) {
	db, f, _ := seeded(t, 3, 3)
	ctx := context.Background()
	// Re-import the same directory with two assignments, twice.
	snap := func(assigned ...uuid.UUID) licensing.Snapshot {
		ids := []string{}
		for _, a := range assigned {
			ids = append(ids, a.String())
		}
		c := licensing.SnapshotCustomer{ID: f.Customer.String(), Name: "Fabrikam",
			Licenses: []licensing.SnapshotLicense{{ProviderInstanceID: f.PI.String(), SKUID: f.SKU.String(),
				Name: "Microsoft 365 E3", TotalLicenses: 3, AssignedUserIDs: ids}}}
		for _, u := range f.Users {
			c.Users = append(c.Users, licensing.SnapshotUser{ID: u.String(), DisplayName: "U", UserPrincipalName: u.String() + "@x.test"})
		}
		return licensing.Snapshot{Tenants: []licensing.SnapshotTenant{{Domain: f.Tenant,
			ProviderInstances: []licensing.SnapshotProviderInstance{{ID: f.PI.String(), Name: "Contoso CSP", Provider: "microsoft"}},
			Customers:         []licensing.SnapshotCustomer{c}}}}
	}
	for range 2 {
		if err := db.Import(ctx, snap(f.Users[0], f.Users[1])); err != nil {
			t.Fatal(err)
		}
		if n := assertConsistent(t, db, f); n != 2 {
			t.Fatalf("%d assignments, want 2", n)
		}
	}
	if err := db.Import(ctx, snap(f.Users[2])); err != nil {
		t.Fatal(err)
	}
	held, err := db.HeldSKUs(ctx, f.ref(f.Users[2]))
	if err != nil || !held[f.SKU] {
		t.Fatalf("user 2 holds %v (%v), want the SKU", held, err)
	}
	if n := assertConsistent(t, db, f); n != 1 {
		t.Fatalf("%d assignments, want exactly the snapshot's one", n)
	}
}

func TestImport_idOfAnotherTenantIsInvalidAndNothingIsWritten(t *testing.T) {
	db, f, _ := seeded(t, 1, 1)
	ctx := context.Background()
	_, s := newFixture(1, 1)
	s.Tenants[0].Domain = "portal.other.test"
	s.Tenants[0].Customers[0].ID = f.Customer.String() // already Contoso's
	err := db.Import(ctx, s)
	var de *licensing.Error
	if !errors.As(err, &de) || de.Code != licensing.Invalid || len(de.Properties) != 1 || de.Properties[0].Property != "tenants[0].customers[0].id" {
		t.Fatalf("err = %v, want Invalid naming tenants[0].customers[0].id", err)
	}
	if _, err := db.ProviderInstance(ctx, "portal.other.test", uuid.MustParse(s.Tenants[0].ProviderInstances[0].ID)); licensing.ErrorCode(err) != licensing.NotFound {
		t.Fatalf("the rejected snapshot's provider instance: %v, want NotFound (nothing written)", err)
	}
	if c, err := db.Customer(ctx, f.Tenant, f.Customer); err != nil || c.Name != "Fabrikam" {
		t.Fatalf("the existing customer changed: %v, %v", c, err)
	}
}

// The search reads the users' trigram indexes on every request; a GIN
// index with fastupdate keeps new entries in a pending list that each
// search reads in full until a VACUUM merges it (after a 100k-user import,
// 429 pages: 9 ms of a 10 ms search). The indexes must not keep one.
func TestUsers_searchIndexesKeepNoPendingList(t *testing.T) {
	db, _, _ := seeded(t, 30, 1)
	ctx := context.Background()
	rows, err := db.Pool().Query(ctx, `SELECT c.relname, coalesce(c.reloptions, '{}')
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
		WHERE i.indrelid = 'users'::regclass AND a.amname = 'gin'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		var opts []string
		if err := rows.Scan(&name, &opts); err != nil {
			t.Fatal(err)
		}
		n++
		if !slices.Contains(opts, "fastupdate=off") {
			t.Errorf("GIN index %s has options %v; want fastupdate=off", name, opts)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d GIN indexes on users, want the two trigram indexes of the search", n)
	}
}

func TestUsers_pagesSearchAndSort(t *testing.T) {
	db, f, _ := seeded(t, 30, 1)
	ctx := context.Background()
	page, err := db.Users(ctx, f.Tenant, f.Customer, licensing.UserQuery{Page: licensing.Page{Number: 2, Size: 25}, Sort: licensing.SortDisplayName})
	if err != nil || page.Total != 30 || len(page.Items) != 5 || page.Items[0].DisplayName != "User 0025" {
		t.Fatalf("page 2: %+v, %v", page, err)
	}
	page, err = db.Users(ctx, f.Tenant, f.Customer, licensing.UserQuery{Page: licensing.Page{Number: 9, Size: 25}})
	if err != nil || page.Total != 30 || len(page.Items) != 0 {
		t.Fatalf("past the end: %+v, %v", page, err)
	}
	page, err = db.Users(ctx, f.Tenant, f.Customer, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Search: "USER001"})
	if err != nil || page.Total != 10 {
		t.Fatalf("search: %+v, %v", page, err)
	}
	page, err = db.Users(ctx, f.Tenant, f.Customer, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 25}, Search: "%"})
	if err != nil || page.Total != 0 {
		t.Fatalf("a %% is taken literally: %+v, %v", page, err)
	}
}

func TestOpen_unreachableDatabaseIsUnavailable(t *testing.T) {
	// No server needed: nothing listens on port 1 of loopback.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, postgres.Config{URL: "postgres://postgres@127.0.0.1:1/test?sslmode=disable", ConnectTimeout: time.Second})
	if licensing.ErrorCode(err) != licensing.Unavailable {
		t.Fatalf("err = %v, want Unavailable", err)
	}
}

// The group-commit writer sends an update's writes in the same round trip
// as the next update's reads (applyInTx's carry): a write that fails there
// must still fail its whole batch, and nothing of the batch may be
// committed. A trigger makes one user's assignment fail and another's slow,
// so that the failing update and the ones queued behind it share a batch.
func TestApply_aWriteFailingInABatchCommitsNothingOfIt(t *testing.T) {
	db, f, _ := seeded(t, 12, 20)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	slow, poisoned, rest := f.Users[0], f.Users[1], f.Users[2:]
	if _, err := db.Pool().Exec(ctx, `
		CREATE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.user_id::text = '`+slow.String()+`' THEN PERFORM pg_sleep(0.5); END IF;
			IF NEW.user_id::text = '`+poisoned.String()+`' THEN RAISE EXCEPTION 'injected fault'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER test_fault BEFORE INSERT ON assignments FOR EACH ROW EXECUTE FUNCTION test_fault();`); err != nil {
		t.Fatal(err)
	}
	apply := func(u uuid.UUID) error {
		_, err := db.ApplyUserLicenses(ctx, f.ref(u), licensing.Actor{Subject: "s", CorrelationID: uuid.New()}, f.set(true))
		return err
	}
	var wg sync.WaitGroup
	var slowErr error
	wg.Go(func() { slowErr = apply(slow) }) // holds the writer for 0.5 s
	time.Sleep(100 * time.Millisecond)
	var poisonedErr error
	wg.Go(func() { poisonedErr = apply(poisoned) }) // first in the next batch
	time.Sleep(50 * time.Millisecond)
	errs := make([]error, len(rest))
	for i, u := range rest {
		wg.Go(func() { errs[i] = apply(u) }) // behind it in the same batch
	}
	wg.Wait()
	if slowErr != nil {
		t.Fatalf("the slow update: %v", slowErr)
	}
	for i, err := range append([]error{poisonedErr}, errs...) {
		if code := licensing.ErrorCode(err); code == "" || code == licensing.Invalid || code == licensing.NotFound {
			t.Errorf("update %d of the failing batch: %v (code %q), want the batch's failure", i, err, code)
		}
	}
	if n := assertConsistent(t, db, f); n != 1 {
		t.Errorf("%d assignments, want only the slow update's", n)
	}
	page, err := db.AuditRecords(ctx, licensing.AuditQuery{Scope: licensing.Scope{Tenant: f.Tenant}, Page: licensing.Page{Number: 1, Size: 100}})
	if err != nil || page.Total != 1 {
		t.Errorf("audit records: %d, %v; want the slow update's one", page.Total, err)
	}
}
