package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
	"github.com/cloudcockpit-oss/userlicenses/internal/graph/graphfake"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
)

// The Graph world of these tests: customer gCustomer is linked, under the
// graph instance gInstance, to the fake Microsoft tenant gTenant;
// gCustomer2 under gInstance2 (which sets a default usage location) to
// gTenant2.
var (
	gInstance  = uuid.MustParse("6a000000-0000-4000-8000-00000000a001")
	gInstance2 = uuid.MustParse("6a000000-0000-4000-8000-00000000a002")
	gCustomer  = uuid.MustParse("6a000000-0000-4000-8000-00000000c001")
	gCustomer2 = uuid.MustParse("6a000000-0000-4000-8000-00000000c002")
	gTenant    = uuid.MustParse("6a000000-0000-4000-8000-00000000e001")
	gTenant2   = uuid.MustParse("6a000000-0000-4000-8000-00000000e002")
	gSkuE3     = uuid.MustParse("05e9a617-0261-4cee-bb44-138d3ef5d965")
	gSkuEO1    = uuid.MustParse("4b9405b0-7788-4568-add1-99614e613b69")
	gSkuEO2    = uuid.MustParse("19ec0d23-8335-4cbd-94ac-6050e30712fa")
	gSkuPBI    = uuid.MustParse("f8a1db68-be16-40ed-86d5-cb42ce701560")
	gSkuOrg    = uuid.MustParse("6a000000-0000-4000-8000-0000000000f0") // appliesTo Company
	gUser      = func(i int) uuid.UUID { return uuid.MustParse(fmt.Sprintf("6a000000-0000-4000-8000-%012d", 100+i)) }
)

const (
	gSecretEnv  = "E2E_GRAPH_APP_SECRET"
	gSecret     = "graph-app-secret-for-end-to-end-tests"
	gClientID   = "6a000000-0000-4000-8000-00000000ab01"
	gExtraUsers = 150
)

type graphEnv struct {
	*env
	fake *graphfake.Server
}

func graphTenants() (graphfake.Tenant, graphfake.Tenant) {
	a := graphfake.Tenant{ID: gTenant, ClientID: gClientID, ClientSecret: gSecret, SKUs: []graphfake.SKU{
		{ID: gSkuE3, PartNumber: "SPE_E3", Enabled: 3, Suspended: 1},
		{ID: gSkuEO1, PartNumber: "EXCHANGESTANDARD", Enabled: 1},
		{ID: gSkuEO2, PartNumber: "EXCHANGEENTERPRISE", Enabled: 5, ExcludesWith: []uuid.UUID{gSkuEO1}},
		{ID: gSkuPBI, PartNumber: "POWER_BI_PRO", Enabled: 4, Warning: 1},
		{ID: gSkuOrg, PartNumber: "ORG_WIDE", AppliesTo: "Company", Enabled: 1},
	}}
	// user 1 holds E3, user 2 the only EO1 seat, user 4 has no usage location.
	for i := 1; i <= 4+gExtraUsers; i++ {
		u := graphfake.User{ID: gUser(i), DisplayName: fmt.Sprintf("Graph User %03d", i), UserPrincipalName: fmt.Sprintf("user%03d@graph.test", i), UsageLocation: "US"}
		switch i {
		case 1:
			u.SKUs = []uuid.UUID{gSkuE3}
		case 2:
			u.SKUs = []uuid.UUID{gSkuEO1}
		case 4:
			u.UsageLocation = ""
		}
		a.Users = append(a.Users, u)
	}
	b := graphfake.Tenant{ID: gTenant2, ClientID: gClientID, ClientSecret: gSecret,
		SKUs:  []graphfake.SKU{{ID: gSkuPBI, PartNumber: "POWER_BI_PRO", Enabled: 2}},
		Users: []graphfake.User{{ID: gUser(900), DisplayName: "No Location", UserPrincipalName: "nolocation@graph2.test"}}}
	return a, b
}

