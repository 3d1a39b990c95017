package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

func TestCustomerLicenses_countsAndOrder(t *testing.T) {
	e := start(t)
	ls := e.seats(t, fabrikam)
	if len(ls) != fabrikamSKUs {
		t.Fatalf("%d licenses, want %d", len(ls), fabrikamSKUs)
	}
	want := map[uuid.UUID][4]int32{ // total, suspended, consumed, available
		skuE3: {10, 1, 6, 3}, skuEO1: {5, 0, 5, 0}, skuTeams: {3, 0, 1, 2}, skuPowerBI: {2, 2, 0, 0},
	}
	for i, l := range ls {
		if i > 0 && *ls[i-1].Name > *l.Name {
			t.Errorf("not sorted by name: %q before %q", *ls[i-1].Name, *l.Name)
		}
		got := [4]int32{*l.TotalLicenses, *l.SuspendedLicenses, *l.ConsumedLicenses, *l.AvailableLicenses}
		if got != want[l.SkuId] || l.IsSelected {
			t.Errorf("%s: %v selected=%v, want %v", *l.Name, got, l.IsSelected, want[l.SkuId])
		}
	}
	t.Run("a resellerId the customer does not match is 404", func(t *testing.T) {
		res, _ := e.client.GetCustomerLicensesWithResponse(context.Background(), northwind,
			&gen.GetCustomerLicensesParams{ProviderInstanceId: msInstance, ResellerId: &litware}, csp(t)...)
		if res.StatusCode() != 404 {
			t.Fatalf("status %d", res.StatusCode())
		}
		res, _ = e.client.GetCustomerLicensesWithResponse(context.Background(), northwind,
			&gen.GetCustomerLicensesParams{ProviderInstanceId: msInstance, ResellerId: &adatum}, csp(t)...)
		if res.StatusCode() != 200 || len(*res.JSON200) != 2 {
			t.Fatalf("status %d %s", res.StatusCode(), res.Body)
		}
	})
}

