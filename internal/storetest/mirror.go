package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// GraphFixtureIDs names what GraphFixture creates.
type GraphFixtureIDs struct {
	// Tenant is the portal (written in mixed case in the snapshot);
	// OtherTenant is a second portal with a graph link of its own.
	Tenant, OtherTenant string
	// Local is a local Microsoft instance; Graph (secret in an environment
	// variable) and GraphFile (secret in a file, default usage location
	// US) are graph instances; OtherGraph is OtherTenant's.
	Local, Graph, GraphFile, OtherGraph uuid.UUID
	// Linked is linked to Graph (MSTenant) and GraphFile (MSTenantFile);
	// Unlinked keeps local users and licenses under Local; Remote is
	// OtherTenant's customer linked to OtherGraph.
	Linked, Unlinked, Remote       uuid.UUID
	MSTenant, MSTenantFile, MSRemo uuid.UUID
	// Reseller is Linked's reseller.
	Reseller uuid.UUID
	// LocalUser is Unlinked's user, holding E3 under Local.
	LocalUser uuid.UUID
	// SKUs used by the mirror tests.
	E3, E5, Visio, Teams uuid.UUID
}

// GraphFixture returns a snapshot with graph instances and links, valid
// by Snapshot.Validate.
func GraphFixture() (licensing.Snapshot, GraphFixtureIDs) {
	ids := GraphFixtureIDs{
		Tenant: "graph.contoso.test", OtherTenant: "graph.woodgrove.test",
		Local: fixedID(1, 0x201), Graph: fixedID(1, 0x202), GraphFile: fixedID(1, 0x203), OtherGraph: fixedID(1, 0x204),
		Linked: fixedID(2, 0x201), Unlinked: fixedID(2, 0x202), Remote: fixedID(2, 0x203),
		MSTenant: fixedID(7, 1), MSTenantFile: fixedID(7, 2), MSRemo: fixedID(7, 3),
		Reseller:  fixedID(5, 0x201),
		LocalUser: fixedID(3, 0x201),
		E3:        fixedID(4, 0x203), E5: fixedID(4, 0x205), Visio: fixedID(4, 0x20a), Teams: fixedID(4, 0x20b),
	}
	s := func(id uuid.UUID) string { return id.String() }
	snap := licensing.Snapshot{Tenants: []licensing.SnapshotTenant{
		{
			Domain: "Graph.Contoso.TEST",
			ProviderInstances: []licensing.SnapshotProviderInstance{
				{ID: s(ids.Local), Name: "Local CSP", Provider: "microsoft"},
				{ID: s(ids.Graph), Name: "Graph CSP", Provider: "microsoft", Directory: licensing.DirectoryGraph,
					Graph: &licensing.SnapshotGraph{ClientID: s(fixedID(8, 1)), ClientSecretEnv: "GRAPH_SECRET"}},
				{ID: s(ids.GraphFile), Name: "Graph CSP (file)", Provider: "Microsoft", Directory: licensing.DirectoryGraph,
					Graph: &licensing.SnapshotGraph{ClientID: s(fixedID(8, 2)), ClientSecretFile: "/run/secrets/graph", DefaultUsageLocation: "US"}},
			},
			Customers: []licensing.SnapshotCustomer{
				{ID: s(ids.Linked), Name: "Linked Ltd", ResellerID: s(ids.Reseller), ResellerName: "Linked Reseller",
					ProviderCustomers: []licensing.SnapshotProviderCustomer{
						{ProviderInstanceID: s(ids.GraphFile), MicrosoftTenantID: s(ids.MSTenantFile)},
						{ProviderInstanceID: s(ids.Graph), MicrosoftTenantID: s(ids.MSTenant)},
					}},
				{ID: s(ids.Unlinked), Name: "Unlinked Ltd",
					Users: []licensing.SnapshotUser{{ID: s(ids.LocalUser), DisplayName: "Lou Local", UserPrincipalName: "lou@unlinked.test"}},
					Licenses: []licensing.SnapshotLicense{{ProviderInstanceID: s(ids.Local), SKUID: s(ids.E3), Name: "Microsoft 365 E3",
						TotalLicenses: 2, AssignedUserIDs: []string{s(ids.LocalUser)}}}},
			},
		},
		{
			Domain: "graph.woodgrove.test",
			ProviderInstances: []licensing.SnapshotProviderInstance{
				{ID: s(ids.OtherGraph), Name: "Woodgrove Graph", Provider: "microsoft", Directory: licensing.DirectoryGraph,
					Graph: &licensing.SnapshotGraph{ClientID: s(fixedID(8, 3)), ClientSecretEnv: "WOODGROVE_SECRET"}},
			},
			Customers: []licensing.SnapshotCustomer{
				{ID: s(ids.Remote), Name: "Remote Inc", ProviderCustomers: []licensing.SnapshotProviderCustomer{
					{ProviderInstanceID: s(ids.OtherGraph), MicrosoftTenantID: s(ids.MSRemo)}}},
			},
		},
	}}
	return snap, ids
}

// graphSeeded opens a store and imports GraphFixture into it.
func graphSeeded(t *testing.T, open Opener) (licensing.Store, GraphFixtureIDs) {
	t.Helper()
	s := open(t)
	snap, ids := GraphFixture()
	if err := snap.Validate(); err != nil {
		t.Fatalf("the graph fixture itself is invalid: %v", err)
	}
	if err := s.Import(t.Context(), snap); err != nil {
		t.Fatalf("Import(graph fixture): %v", err)
	}
	return s, ids
}