func graphSnapshot(t *testing.T) licensing.Snapshot {
	s, err := demo.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	ten := &s.Tenants[0]
	ten.ProviderInstances = append(ten.ProviderInstances,
		licensing.SnapshotProviderInstance{ID: gInstance.String(), Name: "Graph", Provider: "microsoft", Directory: licensing.DirectoryGraph,
			Graph: &licensing.SnapshotGraph{ClientID: gClientID, ClientSecretEnv: gSecretEnv}},
		licensing.SnapshotProviderInstance{ID: gInstance2.String(), Name: "Graph with a default usage location", Provider: "microsoft",
			Directory: licensing.DirectoryGraph, Graph: &licensing.SnapshotGraph{ClientID: gClientID, ClientSecretEnv: gSecretEnv, DefaultUsageLocation: "US"}})
	ten.Customers = append(ten.Customers,
		licensing.SnapshotCustomer{ID: gCustomer.String(), Name: "Graph Customer",
			ProviderCustomers: []licensing.SnapshotProviderCustomer{{ProviderInstanceID: gInstance.String(), MicrosoftTenantID: gTenant.String()}}},
		licensing.SnapshotCustomer{ID: gCustomer2.String(), Name: "Graph Customer Two",
			ProviderCustomers: []licensing.SnapshotProviderCustomer{{ProviderInstanceID: gInstance2.String(), MicrosoftTenantID: gTenant2.String()}}})
	return s
}

// startGraph runs licensesd on db (a fresh SQLite file when empty) with
// the fake Graph, seeded and synced once.
func startGraph(t *testing.T, db string, fake *graphfake.Server) *graphEnv {
	t.Helper()
	t.Setenv(gSecretEnv, gSecret)
	if fake == nil {
		a, b := graphTenants()
		fake = graphfake.Start(a, b)
		t.Cleanup(fake.Close)
	}
	if db == "" {
		db = "sqlite:" + filepath.Join(t.TempDir(), "graph.db")
	}
	cfg := daemon.Config{Addr: "127.0.0.1:0", DatabaseURL: db, JWTSecret: secret,
		Graph: daemon.GraphConfig{URL: fake.GraphURL(), LoginURL: fake.LoginURL(), Timeout: 10 * time.Second, SyncInterval: -1}}
	if err := daemon.Seed(context.Background(), cfg, graphSnapshot(t)); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	res, err := daemon.Sync(context.Background(), cfg)
	if err != nil || res.Err() != nil {
		t.Fatalf("sync: %v %v", err, res.Err())
	}
	if res.Customers != 2 || res.Users != 4+gExtraUsers+1 {
		t.Fatalf("sync: %d customers, %d users; want 2 and %d", res.Customers, res.Users, 4+gExtraUsers+1)
	}
	return &graphEnv{env: startWith(t, cfg), fake: fake}
}

func (g *graphEnv) patchAs(t *testing.T, customer, user, instance uuid.UUID, corr uuid.UUID, items ...gen.CustomerUserLicense) *gen.UpdateCustomerUserLicensesResponse {
	t.Helper()
	return g.patch(t, customer, user, body(instance, items...), append(csp(t), withCorrelation(corr.String()))...)
}

func (g *graphEnv) checkBoxes(t *testing.T, customer, user, instance uuid.UUID) map[uuid.UUID]gen.CustomerUserLicense {
	t.Helper()
	res, err := g.client.GetCustomerUserLicensesWithResponse(context.Background(), customer, user,
		&gen.GetCustomerUserLicensesParams{ProviderInstanceId: instance}, csp(t)...)
	if err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("GET user licenses: %v %d %s", err, res.StatusCode(), res.Body)
	}
	out := map[uuid.UUID]gen.CustomerUserLicense{}
	for _, l := range *res.JSON200 {
		out[l.SkuId] = l
	}
	return out
}

func (g *graphEnv) users(t *testing.T, customer, instance uuid.UUID, search string) gen.CustomerUsersPage {
	t.Helper()
	p := &gen.GetCustomerUsersParams{ProviderInstanceId: instance}
	if search != "" {
		p.Search = &search
	}
	res, err := g.client.GetCustomerUsersWithResponse(context.Background(), customer, p, csp(t)...)
	if err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("GET users: %v %d %s", err, res.StatusCode(), res.Body)
	}
	return *res.JSON200
}

