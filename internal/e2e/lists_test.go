package e2e

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

func customerIDs(items []gen.Customer) []uuid.UUID {
	var out []uuid.UUID
	for _, c := range items {
		out = append(out, c.Id)
	}
	return out
}

func TestCustomers_listScopedSearchedSortedAndPaged(t *testing.T) {
	e := start(t)
	n := func(i int32) *int32 { return &i }
	f, tr := false, true
	s := func(v string) *string { return &v }
	tests := []struct {
		name      string
		editors   []gen.RequestEditorFn
		params    gen.GetCustomersParams
		want      []uuid.UUID
		wantTotal int32
		wantNext  bool
	}{
		{"cspSeesTheWholeTenantByName", csp(t), gen.GetCustomersParams{}, []uuid.UUID{fabrikam, northwind, tailspin}, 3, false},
		{"descending", csp(t), gen.GetCustomersParams{AscendingOrder: &f}, []uuid.UUID{tailspin, northwind, fabrikam}, 3, false},
		{"ascendingExplicitly", csp(t), gen.GetCustomersParams{AscendingOrder: &tr}, []uuid.UUID{fabrikam, northwind, tailspin}, 3, false},
		{"firstPage", csp(t), gen.GetCustomersParams{PageSize: n(2)}, []uuid.UUID{fabrikam, northwind}, 3, true},
		{"secondPage", csp(t), gen.GetCustomersParams{PageSize: n(2), PageNumber: n(2)}, []uuid.UUID{tailspin}, 3, false},
		{"searchByCompanyName", csp(t), gen.GetCustomersParams{SearchValue: s("TOYS")}, []uuid.UUID{tailspin}, 1, false},
		{"searchFieldCompanyName", csp(t), gen.GetCustomersParams{SearchValue: s("north"), SearchField: ptr(gen.GetCustomersParamsSearchFieldCompanyName)}, []uuid.UUID{northwind}, 1, false},
		{"resellerIdFilter", csp(t), gen.GetCustomersParams{ResellerId: &litware}, []uuid.UUID{tailspin}, 1, false},
		{"resellerSeesOnlyItsOwn", []gen.RequestEditorFn{withTenant(tenant), withToken(resellerToken(t, adatum))}, gen.GetCustomersParams{}, []uuid.UUID{northwind}, 1, false},
		{"resellerAskingForAnotherResellerSeesNone", []gen.RequestEditorFn{withTenant(tenant), withToken(resellerToken(t, adatum))}, gen.GetCustomersParams{ResellerId: &litware}, nil, 0, false},
		{"includeDeletedChangesNothing", csp(t), gen.GetCustomersParams{IncludeDeleted: &f}, []uuid.UUID{fabrikam, northwind, tailspin}, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.client.GetCustomersWithResponse(context.Background(), &tt.params, tt.editors...)
			if err != nil || res.StatusCode() != http.StatusOK {
				t.Fatalf("GET /v1/Customers: %v %d %s", err, res.StatusCode(), res.Body)
			}
			p := res.JSON200
			if got := customerIDs(p.Items); !reflect.DeepEqual(got, tt.want) || p.TotalCount != tt.wantTotal || p.HasNextPage != tt.wantNext {
				t.Errorf("got %v total %d next %v, want %v total %d next %v", got, p.TotalCount, p.HasNextPage, tt.want, tt.wantTotal, tt.wantNext)
			}
		})
	}
	t.Run("itemsCarryTheReseller", func(t *testing.T) {
		res, err := e.client.GetCustomersWithResponse(context.Background(), &gen.GetCustomersParams{SearchValue: s("Northwind")}, csp(t)...)
		if err != nil || res.StatusCode() != http.StatusOK || len(res.JSON200.Items) != 1 {
			t.Fatalf("%v %d %s", err, res.StatusCode(), res.Body)
		}
		c := res.JSON200.Items[0]
		if *c.CompanyName != "Northwind Traders" || c.ResellerId == nil || *c.ResellerId != adatum || c.ResellerName == nil || *c.ResellerName != "Adatum Reseller" {
			t.Errorf("item = %+v", c)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestCustomers_badParametersAre400NamingThem(t *testing.T) {
	e := start(t)
	tests := []struct {
		name, query, property string
	}{
		{"pageSizeTooLarge", "pageSize=2001", "pageSize"},
		{"pageNumberZero", "pageNumber=0", "pageNumber"},
		{"searchFieldWeDoNotHold", "searchValue=x&searchField=Domain", "searchField"},
		{"sortPropertyUnknown", "sortPropertyName=Id", "sortPropertyName"},
		{"searchValueTooLong", "searchValue=" + longString(256), "searchValue"},
		{"resellerIdNotAUUID", "resellerId=nope", "resellerId"},
		{"ascendingOrderNotABoolean", "ascendingOrder=sometimes", "ascendingOrder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(invalid(), http.MethodGet, e.url+"/v1/Customers?"+tt.query, nil)
			req.Header.Set("X-Tenant", tenant)
			req.Header.Set("Authorization", "Bearer "+cspToken(t))
			res, err := e.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw := readAll(t, res)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d: %s", res.StatusCode, raw)
			}
			wantProperties(t, problem(t, 400, raw, res.Header), tt.property)
		})
	}
}

func longString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestCustomer_getOneScoped(t *testing.T) {
	e := start(t)
	reseller := []gen.RequestEditorFn{withTenant(tenant), withToken(resellerToken(t, adatum))}
	tests := []struct {
		name     string
		id       uuid.UUID
		params   gen.GetCustomerParams
		editors  []gen.RequestEditorFn
		want     int
		wantName string
	}{
		{"csp", fabrikam, gen.GetCustomerParams{}, csp(t), 200, "Fabrikam"},
		{"resellerOwnCustomer", northwind, gen.GetCustomerParams{}, reseller, 200, "Northwind Traders"},
		{"resellerOtherCustomerIs404", tailspin, gen.GetCustomerParams{}, reseller, 404, ""},
		{"resellerDirectCustomerIs404", fabrikam, gen.GetCustomerParams{}, reseller, 404, ""},
		{"otherTenantsCustomerIs404", woodgrove, gen.GetCustomerParams{}, csp(t), 404, ""},
		{"unknownIs404", uuid.New(), gen.GetCustomerParams{}, csp(t), 404, ""},
		{"resellerIdMatching", northwind, gen.GetCustomerParams{ResellerId: &adatum}, csp(t), 200, "Northwind Traders"},
		{"resellerIdNotMatchingIs404", northwind, gen.GetCustomerParams{ResellerId: &litware}, csp(t), 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.client.GetCustomerWithResponse(context.Background(), tt.id, &tt.params, tt.editors...)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode() != tt.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode(), tt.want, res.Body)
			}
			if tt.want == 200 {
				if res.JSON200.Id != tt.id || *res.JSON200.CompanyName != tt.wantName {
					t.Errorf("customer = %+v", res.JSON200)
				}
				return
			}
			wantProperties(t, problem(t, 404, res.Body, res.HTTPResponse.Header), "customerId")
		})
	}
}