func graphLink(t *testing.T, s licensing.Store, tenant string, customer, instance uuid.UUID) licensing.GraphLink {
	t.Helper()
	l, err := s.GraphLink(t.Context(), tenant, customer, instance)
	if err != nil {
		t.Fatalf("GraphLink(%s, %s, %s): %v", tenant, customer, instance, err)
	}
	return l
}

// wantInstances are the instances GraphFixture's main tenant holds, as a
// store returns them.
func (ids GraphFixtureIDs) wantInstances() map[uuid.UUID]licensing.ProviderInstance {
	return map[uuid.UUID]licensing.ProviderInstance{
		ids.Local: {ID: ids.Local, Name: "Local CSP", Provider: "microsoft", Directory: licensing.DirectoryLocal},
		ids.Graph: {ID: ids.Graph, Name: "Graph CSP", Provider: "microsoft", Directory: licensing.DirectoryGraph,
			Graph: &licensing.GraphApp{ClientID: fixedID(8, 1).String(), ClientSecretEnv: "GRAPH_SECRET"}},
		ids.GraphFile: {ID: ids.GraphFile, Name: "Graph CSP (file)", Provider: "Microsoft", Directory: licensing.DirectoryGraph,
			Graph: &licensing.GraphApp{ClientID: fixedID(8, 2).String(), ClientSecretFile: "/run/secrets/graph", DefaultUsageLocation: "US"}},
	}
}

func testMirror(t *testing.T, open Opener) {
	t.Run("Import", func(t *testing.T) { testMirrorImport(t, open) })
	t.Run("GraphLinks", func(t *testing.T) { testGraphLinks(t, open) })
	t.Run("MirrorLicenses", func(t *testing.T) { testMirrorLicenses(t, open) })
	t.Run("MirrorUsers", func(t *testing.T) { testMirrorUsers(t, open) })
	t.Run("PruneUsers", func(t *testing.T) { testPruneUsers(t, open) })
	t.Run("SyncState", func(t *testing.T) { testSyncState(t, open) })
	t.Run("AuditOutcomes", func(t *testing.T) { testAuditOutcomes(t, open) })
	t.Run("UnlinkedIsNotFound", func(t *testing.T) { testMirrorNotFound(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testMirrorConcurrent(t, open) })
}

// testMirrorConcurrent: a sync's pages and the single-user updates a PATCH
// makes run at once on one customer, over the same users in different
// orders; every call succeeds (a store retries its own conflicts) and the
// mirror ends as the last write of each user says.
func testMirrorConcurrent(t *testing.T, open Opener) {
	s, ids := graphSeeded(t, open)
	ctx := t.Context()
	link := graphLink(t, s, ids.Tenant, ids.Linked, ids.Graph)
	if err := s.MirrorLicenses(ctx, link, []licensing.License{{SKUID: ids.E3, Name: "E3", Total: 1000}, {SKUID: ids.E5, Name: "E5", Total: 1000}}); err != nil {
		t.Fatal(err)
	}
	const users, writers = 100, 4
	page := func(reverse bool) []licensing.MirroredUser {
		out := make([]licensing.MirroredUser, users)
		for i := range out {
			n := i
			if reverse {
				n = users - 1 - i
			}
			out[i] = licensing.MirroredUser{User: licensing.User{ID: fixedID(3, 0x3000+n), DisplayName: fmt.Sprintf("C%03d", n),
				UserPrincipalName: fmt.Sprintf("c%03d@linked.test", n)}, SKUs: []uuid.UUID{ids.E3}}
		}
		return out
	}
	errs := make(chan error, writers*3+users)
	done := make(chan struct{})
	for w := range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 3 {
				errs <- s.MirrorUsers(ctx, link, page(w%2 == 1), nil)
			}
		}()
	}
	go func() {
		defer func() { done <- struct{}{} }()
		for _, u := range page(true)[:30] { // one commit each: a few suffice
			u.SKUs = []uuid.UUID{ids.E3}
			errs <- s.MirrorUsers(ctx, link, []licensing.MirroredUser{u}, nil)
		}
	}()
	for range writers + 1 {
		<-done
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent MirrorUsers: %v", err)
		}
	}
	ls := licenses(t, s, ids.Tenant, ids.Linked, ids.Graph)
	if e3 := license(t, ls, ids.E3); e3.Consumed != users {
		t.Errorf("E3 consumed %d, want %d (every user holds it once)", e3.Consumed, users)
	}
}