func TestUsers_paging(t *testing.T) {
	e := start(t)
	pageIn := func(t *testing.T, ctx context.Context, p gen.GetCustomerUsersParams) *gen.GetCustomerUsersResponse {
		t.Helper()
		p.ProviderInstanceId = msInstance
		res, err := e.client.GetCustomerUsersWithResponse(ctx, fabrikam, &p, csp(t)...)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	page := func(t *testing.T, p gen.GetCustomerUsersParams) *gen.GetCustomerUsersResponse {
		return pageIn(t, context.Background(), p)
	}
	n := func(i int32) *int32 { return &i }
	t.Run("the default page is 25", func(t *testing.T) {
		res := page(t, gen.GetCustomerUsersParams{})
		b := res.JSON200
		if b == nil || len(b.Items) != 25 || b.TotalCount != 30 || b.TotalPages != 2 || !b.HasNextPage || b.HasPreviousPage ||
			b.PaginationParameters.PageNumber != 1 || b.PaginationParameters.PageSize != 25 {
			t.Fatalf("%d %s", res.StatusCode(), res.Body)
		}
		for i := 1; i < len(b.Items); i++ {
			if b.Items[i-1].DisplayName > b.Items[i].DisplayName {
				t.Fatalf("not sorted by display name at %d", i)
			}
		}
	})
	t.Run("the last page", func(t *testing.T) {
		b := page(t, gen.GetCustomerUsersParams{PageNumber: n(3), PageSize: n(12)}).JSON200
		if len(b.Items) != 6 || b.HasNextPage || !b.HasPreviousPage || b.TotalPages != 3 {
			t.Fatalf("%+v", b)
		}
	})
	t.Run("search and sort", func(t *testing.T) {
		s, sort := "LOVE", gen.UserPrincipalName
		b := page(t, gen.GetCustomerUsersParams{Search: &s, Sort: &sort}).JSON200
		if len(b.Items) != 1 || b.Items[0].Id != ada {
			t.Fatalf("%+v", b.Items)
		}
	})
	for _, tt := range []struct {
		name string
		p    gen.GetCustomerUsersParams
		prop string
	}{
		{"pageSize 0", gen.GetCustomerUsersParams{PageSize: n(0)}, "pageSize"},
		{"pageSize 2001", gen.GetCustomerUsersParams{PageSize: n(2001)}, "pageSize"},
		{"pageNumber 0", gen.GetCustomerUsersParams{PageNumber: n(0)}, "pageNumber"},
	} {
		t.Run(tt.name+" is 400", func(t *testing.T) {
			res := pageIn(t, invalid(), tt.p) // out-of-range paging breaks the contract on purpose
			if res.StatusCode() != http.StatusBadRequest {
				t.Fatalf("status %d", res.StatusCode())
			}
			wantProperties(t, problem(t, 400, res.Body, res.HTTPResponse.Header), tt.prop)
		})
	}
}

func TestAuditLogs_filtersAndVisibility(t *testing.T) {
	e := start(t)
	corrA, corrN := uuid.New(), uuid.New()
	if res := e.patch(t, fabrikam, ada, body(msInstance, item(skuE3, true)), append(csp(t), withCorrelation(corrA.String()))...); res.StatusCode() != 200 {
		t.Fatal(res.StatusCode())
	}
	if res := e.patch(t, northwind, nancy, body(msInstance, item(skuE5, false), item(skuE3, true)), append(csp(t), withCorrelation(corrN.String()))...); res.StatusCode() != 200 {
		t.Fatal(res.StatusCode(), string(res.Body))
	}
	list := func(t *testing.T, p gen.GetAuditLogsParams, editors ...gen.RequestEditorFn) gen.AuditLogsPage {
		t.Helper()
		if editors == nil {
			editors = csp(t)
		}
		res, err := e.client.GetAuditLogsWithResponse(context.Background(), &p, editors...)
		if err != nil || res.StatusCode() != 200 {
			t.Fatalf("%v %d %s", err, res.StatusCode(), res.Body)
		}
		return *res.JSON200
	}
	all := list(t, gen.GetAuditLogsParams{})
	if all.TotalCount != 3 || all.Items[0].CorrelationId != corrN {
		t.Fatalf("want 3 records, newest first: %+v", all)
	}
	remove, customer, reseller := "RemoveUserLicense", "north", "ADATUM"
	future := time.Now().Add(time.Hour)
	for _, tt := range []struct {
		name string
		p    gen.GetAuditLogsParams
		want int32
	}{
		{"by correlation id", gen.GetAuditLogsParams{CorrelationId: &corrA}, 1},
		{"by customer id", gen.GetAuditLogsParams{CustomerId: &northwind}, 2},
		{"by operation", gen.GetAuditLogsParams{Operations: &remove}, 1},
		{"by customer name", gen.GetAuditLogsParams{Customer: &customer}, 2},
		{"by reseller name", gen.GetAuditLogsParams{Reseller: &reseller}, 2},
		{"by reseller id", gen.GetAuditLogsParams{ResellerId: &adatum}, 2},
		{"from a future start", gen.GetAuditLogsParams{StartDate: &future}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := list(t, tt.p).TotalCount; got != tt.want {
				t.Fatalf("%d records, want %d", got, tt.want)
			}
		})
	}
	t.Run("a reseller sees only its customers' records", func(t *testing.T) {
		b := list(t, gen.GetAuditLogsParams{}, withTenant(tenant), withToken(resellerToken(t, adatum)))
		if b.TotalCount != 2 {
			t.Fatalf("%d records", b.TotalCount)
		}
		for _, r := range b.Items {
			if r.CustomerId != northwind {
				t.Fatalf("foreign record %+v", r)
			}
		}
	})
	t.Run("another tenant sees nothing", func(t *testing.T) {
		tok := token(t, authClaims("portal.woodgrove.test"))
		if b := list(t, gen.GetAuditLogsParams{}, withTenant("portal.woodgrove.test"), withToken(tok)); b.TotalCount != 0 {
			t.Fatalf("%d records leaked", b.TotalCount)
		}
	})
}

func TestDataSurvivesARestart(t *testing.T) {
	e := start(t)
	if res := e.patch(t, fabrikam, ada, body(msInstance, item(skuE3, true))); res.StatusCode() != 200 {
		t.Fatal(res.StatusCode())
	}
	cfg := e.cfg
	e.stop()
	again := startWith(t, cfg)
	if !again.userLicenses(t, fabrikam, ada)[skuE3].IsSelected {
		t.Fatal("the assignment did not survive a restart")
	}
}

func TestHealth(t *testing.T) {
	e := start(t)
	if res, err := e.client.GetHealthWithResponse(context.Background()); err != nil || res.StatusCode() != 200 {
		t.Fatalf("healthz: %v", err)
	}
	if res, err := e.client.GetReadinessWithResponse(context.Background()); err != nil || res.StatusCode() != 200 {
		t.Fatalf("readyz: %v %d", err, res.StatusCode())
	}
}