func TestProviderInstances_listSortedByProviderAndPaged(t *testing.T) {
	e := start(t)
	res, err := e.client.GetProviderInstancesWithResponse(context.Background(), &gen.GetProviderInstancesParams{}, csp(t)...)
	if err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("%v %d %s", err, res.StatusCode(), res.Body)
	}
	want := []gen.ProviderInstance{
		{Id: awsInstance, Alias: ptr("Contoso AWS"), Provider: gen.Provider{Name: "aws"}},
		{Id: msInstance, Alias: ptr("Contoso CSP"), Provider: gen.Provider{Name: "microsoft"}},
	}
	if !reflect.DeepEqual(res.JSON200.Items, want) || res.JSON200.TotalCount != 2 {
		t.Errorf("instances = %+v total %d, want %+v", res.JSON200.Items, res.JSON200.TotalCount, want)
	}
	one := int32(1)
	two := int32(2)
	res, err = e.client.GetProviderInstancesWithResponse(context.Background(), &gen.GetProviderInstancesParams{PageSize: &one, PageNumber: &two},
		withTenant(tenant), withToken(resellerToken(t, adatum)))
	if err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("%v %d %s", err, res.StatusCode(), res.Body)
	}
	if p := res.JSON200; len(p.Items) != 1 || p.Items[0].Id != msInstance || !p.HasPreviousPage || p.HasNextPage || p.TotalPages != 2 {
		t.Errorf("page 2 of 1 = %+v", p)
	}
	res, err = e.client.GetProviderInstancesWithResponse(context.Background(), &gen.GetProviderInstancesParams{},
		withTenant("portal.woodgrove.test"), withToken(token(t, authClaims("portal.woodgrove.test"))))
	if err != nil || res.StatusCode() != http.StatusOK || len(res.JSON200.Items) != 1 || res.JSON200.Items[0].Alias == nil || *res.JSON200.Items[0].Alias != "Woodgrove CSP" {
		t.Fatalf("other tenant: %v %d %s", err, res.StatusCode(), res.Body)
	}
}

func TestLists_needAToken(t *testing.T) {
	e := start(t)
	for _, path := range []string{"/v1/Customers", "/v1/Customers/" + fabrikam.String(), "/v1/Providers/Instances"} {
		req, _ := http.NewRequestWithContext(invalid(), http.MethodGet, e.url+path, nil)
		req.Header.Set("X-Tenant", tenant)
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw := readAll(t, res)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d %s", path, res.StatusCode, raw)
		}
	}
}

func readAll(t *testing.T, res *http.Response) []byte {
	t.Helper()
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