func testMirrorImport(t *testing.T, open Opener) {
	s, ids := graphSeeded(t, open)
	ctx := t.Context()
	t.Run("instancesCarryTheirDirectory", func(t *testing.T) {
		for id, want := range ids.wantInstances() {
			got, err := s.ProviderInstance(ctx, "GRAPH.contoso.test", id)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("ProviderInstance(%s) = %+v (graph %+v), %v; want %+v (graph %+v)", id, got, got.Graph, err, want, want.Graph)
			}
		}
		page, err := s.ProviderInstances(ctx, ids.Tenant, licensing.Page{Number: 1, Size: 10})
		if err != nil || page.Total != 3 {
			t.Fatalf("ProviderInstances = %+v, %v; want 3", page, err)
		}
		for _, got := range page.Items {
			if want := ids.wantInstances()[got.ID]; !reflect.DeepEqual(got, want) {
				t.Errorf("listed %+v (graph %+v), want %+v (graph %+v)", got, got.Graph, want, want.Graph)
			}
		}
	})
	t.Run("twiceChangesNothing", func(t *testing.T) {
		s, ids := graphSeeded(t, open)
		before, err := s.GraphLinks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		snap, _ := GraphFixture()
		if err := s.Import(ctx, snap); err != nil {
			t.Fatalf("second Import: %v", err)
		}
		after, err := s.GraphLinks(ctx)
		if err != nil || !reflect.DeepEqual(before, after) {
			t.Errorf("GraphLinks after a second import = %+v, %v; want %+v", after, err, before)
		}
		for id, want := range ids.wantInstances() {
			if got, err := s.ProviderInstance(ctx, ids.Tenant, id); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("ProviderInstance(%s) after a second import = %+v, %v", id, got, err)
			}
		}
	})
	t.Run("aChangedMicrosoftTenantRestartsTheSync", func(t *testing.T) {
		s, ids := graphSeeded(t, open)
		link := graphLink(t, s, ids.Tenant, ids.Linked, ids.Graph)
		if err := s.SetSyncState(ctx, link, licensing.SyncState{DeltaLink: "https://graph.test/delta?token=1", SyncedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		snap, _ := GraphFixture()
		snap.Tenants[0].Customers[0].ProviderCustomers[1].MicrosoftTenantID = fixedID(7, 9).String()
		if err := s.Import(ctx, snap); err != nil {
			t.Fatalf("Import: %v", err)
		}
		link = graphLink(t, s, ids.Tenant, ids.Linked, ids.Graph)
		if link.MicrosoftTenantID != fixedID(7, 9) {
			t.Errorf("MicrosoftTenantID = %s, want the new %s", link.MicrosoftTenantID, fixedID(7, 9))
		}
		if st, err := s.SyncState(ctx, link); err != nil || st != (licensing.SyncState{}) {
			t.Errorf("SyncState after the tenant changed = %+v, %v; want zero (the old delta link is another tenant's)", st, err)
		}
		// The other link of the customer keeps its Microsoft tenant.
		if other := graphLink(t, s, ids.Tenant, ids.Linked, ids.GraphFile); other.MicrosoftTenantID != ids.MSTenantFile {
			t.Errorf("the other link changed: %+v", other)
		}
	})
	collisions := []struct {
		name  string
		edit  func(*licensing.Snapshot, GraphFixtureIDs)
		place string
	}{
		{"aLinkedInstanceStaysGraph", func(s *licensing.Snapshot, ids GraphFixtureIDs) {
			s.Tenants = s.Tenants[:1]
			s.Tenants[0].Customers = nil
			s.Tenants[0].ProviderInstances[1].Directory = ""
			s.Tenants[0].ProviderInstances[1].Graph = nil
		}, "tenants[0].providerInstances[1].directory"},
		{"aLinkedCustomerListsNoUsers", func(s *licensing.Snapshot, ids GraphFixtureIDs) {
			s.Tenants = s.Tenants[:1]
			c := &s.Tenants[0].Customers[0]
			c.ProviderCustomers = nil
			c.Users = []licensing.SnapshotUser{{ID: fixedID(3, 0x2ff).String(), DisplayName: "Nope", UserPrincipalName: "nope@linked.test"}}
		}, "tenants[0].customers[0].users"},
		{"aLinkToAnotherTenantsInstance", func(s *licensing.Snapshot, ids GraphFixtureIDs) {
			// The main tenant declares the other tenant's instance as its own.
			s.Tenants = s.Tenants[:1]
			s.Tenants[0].ProviderInstances = append(s.Tenants[0].ProviderInstances, licensing.SnapshotProviderInstance{
				ID: ids.OtherGraph.String(), Name: "stolen", Provider: "microsoft", Directory: licensing.DirectoryGraph,
				Graph: &licensing.SnapshotGraph{ClientID: fixedID(8, 4).String(), ClientSecretEnv: "X"}})
			s.Tenants[0].Customers[0].ProviderCustomers = append(s.Tenants[0].Customers[0].ProviderCustomers,
				licensing.SnapshotProviderCustomer{ProviderInstanceID: ids.OtherGraph.String(), MicrosoftTenantID: fixedID(7, 8).String()})
		}, "tenants[0].providerInstances[3].id"},
	}
	for _, tt := range collisions {
		t.Run(tt.name, func(t *testing.T) {
			s, ids := graphSeeded(t, open)
			before, err := s.GraphLinks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			snap, _ := GraphFixture()
			tt.edit(&snap, ids)
			if err := snap.Validate(); err != nil {
				t.Fatalf("the test snapshot must pass validation (the store's rule is under test): %v", err)
			}
			err = s.Import(ctx, snap)
			wantCode(t, err, licensing.Invalid, "Import")
			if !hasProperty(err, tt.place) {
				t.Errorf("Import error %v does not name %s", err, tt.place)
			}
			if after, err := s.GraphLinks(ctx); err != nil || !reflect.DeepEqual(before, after) {
				t.Errorf("a refused import changed the links: %+v, %v", after, err)
			}
		})
	}
}

func hasProperty(err error, place string) bool {
	e, ok := err.(*licensing.Error)
	if !ok {
		return false
	}
	for _, p := range e.Properties {
		if p.Property == place {
			return true
		}
	}
	return false
}

func testGraphLinks(t *testing.T, open Opener) {
	s, ids := graphSeeded(t, open)
	ctx := t.Context()
	links, err := s.GraphLinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []licensing.GraphLink{
		{Tenant: ids.Tenant, Customer: licensing.Customer{ID: ids.Linked, Name: "Linked Ltd", ResellerID: &ids.Reseller, ResellerName: "Linked Reseller"},
			Instance: ids.wantInstances()[ids.Graph], MicrosoftTenantID: ids.MSTenant},
		{Tenant: ids.Tenant, Customer: licensing.Customer{ID: ids.Linked, Name: "Linked Ltd", ResellerID: &ids.Reseller, ResellerName: "Linked Reseller"},
			Instance: ids.wantInstances()[ids.GraphFile], MicrosoftTenantID: ids.MSTenantFile},
		{Tenant: ids.OtherTenant, Customer: licensing.Customer{ID: ids.Remote, Name: "Remote Inc"},
			Instance: licensing.ProviderInstance{ID: ids.OtherGraph, Name: "Woodgrove Graph", Provider: "microsoft", Directory: licensing.DirectoryGraph,
				Graph: &licensing.GraphApp{ClientID: fixedID(8, 3).String(), ClientSecretEnv: "WOODGROVE_SECRET"}},
			MicrosoftTenantID: ids.MSRemo},
	}
	if !reflect.DeepEqual(links, want) {
		t.Errorf("GraphLinks =\n%s\nwant (by tenant, customer, instance)\n%s", showLinks(links), showLinks(want))
	}
	got, err := s.GraphLink(ctx, "Graph.Contoso.Test", ids.Linked, ids.GraphFile)
	if err != nil || !reflect.DeepEqual(got, want[1]) {
		t.Errorf("GraphLink = %s, %v; want %s", showLinks([]licensing.GraphLink{got}), err, showLinks(want[1:2]))
	}
}

func showLinks(ls []licensing.GraphLink) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "  %s %+v %+v graph=%+v ms=%s\n", l.Tenant, l.Customer, l.Instance, l.Instance.Graph, l.MicrosoftTenantID)
	}
	return b.String()
}