func held(t *testing.T, fake *graphfake.Server, tenant, user uuid.UUID) []uuid.UUID {
	t.Helper()
	skus, ok := fake.UserSKUs(tenant, user)
	if !ok {
		t.Fatalf("Graph has no user %s", user)
	}
	slices.SortFunc(skus, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return skus
}

func TestGraph_readsComeFromGraphAndTheMirror(t *testing.T) {
	g := startGraph(t, "", nil)

	page := g.users(t, gCustomer, gInstance, "")
	if page.TotalCount != 4+gExtraUsers {
		t.Fatalf("users list totalCount %d, want the %d users of the Entra directory", page.TotalCount, 4+gExtraUsers)
	}
	if found := g.users(t, gCustomer, gInstance, "user004@"); found.TotalCount != 1 || found.Items[0].Id != gUser(4) {
		t.Fatalf("search user004@: %+v", found)
	}

	boxes := g.checkBoxes(t, gCustomer, gUser(1), gInstance)
	if _, listed := boxes[gSkuOrg]; listed {
		t.Error("a SKU that applies to the Company is listed as a user license")
	}
	e3 := boxes[gSkuE3]
	// total = enabled 3 + suspended 1; consumed 1; available = 3 − 1.
	if !e3.IsSelected || e3.TotalLicenses == nil || *e3.TotalLicenses != 4 || *e3.SuspendedLicenses != 1 || *e3.ConsumedLicenses != 1 || *e3.AvailableLicenses != 2 {
		t.Fatalf("E3 = %+v, want held, total 4, suspended 1, consumed 1, available 2", show(e3))
	}
	if e3.Name == nil || *e3.Name != "Microsoft 365 E3" {
		t.Errorf("E3's name = %v, want the product's friendly name", show(e3.Name))
	}
	if pbi := boxes[gSkuPBI]; *pbi.TotalLicenses != 5 || *pbi.AvailableLicenses != 5 {
		t.Errorf("Power BI Pro = %+v, want total 5 (enabled 4 + warning 1), available 5", show(pbi))
	}

	// Another admin changes the user in Microsoft 365: the dialog shows it
	// at once (the user's licenses are read at request time).
	g.fake.SetUserSKUs(gTenant, gUser(3), []uuid.UUID{gSkuPBI})
	if !g.checkBoxes(t, gCustomer, gUser(3), gInstance)[gSkuPBI].IsSelected {
		t.Error("a license assigned in Microsoft 365 since the sync is not shown")
	}

	// A user created since the last sync is found in Graph, then listed.
	g.fake.AddUser(gTenant, graphfake.User{ID: gUser(500), DisplayName: "Newcomer", UserPrincipalName: "newcomer@graph.test", UsageLocation: "US"})
	g.checkBoxes(t, gCustomer, gUser(500), gInstance)
	if g.users(t, gCustomer, gInstance, "newcomer").TotalCount != 1 {
		t.Error("the user found in Graph was not mirrored")
	}

	t.Run("404s", func(t *testing.T) {
		res, err := g.client.GetCustomerUserLicensesWithResponse(context.Background(), gCustomer, uuid.New(),
			&gen.GetCustomerUserLicensesParams{ProviderInstanceId: gInstance}, csp(t)...)
		if err != nil || res.StatusCode() != http.StatusNotFound {
			t.Fatalf("unknown user: %v %d %s", err, res.StatusCode(), res.Body)
		}
		wantProperties(t, problem(t, 404, res.Body, res.HTTPResponse.Header), "customerUserId")
		// Fabrikam has no Microsoft tenant under the graph instance.
		res2, err := g.client.GetCustomerUsersWithResponse(context.Background(), fabrikam,
			&gen.GetCustomerUsersParams{ProviderInstanceId: gInstance}, csp(t)...)
		if err != nil || res2.StatusCode() != http.StatusNotFound {
			t.Fatalf("unlinked customer: %v %d %s", err, res2.StatusCode(), res2.Body)
		}
		wantProperties(t, problem(t, 404, res2.Body, res2.HTTPResponse.Header), "providerInstanceId")
	})
}

func TestGraph_patchIsOneAssignLicenseAuditedProcessingThenSucceded(t *testing.T) {
	g := startGraph(t, "", nil)
	corr := uuid.New()
	before := len(g.fake.AssignBodies())
	res := g.patchAs(t, gCustomer, gUser(1), gInstance, corr, item(gSkuE3, false), item(gSkuPBI, true), item(gSkuEO2, false))
	if res.StatusCode() != http.StatusOK {
		t.Fatalf("PATCH = %d %s", res.StatusCode(), res.Body)
	}
	if got := held(t, g.fake, gTenant, gUser(1)); !slices.Equal(got, []uuid.UUID{gSkuPBI}) {
		t.Fatalf("Graph holds %v for the user, want only Power BI Pro", got)
	}
	bodies := g.fake.AssignBodies()[before:]
	want := fmt.Sprintf(`{"addLicenses":[{"skuId":"%s","disabledPlans":[]}],"removeLicenses":["%s"]}`, gSkuPBI, gSkuE3)
	if len(bodies) != 1 || bodies[0] != want {
		t.Fatalf("assignLicense calls %v, want exactly one: %s (an item that changes nothing is not sent)", bodies, want)
	}
	if !slices.Contains(g.fake.ClientRequestIDs(), corr.String()) {
		t.Error("no Graph call carried the correlation id as client-request-id")
	}
	records := g.auditFor(t, corr)
	if len(records) != 2 {
		t.Fatalf("%d audit records, want one per change: %+v", len(records), show(records))
	}
	for _, r := range records {
		if r.Status != gen.Succeded || r.CustomerName != "Graph Customer" {
			t.Errorf("record %+v: want Succeded for Graph Customer", show(r))
		}
	}
	// The mirror follows: the customer's counts and the user's boxes.
	if b := g.checkBoxes(t, gCustomer, gUser(1), gInstance); b[gSkuE3].IsSelected || !b[gSkuPBI].IsSelected {
		t.Errorf("after the PATCH the boxes are %+v", show(b))
	}

	t.Run("nothing to change: no call, no record", func(t *testing.T) {
		corr := uuid.New()
		n := len(g.fake.AssignBodies())
		if res := g.patchAs(t, gCustomer, gUser(1), gInstance, corr, item(gSkuPBI, true), item(gSkuE3, false)); res.StatusCode() != http.StatusOK {
			t.Fatalf("no-op PATCH = %d %s", res.StatusCode(), res.Body)
		}
		if len(g.fake.AssignBodies()) != n {
			t.Error("a PATCH that changes nothing called assignLicense")
		}
		if r := g.auditFor(t, corr); len(r) != 0 {
			t.Errorf("a PATCH that changes nothing left records: %+v", show(r))
		}
	})
}

func TestGraph_refusals(t *testing.T) {
	g := startGraph(t, "", nil)

	t.Run("no free seat: decided on Graph's counts, no call", func(t *testing.T) {
		corr, n := uuid.New(), len(g.fake.AssignBodies())
		res := g.patchAs(t, gCustomer, gUser(3), gInstance, corr, item(gSkuPBI, true), item(gSkuEO1, true))
		if res.StatusCode() != http.StatusBadRequest {
			t.Fatalf("PATCH = %d %s, want 400", res.StatusCode(), res.Body)
		}
		wantProperties(t, problem(t, 400, res.Body, res.HTTPResponse.Header), "customerUserLicenses[1].skuId")
		if len(g.fake.AssignBodies()) != n {
			t.Error("a refused update reached assignLicense")
		}
		if r := g.auditFor(t, corr); len(r) != 2 || r[0].Status != gen.Failed {
			t.Errorf("records %+v, want one Failed per item", show(r))
		}
	})

	t.Run("another admin takes the last seat in between: Graph refuses, our answer names the SKU", func(t *testing.T) {
		// E3 has 3 usable seats, user 1 holds one: two more users take the
		// other two just before our call reaches Graph.
		g.fake.OnAssign(func() {
			g.fake.SetUserSKUs(gTenant, gUser(5), []uuid.UUID{gSkuE3})
			g.fake.SetUserSKUs(gTenant, gUser(6), []uuid.UUID{gSkuE3})
		})
		defer g.fake.OnAssign(nil)
		corr := uuid.New()
		res := g.patchAs(t, gCustomer, gUser(3), gInstance, corr, item(gSkuE3, true))
		if res.StatusCode() != http.StatusBadRequest {
			t.Fatalf("PATCH = %d %s, want 400", res.StatusCode(), res.Body)
		}
		b := problem(t, 400, res.Body, res.HTTPResponse.Header)
		wantProperties(t, b, "customerUserLicenses[0].skuId")
		if !strings.Contains(string(res.Body), "Not enough available licenses") {
			t.Errorf("body %s, want the seat shortage", res.Body)
		}
		records := g.auditFor(t, corr)
		if len(records) != 1 || records[0].Status != gen.Failed || records[0].Reason == nil {
			t.Fatalf("records %+v, want the one Processing record moved to Failed with the reason (and no second one)", show(records))
		}
		if slices.Contains(held(t, g.fake, gTenant, gUser(3)), gSkuE3) {
			t.Error("the user got E3")
		}
	})

	t.Run("no usage location: 400 on customerUserId saying how to fix it", func(t *testing.T) {
		n := len(g.fake.AssignBodies())
		res := g.patchAs(t, gCustomer, gUser(4), gInstance, uuid.New(), item(gSkuPBI, true))
		if res.StatusCode() != http.StatusBadRequest {
			t.Fatalf("PATCH = %d %s", res.StatusCode(), res.Body)
		}
		wantProperties(t, problem(t, 400, res.Body, res.HTTPResponse.Header), "customerUserId")
		if !strings.Contains(string(res.Body), "usage location") || len(g.fake.AssignBodies()) != n {
			t.Errorf("body %s (calls %d→%d)", res.Body, n, len(g.fake.AssignBodies()))
		}
	})

	t.Run("with defaultUsageLocation the location is set and the update applied", func(t *testing.T) {
		corr := uuid.New()
		res := g.patchAs(t, gCustomer2, gUser(900), gInstance2, corr, item(gSkuPBI, true))
		if res.StatusCode() != http.StatusOK {
			t.Fatalf("PATCH = %d %s", res.StatusCode(), res.Body)
		}
		if loc := g.fake.UsageLocation(gTenant2, gUser(900)); loc != "US" {
			t.Errorf("usage location %q, want US", loc)
		}
		r := g.auditFor(t, corr)
		if len(r) != 1 || r[0].Status != gen.Succeded || r[0].Reason == nil || !strings.Contains(*r[0].Reason, "usage location") {
			t.Errorf("records %+v, want Succeded saying the usage location was set", show(r))
		}
	})

	t.Run("conflicting service plans: 400 naming the SKU with Graph's message", func(t *testing.T) {
		corr := uuid.New()
		res := g.patchAs(t, gCustomer, gUser(2), gInstance, corr, item(gSkuEO2, true))
		if res.StatusCode() != http.StatusBadRequest {
			t.Fatalf("PATCH = %d %s", res.StatusCode(), res.Body)
		}
		wantProperties(t, problem(t, 400, res.Body, res.HTTPResponse.Header), "customerUserLicenses[0].skuId")
		if !strings.Contains(string(res.Body), "Conflicting service plans") {
			t.Errorf("body %s, want Graph's message", res.Body)
		}
		if r := g.auditFor(t, corr); len(r) != 1 || r[0].Status != gen.Failed || !strings.Contains(*r[0].Reason, "Request_BadRequest") {
			t.Errorf("records %+v, want Failed with Graph's code", show(r))
		}
	})

	t.Run("throttled once: retried after Retry-After", func(t *testing.T) {
		g.fake.Inject(graphfake.Fault{Op: "assignLicense", Status: 429, Code: "TooManyRequests", RetryAfter: 1})
		if res := g.patchAs(t, gCustomer, gUser(7), gInstance, uuid.New(), item(gSkuPBI, true)); res.StatusCode() != http.StatusOK {
			t.Fatalf("PATCH = %d %s, want 200 after one retry", res.StatusCode(), res.Body)
		}
	})

	t.Run("throttled beyond the budget: 503 with Graph's Retry-After, nothing changed", func(t *testing.T) {
		g.fake.Inject(graphfake.Fault{Op: "subscribedSkus", Status: 429, Code: "TooManyRequests", RetryAfter: 60, Times: 10})
		defer g.fake.ClearFaults()
		res := g.patchAs(t, gCustomer, gUser(8), gInstance, uuid.New(), item(gSkuPBI, true))
		if res.StatusCode() != http.StatusServiceUnavailable || res.HTTPResponse.Header.Get("Retry-After") != "60" {
			t.Fatalf("PATCH = %d Retry-After %q %s, want 503 with Retry-After 60", res.StatusCode(), res.HTTPResponse.Header.Get("Retry-After"), res.Body)
		}
		problem(t, 503, res.Body, res.HTTPResponse.Header)
		if slices.Contains(held(t, g.fake, gTenant, gUser(8)), gSkuPBI) {
			t.Error("the throttled update was applied")
		}
	})

	t.Run("the app's secret is refused: 502 an operator can act on, no secret in it", func(t *testing.T) {
		t.Setenv(gSecretEnv, "a-wrong-secret-value")
		res := g.patchAs(t, gCustomer, gUser(9), gInstance, uuid.New(), item(gSkuPBI, true))
		if res.StatusCode() != http.StatusBadGateway {
			t.Fatalf("PATCH = %d %s, want 502", res.StatusCode(), res.Body)
		}
		problem(t, 502, res.Body, res.HTTPResponse.Header)
		if strings.Contains(string(res.Body), "a-wrong-secret") || strings.Contains(string(res.Body), gSecret) || !strings.Contains(string(res.Body), "invalid_client") {
			t.Errorf("body %s: want invalid_client and no secret", res.Body)
		}
	})

	t.Run("an unknown user in Graph is a 404", func(t *testing.T) {
		g.fake.DeleteUser(gTenant, gUser(10)) // still in the mirror
		res := g.patchAs(t, gCustomer, gUser(10), gInstance, uuid.New(), item(gSkuPBI, true))
		if res.StatusCode() != http.StatusNotFound {
			t.Fatalf("PATCH = %d %s, want 404", res.StatusCode(), res.Body)
		}
		wantProperties(t, problem(t, 404, res.Body, res.HTTPResponse.Header), "customerUserId")
	})
}

func TestGraph_syncFollowsTheDirectoryAndResolvesOrphans(t *testing.T) {
	g := startGraph(t, "", nil)
	ctx := context.Background()
	g.fake.DeleteUser(gTenant, gUser(11))
	g.fake.AddUser(gTenant, graphfake.User{ID: gUser(600), DisplayName: "Arrived Later", UserPrincipalName: "later@graph.test", UsageLocation: "US"})
	g.fake.SetUserSKUs(gTenant, gUser(12), []uuid.UUID{gSkuE3})

	// Records a crash left Processing an hour ago: one change Graph holds,
	// one it does not.
	old := time.Now().Add(-time.Hour)
	applied, lost := uuid.New(), uuid.New()
	store := g.main.Store
	corr := uuid.New()
	rec := func(id, user, sku uuid.UUID) licensing.AuditRecord {
		return licensing.AuditRecord{ID: id, CreatedAt: old, Tenant: tenant, Actor: "crashed", CorrelationID: corr, Operation: licensing.OperationAssign,
			Status: licensing.StatusProcessing, CustomerID: gCustomer, CustomerName: "Graph Customer", UserID: user, ProviderInstanceID: gInstance, SKUID: sku}
	}
	if err := store.RecordAudit(ctx, []licensing.AuditRecord{rec(applied, gUser(12), gSkuE3), rec(lost, gUser(13), gSkuE3)}); err != nil {
		t.Fatal(err)
	}

	res, err := daemon.Sync(ctx, g.cfg)
	if err != nil || res.Err() != nil {
		t.Fatalf("sync: %v %v", err, res.Err())
	}
	if res.Users > 10 {
		t.Errorf("the second pass saw %d users: want the delta only", res.Users)
	}
	if g.users(t, gCustomer, gInstance, "later@").TotalCount != 1 || g.users(t, gCustomer, gInstance, "user011@").TotalCount != 0 {
		t.Error("the delta did not add the new user or remove the deleted one")
	}
	byID := map[uuid.UUID]gen.AuditLog{}
	for _, r := range g.auditFor(t, corr) {
		byID[r.Id] = r
	}
	if byID[applied].Status != gen.Succeded || byID[lost].Status != gen.Failed {
		t.Errorf("orphans resolved as %s and %s, want Succeded (Graph holds it) and Failed", byID[applied].Status, byID[lost].Status)
	}

	// An expired delta link: a full pass, which also prunes.
	g.fake.ExpireDeltaLinks(gTenant)
	g.fake.DeleteUser(gTenant, gUser(14))
	res, err = daemon.Sync(ctx, g.cfg)
	if err != nil || res.Err() != nil || res.Users < 4+gExtraUsers-1 {
		t.Fatalf("sync after expiry: %+v %v %v (want a full pass)", res, err, res.Err())
	}
	if g.users(t, gCustomer, gInstance, "user014@").TotalCount != 0 {
		t.Error("the full pass kept a user that left the directory")
	}

	// A customer that cannot sync is named; the others still sync.
	g.fake.Inject(graphfake.Fault{Op: "token", Status: 401, Code: "unauthorized_client", Times: 1})
	res, err = daemon.Sync(ctx, g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil || len(res.Failed) != 1 || !strings.Contains(res.Err().Error(), "consented") {
		t.Errorf("sync with one refused sign-in: %v, want one failure naming the customer and the consent", res.Err())
	}
}

// TestGraph_twoReplicasRaceForTheLastSeat: two licensesd processes on one
// PostgreSQL database and one Graph tenant assign the last Exchange Online
// (Plan 1) seat to two users at once. Graph is the authority: exactly one
// gets it, the other's answer is the 400 naming that SKU, and Graph is
// never over-assigned.
func TestGraph_twoReplicasRaceForTheLastSeat(t *testing.T) {
	pgtest.BaseURL(t) // skips, saying why, when no PostgreSQL is configured
	db := pgtest.URL(t)
	a, b := graphTenants()
	fake := graphfake.Start(a, b)
	t.Cleanup(fake.Close)
	one := startGraph(t, db, fake)
	// The second replica on the same database (already seeded and synced).
	cfg := one.cfg
	two := &graphEnv{env: startWith(t, cfg), fake: fake}
	// Free the only seat, then race for it.
	fake.SetUserSKUs(gTenant, gUser(2), nil)
	for round := range 5 {
		u1, u2 := gUser(20+2*round), gUser(21+2*round)
		codes := make(chan int, 2)
		for _, r := range []struct {
			g    *graphEnv
			user uuid.UUID
		}{{one, u1}, {two, u2}} {
			go func() {
				res, err := r.g.client.UpdateCustomerUserLicensesWithResponse(context.Background(), gCustomer, r.user,
					&gen.UpdateCustomerUserLicensesParams{}, body(gInstance, item(gSkuEO1, true)), csp(t)...)
				if err != nil {
					codes <- 0
					return
				}
				if res.StatusCode() == http.StatusBadRequest && !strings.Contains(string(res.Body), "customerUserLicenses[0].skuId") {
					codes <- -1
					return
				}
				codes <- res.StatusCode()
			}()
		}
		got := []int{<-codes, <-codes}
		slices.Sort(got)
		if !slices.Equal(got, []int{200, 400}) {
			t.Fatalf("round %d: answers %v, want one 200 and one 400 naming customerUserLicenses[0].skuId", round, got)
		}
		holders := 0
		for _, u := range []uuid.UUID{u1, u2} {
			if slices.Contains(held(t, fake, gTenant, u), gSkuEO1) {
				holders++
			}
		}
		if holders != 1 {
			t.Fatalf("round %d: %d users hold the single seat", round, holders)
		}
		// Give the seat back for the next round.
		for _, u := range []uuid.UUID{u1, u2} {
			fake.SetUserSKUs(gTenant, u, nil)
		}
	}
}