// testMirrorNotFound: every method taking a link refuses one that does
// not exist, and GraphLink says NotFound for each way of not being linked.
func testMirrorNotFound(t *testing.T, open Opener) {
	s, ids := graphSeeded(t, open)
	ctx := t.Context()
	cases := []struct {
		name               string
		tenant             string
		customer, instance uuid.UUID
	}{
		{"unlinkedCustomer", ids.Tenant, ids.Unlinked, ids.Graph},
		{"localInstance", ids.Tenant, ids.Linked, ids.Local},
		{"unknownCustomer", ids.Tenant, fixedID(2, 0x2ff), ids.Graph},
		{"anotherTenantsLink", ids.Tenant, ids.Remote, ids.OtherGraph},
		{"linkSeenFromAnotherTenant", ids.OtherTenant, ids.Linked, ids.Graph},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.GraphLink(ctx, tt.tenant, tt.customer, tt.instance)
			wantCode(t, err, licensing.NotFound, "GraphLink")
			link := licensing.GraphLink{Tenant: tt.tenant, Customer: licensing.Customer{ID: tt.customer},
				Instance: licensing.ProviderInstance{ID: tt.instance}}
			user := licensing.MirroredUser{User: licensing.User{ID: fixedID(3, 0x2fe), DisplayName: "X", UserPrincipalName: "x@x.test"}}
			calls := map[string]error{
				"MirrorLicenses": s.MirrorLicenses(ctx, link, []licensing.License{{SKUID: ids.E3, Name: "E3", Total: 1}}),
				"MirrorUsers":    s.MirrorUsers(ctx, link, []licensing.MirroredUser{user}, nil),
				"SetSyncState":   s.SetSyncState(ctx, link, licensing.SyncState{DeltaLink: "x"}),
			}
			_, calls["PruneUsers"] = s.PruneUsers(ctx, link, time.Now())
			_, calls["SyncState"] = s.SyncState(ctx, link)
			_, calls["ProcessingRecords"] = s.ProcessingRecords(ctx, link)
			_, calls["MirroredUser"] = s.MirroredUser(ctx, link, user.ID)
			for name, err := range calls {
				if licensing.ErrorCode(err) != licensing.NotFound {
					t.Errorf("%s on a missing link: %v, want NotFound", name, err)
				}
			}
		})
	}
	// Nothing was written by the refused calls.
	if _, err := s.User(ctx, ids.Tenant, ids.Linked, fixedID(3, 0x2fe)); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("a refused MirrorUsers wrote a user: %v", err)
	}
	if ls := licenses(t, s, ids.Tenant, ids.Linked, ids.Local); len(ls) != 0 {
		t.Errorf("a refused MirrorLicenses wrote %+v", ls)
	}
}

func testMirrorLicenses(t *testing.T, open Opener) {
	s, ids := graphSeeded(t, open)
	ctx := t.Context()
	link := graphLink(t, s, ids.Tenant, ids.Linked, ids.Graph)
	mirror := func(ls ...licensing.License) {
		t.Helper()
		if err := s.MirrorLicenses(ctx, link, ls); err != nil {
			t.Fatalf("MirrorLicenses(%+v): %v", ls, err)
		}
	}
	// Consumed is ignored: it is counted from the assignments.
	mirror(licensing.License{SKUID: ids.E3, Name: "Microsoft 365 E3", Total: 10, Suspended: 1, Consumed: 7},
		licensing.License{SKUID: ids.E5, Name: "Microsoft 365 E5", Total: 3},
		licensing.License{SKUID: ids.Visio, Name: "Visio Plan 2", Total: 2})
	want := []licensing.License{
		{SKUID: ids.E3, Name: "Microsoft 365 E3", Total: 10, Suspended: 1},
		{SKUID: ids.E5, Name: "Microsoft 365 E5", Total: 3},
		{SKUID: ids.Visio, Name: "Visio Plan 2", Total: 2},
	}
	if got := licenses(t, s, ids.Tenant, ids.Linked, ids.Graph); !reflect.DeepEqual(got, want) {
		t.Fatalf("Licenses = %+v, want %+v", got, want)
	}
	// The other graph instance of the same customer is a separate mirror.
	if got := licenses(t, s, ids.Tenant, ids.Linked, ids.GraphFile); len(got) != 0 {
		t.Errorf("Licenses under the other instance = %+v, want none", got)
	}
	ada := licensing.MirroredUser{User: licensing.User{ID: fixedID(3, 0x211), DisplayName: "Ada", UserPrincipalName: "ada@linked.test"},
		SKUs: []uuid.UUID{ids.E3, ids.Visio}}
	if err := s.MirrorUsers(ctx, link, []licensing.MirroredUser{ada}, nil); err != nil {
		t.Fatal(err)
	}
	// Update E3, drop Visio (Ada's Visio assignment goes with it), add Teams.
	mirror(licensing.License{SKUID: ids.Teams, Name: "Teams Essentials", Total: 5},
		licensing.License{SKUID: ids.E3, Name: "Microsoft 365 E3 (no Teams)", Total: 12, Suspended: 2},
		licensing.License{SKUID: ids.E5, Name: "Microsoft 365 E5", Total: 3})
	want = []licensing.License{
		{SKUID: ids.E3, Name: "Microsoft 365 E3 (no Teams)", Total: 12, Suspended: 2, Consumed: 1},
		{SKUID: ids.E5, Name: "Microsoft 365 E5", Total: 3},
		{SKUID: ids.Teams, Name: "Teams Essentials", Total: 5},
	}
	if got := licenses(t, s, ids.Tenant, ids.Linked, ids.Graph); !reflect.DeepEqual(got, want) {
		t.Errorf("Licenses after the update = %+v, want %+v", got, want)
	}
	if got, err := s.MirroredUser(ctx, link, ada.ID); err != nil || !reflect.DeepEqual(got.SKUs, []uuid.UUID{ids.E3}) {
		t.Errorf("Ada's SKUs after Visio was dropped = %+v, %v; want only E3", got.SKUs, err)
	}
	// An empty list deletes every license and assignment of the mirror.
	mirror()
	if got := licenses(t, s, ids.Tenant, ids.Linked, ids.Graph); len(got) != 0 {
		t.Errorf("Licenses after mirroring none = %+v", got)
	}
	if got, err := s.MirroredUser(ctx, link, ada.ID); err != nil || len(got.SKUs) != 0 {
		t.Errorf("Ada after every license went = %+v, %v; want no SKUs", got, err)
	}
	// The local data of another customer is untouched.
	if got := licenses(t, s, ids.Tenant, ids.Unlinked, ids.Local); len(got) != 1 || got[0].Consumed != 1 {
		t.Errorf("Unlinked's local licenses = %+v, want E3 held once", got)
	}
	invalid := []struct {
		name string
		ls   []licensing.License
	}{
		{"duplicateSKU", []licensing.License{{SKUID: ids.E3, Name: "a", Total: 1}, {SKUID: ids.E3, Name: "b", Total: 1}}},
		{"negativeTotal", []licensing.License{{SKUID: ids.E3, Name: "a", Total: -1}}},
		{"negativeSuspended", []licensing.License{{SKUID: ids.E3, Name: "a", Total: 1, Suspended: -1}}},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, s.MirrorLicenses(ctx, link, tt.ls), licensing.Invalid, "MirrorLicenses")
			if got := licenses(t, s, ids.Tenant, ids.Linked, ids.Graph); len(got) != 0 {
				t.Errorf("a refused MirrorLicenses wrote %+v", got)
			}
		})
	}
}

func testMirrorUsers(t *testing.T, open Opener) {
	s, ids := graphSeeded(t, open)
	ctx := t.Context()
	link := graphLink(t, s, ids.Tenant, ids.Linked, ids.Graph)
	if err := s.MirrorLicenses(ctx, link, []licensing.License{
		{SKUID: ids.E3, Name: "Microsoft 365 E3", Total: 10},
		{SKUID: ids.Visio, Name: "Visio Plan 2", Total: 2},
	}); err != nil {
		t.Fatal(err)
	}
	u := func(n int, name, upn, loc string, skus ...uuid.UUID) licensing.MirroredUser {
		if skus == nil {
			skus = []uuid.UUID{}
		}
		return licensing.MirroredUser{User: licensing.User{ID: fixedID(3, 0x220+n), DisplayName: name, UserPrincipalName: upn},
			UsageLocation: loc, SKUs: skus}
	}
	ada := u(1, "Ada Lovelace", "ada@linked.test", "GB", ids.E3, ids.Visio)
	// Teams has no mirrored license: ignored, not an error.
	bob := u(2, "Bob Builder", "bob@linked.test", "", ids.Teams, ids.E3)
	cy := u(3, "Cy Young", "cy@linked.test", "US")
	if err := s.MirrorUsers(ctx, link, []licensing.MirroredUser{cy, ada, bob}, nil); err != nil {
		t.Fatalf("MirrorUsers: %v", err)
	}
	checkUsers := func(t *testing.T, want ...licensing.MirroredUser) {
		t.Helper()
		page, err := s.Users(ctx, ids.Tenant, ids.Linked, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 100}, Sort: licensing.SortDisplayName})
		if err != nil {
			t.Fatal(err)
		}
		var wantUsers []licensing.User
		for _, w := range want {
			wantUsers = append(wantUsers, w.User)
		}
		if !reflect.DeepEqual(page.Items, wantUsers) || page.Total != len(want) {
			t.Errorf("Users = %+v total %d, want %+v", page.Items, page.Total, wantUsers)
		}
		for _, w := range want {
			got, err := s.MirroredUser(ctx, link, w.ID)
			w.SKUs = knownSKUs(w.SKUs, ids.E3, ids.Visio)
			if err != nil || !reflect.DeepEqual(got, w) {
				t.Errorf("MirroredUser(%s) = %+v, %v; want %+v", w.ID, got, err, w)
			}
			ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Linked, UserID: w.ID, ProviderInstanceID: ids.Graph}
			if h := held(t, s, ref); !slices.Equal(h, w.SKUs) {
				t.Errorf("HeldSKUs(%s) = %v, want %v", w.ID, h, w.SKUs)
			}
		}
	}
	t.Run("upsertedWithExactAssignments", func(t *testing.T) {
		checkUsers(t, ada, bob, cy)
		ls := licenses(t, s, ids.Tenant, ids.Linked, ids.Graph)
		if e3, visio := license(t, ls, ids.E3), license(t, ls, ids.Visio); e3.Consumed != 2 || visio.Consumed != 1 {
			t.Errorf("consumed E3 %d, Visio %d; want 2 and 1", e3.Consumed, visio.Consumed)
		}
		page, err := s.Users(ctx, "graph.CONTOSO.test", ids.Linked, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 10}, Search: "BUILD", Sort: licensing.SortDisplayName})
		if err != nil || page.Total != 1 || page.Items[0].ID != bob.ID {
			t.Errorf("search over mirrored users = %+v, %v; want Bob", page, err)
		}
	})
	t.Run("updatedAndRemoved", func(t *testing.T) {
		ada2 := u(1, "Ada King", "ada.king@linked.test", "FR", ids.Visio)
		bob2 := u(2, "Bob Builder", "bob@linked.test", "DE", ids.E3, ids.Visio)
		// Listed twice in one page: the last entry counts.
		if err := s.MirrorUsers(ctx, link, []licensing.MirroredUser{bob, ada2, bob2}, []uuid.UUID{cy.ID, fixedID(3, 0x2fd)}); err != nil {
			t.Fatalf("MirrorUsers: %v", err)
		}
		checkUsers(t, ada2, bob2)
		if _, err := s.User(ctx, ids.Tenant, ids.Linked, cy.ID); licensing.ErrorCode(err) != licensing.NotFound {
			t.Errorf("removed user Cy: %v, want NotFound", err)
		}
		ls := licenses(t, s, ids.Tenant, ids.Linked, ids.Graph)
		if e3, visio := license(t, ls, ids.E3), license(t, ls, ids.Visio); e3.Consumed != 1 || visio.Consumed != 2 {
			t.Errorf("consumed E3 %d, Visio %d; want 1 and 2", e3.Consumed, visio.Consumed)
		}
	})
	t.Run("aUserOfAnotherCustomerIsConflict", func(t *testing.T) {
		before := licenses(t, s, ids.Tenant, ids.Linked, ids.Graph)
		intruder := licensing.MirroredUser{User: licensing.User{ID: ids.LocalUser, DisplayName: "Hijack", UserPrincipalName: "h@x.test"},
			SKUs: []uuid.UUID{ids.E3}}
		fresh := u(9, "Fresh", "fresh@linked.test", "", ids.E3)
		err := s.MirrorUsers(ctx, link, []licensing.MirroredUser{fresh, intruder}, nil)
		wantCode(t, err, licensing.Conflict, "MirrorUsers with another customer's user")
		if got, err := s.User(ctx, ids.Tenant, ids.Unlinked, ids.LocalUser); err != nil || got.DisplayName != "Lou Local" {
			t.Errorf("the other customer's user = %+v, %v; want it untouched", got, err)
		}
		if _, err := s.User(ctx, ids.Tenant, ids.Linked, fresh.ID); licensing.ErrorCode(err) != licensing.NotFound {
			t.Errorf("a refused page wrote a user: %v", err)
		}
		if after := licenses(t, s, ids.Tenant, ids.Linked, ids.Graph); !reflect.DeepEqual(before, after) {
			t.Errorf("a refused page changed the licenses: %+v, want %+v", after, before)
		}
	})
	t.Run("aFullPage", func(t *testing.T) {
		// A page as large as Graph sends ($top=999), twice: inserts, then
		// updates with other SKUs.
		page := make([]licensing.MirroredUser, 999)
		for i := range page {
			page[i] = licensing.MirroredUser{User: licensing.User{ID: fixedID(3, 0x10000+i),
				DisplayName: fmt.Sprintf("User %04d", i), UserPrincipalName: fmt.Sprintf("u%04d@linked.test", i)},
				SKUs: []uuid.UUID{ids.E3}}
		}
		if err := s.MirrorUsers(ctx, link, page, nil); err != nil {
			t.Fatal(err)
		}
		for i := range page {
			page[i].SKUs = []uuid.UUID{ids.Visio}
		}
		if err := s.MirrorUsers(ctx, link, page, nil); err != nil {
			t.Fatal(err)
		}
		users, err := s.Users(ctx, ids.Tenant, ids.Linked, licensing.UserQuery{Page: licensing.Page{Number: 1, Size: 1}, Sort: licensing.SortDisplayName})
		if err != nil || users.Total != 999+2 {
			t.Errorf("Users total = %d, %v; want 1001", users.Total, err)
		}
		ls := licenses(t, s, ids.Tenant, ids.Linked, ids.Graph)
		if e3, visio := license(t, ls, ids.E3), license(t, ls, ids.Visio); e3.Consumed != 1 || visio.Consumed != 999+2 {
			t.Errorf("consumed E3 %d, Visio %d; want 1 and 1001", e3.Consumed, visio.Consumed)
		}
	})
}

// knownSKUs keeps the SKUs among known, sorted: what the mirror stores.
func knownSKUs(skus []uuid.UUID, known ...uuid.UUID) []uuid.UUID {
	out := []uuid.UUID{}
	for _, s := range skus {
		if slices.Contains(known, s) {
			out = append(out, s)
		}
	}
	return sortedIDs(out)
}

func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	out := append([]uuid.UUID{}, ids...)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func testPruneUsers(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	// Linked was a local customer with a user before it was linked.
	snap, ids := GraphFixture()
	leftover := fixedID(3, 0x23f)
	before := snap
	before.Tenants = []licensing.SnapshotTenant{snap.Tenants[0]}
	before.Tenants[0].Customers = []licensing.SnapshotCustomer{{ID: ids.Linked.String(), Name: "Linked Ltd",
		Users: []licensing.SnapshotUser{{ID: leftover.String(), DisplayName: "Leftover", UserPrincipalName: "old@linked.test"}}}}
	for _, sn := range []licensing.Snapshot{before, snap} {
		if err := s.Import(ctx, sn); err != nil {
			t.Fatal(err)
		}
	}
	link := graphLink(t, s, ids.Tenant, ids.Linked, ids.Graph)
	fileLink := graphLink(t, s, ids.Tenant, ids.Linked, ids.GraphFile)
	if err := s.MirrorLicenses(ctx, link, []licensing.License{{SKUID: ids.E3, Name: "E3", Total: 10}}); err != nil {
		t.Fatal(err)
	}
	user := func(n int) licensing.MirroredUser {
		return licensing.MirroredUser{User: licensing.User{ID: fixedID(3, 0x230+n), DisplayName: fmt.Sprintf("U%d", n),
			UserPrincipalName: fmt.Sprintf("u%d@linked.test", n)}, SKUs: []uuid.UUID{ids.E3}}
	}
	gone, stays, otherMirror := user(1), user(2), user(3)
	if err := s.MirrorUsers(ctx, link, []licensing.MirroredUser{gone, stays}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.MirrorUsers(ctx, fileLink, []licensing.MirroredUser{otherMirror}, nil); err != nil {
		t.Fatal(err)
	}
	// The departing user has an audit record: audit records name users
	// without referencing them, so deleting the user must not fail.
	rec := licensing.AuditRecord{Tenant: ids.Tenant, Actor: "admin", CorrelationID: fixedID(6, 0x230), Operation: licensing.OperationAssign,
		Status: licensing.StatusSucceeded, CustomerID: ids.Linked, CustomerName: "Linked Ltd", UserID: gone.ID,
		ProviderInstanceID: ids.Graph, SKUID: ids.E3, SKUName: "E3"}
	if err := s.RecordAudit(ctx, []licensing.AuditRecord{rec}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond) // kind to coarse clocks
	passStart := time.Now()
	if err := s.MirrorUsers(ctx, link, []licensing.MirroredUser{stays}, nil); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneUsers(ctx, link, passStart)
	if err != nil || n != 2 {
		t.Fatalf("PruneUsers = %d, %v; want 2 (the user the pass did not see, the leftover of the local days)", n, err)
	}
	for _, tt := range []struct {
		name string
		id   uuid.UUID
		want bool
	}{{"not seen by the pass", gone.ID, false}, {"leftover", leftover, false}, {"seen", stays.ID, true},
		{"the other link's", otherMirror.ID, true}} {
		_, err := s.User(ctx, ids.Tenant, ids.Linked, tt.id)
		if exists := err == nil; exists != tt.want {
			t.Errorf("user %s exists %v (%v), want %v", tt.name, exists, err, tt.want)
		}
	}
	if e3 := license(t, licenses(t, s, ids.Tenant, ids.Linked, ids.Graph), ids.E3); e3.Consumed != 1 {
		t.Errorf("E3 consumed %d after the prune, want 1 (the pruned user's assignment gone)", e3.Consumed)
	}
	page, err := s.AuditRecords(ctx, licensing.AuditQuery{Scope: licensing.Scope{Tenant: ids.Tenant}, Page: licensing.Page{Number: 1, Size: 10}})
	if err != nil || len(page.Items) != 1 || page.Items[0].UserID != gone.ID {
		t.Errorf("audit after the prune = %+v, %v; want the pruned user's record kept", page, err)
	}
	// Local users of an unlinked customer are never the mirror's.
	if _, err := s.User(ctx, ids.Tenant, ids.Unlinked, ids.LocalUser); err != nil {
		t.Errorf("the local user went: %v", err)
	}
	if n, err := s.PruneUsers(ctx, link, passStart); err != nil || n != 0 {
		t.Errorf("a second PruneUsers = %d, %v; want 0", n, err)
	}
}

func testSyncState(t *testing.T, open Opener) {
	s, ids := graphSeeded(t, open)
	ctx := t.Context()
	link := graphLink(t, s, ids.Tenant, ids.Linked, ids.Graph)
	if st, err := s.SyncState(ctx, link); err != nil || st != (licensing.SyncState{}) {
		t.Fatalf("SyncState before any sync = %+v, %v; want zero", st, err)
	}
	at := time.Date(2026, 12, 3, 9, 30, 1, 123456789, time.FixedZone("CET", 3600))
	for _, tt := range []struct {
		name string
		in   licensing.SyncState
		want licensing.SyncState
	}{
		{"deltaAndTime", licensing.SyncState{DeltaLink: "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc", SyncedAt: at},
			licensing.SyncState{DeltaLink: "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc", SyncedAt: at.UTC().Truncate(time.Microsecond)}},
		{"expiredDeltaMeansFullPass", licensing.SyncState{SyncedAt: at.Add(time.Hour)},
			licensing.SyncState{SyncedAt: at.Add(time.Hour).UTC().Truncate(time.Microsecond)}},
		{"zero", licensing.SyncState{}, licensing.SyncState{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetSyncState(ctx, link, tt.in); err != nil {
				t.Fatal(err)
			}
			got, err := s.SyncState(ctx, link)
			if err != nil || got != tt.want {
				t.Errorf("SyncState = %+v, %v; want %+v", got, err, tt.want)
			}
			if !got.SyncedAt.IsZero() && got.SyncedAt.Location() != time.UTC {
				t.Errorf("SyncedAt in %v, want UTC", got.SyncedAt.Location())
			}
		})
	}
	// Per link: the customer's other link keeps its own state.
	if err := s.SetSyncState(ctx, link, licensing.SyncState{DeltaLink: "mine"}); err != nil {
		t.Fatal(err)
	}
	other := graphLink(t, s, ids.Tenant, ids.Linked, ids.GraphFile)
	if st, err := s.SyncState(ctx, other); err != nil || st != (licensing.SyncState{}) {
		t.Errorf("the other link's SyncState = %+v, %v; want zero", st, err)
	}
}

func testAuditOutcomes(t *testing.T, open Opener) {
	s, ids := graphSeeded(t, open)
	ctx := t.Context()
	link := graphLink(t, s, ids.Tenant, ids.Linked, ids.Graph)
	remote := graphLink(t, s, ids.OtherTenant, ids.Remote, ids.OtherGraph)
	rec := func(n int, tenant string, customer, instance uuid.UUID) licensing.AuditRecord {
		return licensing.AuditRecord{ID: fixedID(6, 0x240+n), Tenant: tenant, Actor: "admin", CorrelationID: fixedID(6, 0x250),
			Operation: licensing.OperationAssign, Status: licensing.StatusProcessing, CustomerID: customer, CustomerName: "c",
			UserID: fixedID(3, 0x240), ProviderInstanceID: instance, SKUID: ids.E3, SKUName: "E3"}
	}
	first, second := rec(1, ids.Tenant, ids.Linked, ids.Graph), rec(2, ids.Tenant, ids.Linked, ids.Graph)
	otherInstance := rec(3, ids.Tenant, ids.Linked, ids.GraphFile)
	otherTenant := rec(4, ids.OtherTenant, ids.Remote, ids.OtherGraph)
	for _, r := range []licensing.AuditRecord{first, second, otherInstance, otherTenant} {
		// One commit each, so that "oldest first" has an order to show.
		if err := s.RecordAudit(ctx, []licensing.AuditRecord{r}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	processing := func(l licensing.GraphLink) []uuid.UUID {
		t.Helper()
		rs, err := s.ProcessingRecords(ctx, l)
		if err != nil {
			t.Fatalf("ProcessingRecords: %v", err)
		}
		out := []uuid.UUID{}
		for _, r := range rs {
			if r.Status != licensing.StatusProcessing || r.CustomerID != l.Customer.ID || r.ProviderInstanceID != l.Instance.ID {
				t.Errorf("ProcessingRecords returned %+v", r)
			}
			out = append(out, r.ID)
		}
		return out
	}
	if got, want := processing(link), []uuid.UUID{first.ID, second.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("ProcessingRecords = %v, want %v (oldest first, this link only)", got, want)
	}
	status := func(tenant string, id uuid.UUID) (licensing.Status, string) {
		t.Helper()
		page, err := s.AuditRecords(ctx, licensing.AuditQuery{Scope: licensing.Scope{Tenant: tenant}, Page: licensing.Page{Number: 1, Size: 10}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Items {
			if r.ID == id {
				return r.Status, r.Reason
			}
		}
		t.Fatalf("record %s not found", id)
		return "", ""
	}
	// The other tenant's id is listed too: it must not move.
	if err := s.SetAuditStatus(ctx, "GRAPH.contoso.test", []uuid.UUID{first.ID, otherTenant.ID}, licensing.StatusSucceeded, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAuditStatus(ctx, ids.Tenant, []uuid.UUID{second.ID}, licensing.StatusFailed, "Graph: licenseAssignmentFailed"); err != nil {
		t.Fatal(err)
	}
	// A record already resolved keeps its first outcome.
	if err := s.SetAuditStatus(ctx, ids.Tenant, []uuid.UUID{first.ID}, licensing.StatusFailed, "late"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		tenant     string
		id         uuid.UUID
		status     licensing.Status
		reason     string
		resolution string
	}{
		{ids.Tenant, first.ID, licensing.StatusSucceeded, "", "succeeded, not overwritten by a late outcome"},
		{ids.Tenant, second.ID, licensing.StatusFailed, "Graph: licenseAssignmentFailed", "failed with the reason"},
		{ids.Tenant, otherInstance.ID, licensing.StatusProcessing, "", "not listed"},
		{ids.OtherTenant, otherTenant.ID, licensing.StatusProcessing, "", "another tenant's"},
	} {
		if st, reason := status(tt.tenant, tt.id); st != tt.status || reason != tt.reason {
			t.Errorf("record %s (%s) = %s %q, want %s %q", tt.id, tt.resolution, st, reason, tt.status, tt.reason)
		}
	}
	if got := processing(link); len(got) != 0 {
		t.Errorf("ProcessingRecords after both were resolved = %v", got)
	}
	if got := processing(remote); !reflect.DeepEqual(got, []uuid.UUID{otherTenant.ID}) {
		t.Errorf("the other tenant's ProcessingRecords = %v", got)
	}
	for _, st := range []licensing.Status{licensing.StatusProcessing, "Done", ""} {
		wantCode(t, s.SetAuditStatus(ctx, ids.Tenant, []uuid.UUID{otherInstance.ID}, st, ""), licensing.Invalid, fmt.Sprintf("SetAuditStatus(%q)", st))
	}
	if st, _ := status(ids.Tenant, otherInstance.ID); st != licensing.StatusProcessing {
		t.Errorf("a refused SetAuditStatus moved the record to %s", st)
	}
}
