package e2e

import (
	"context"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

func TestPatch_assignsAndRemovesAndAudits(t *testing.T) {
	e := start(t)
	before := e.userLicenses(t, fabrikam, ada)
	if len(before) != fabrikamSKUs || before[skuE3].IsSelected {
		t.Fatalf("unexpected starting state: %+v", before)
	}
	corr := uuid.New()
	res := e.patch(t, fabrikam, ada, body(msInstance, item(skuE3, true), item(skuTeams, true)), append(csp(t), withCorrelation(corr.String()))...)
	if res.StatusCode() != http.StatusOK || len(res.Body) != 0 {
		t.Fatalf("PATCH = %d %s, want 200 without a body", res.StatusCode(), res.Body)
	}
	if got := res.HTTPResponse.Header.Get("X-Correlation-Id"); got != corr.String() {
		t.Errorf("X-Correlation-Id = %q, want the request's %s", got, corr)
	}
	after := e.userLicenses(t, fabrikam, ada)
	if !after[skuE3].IsSelected || !after[skuTeams].IsSelected {
		t.Fatalf("the SKUs were not assigned: %+v", after)
	}
	if *after[skuE3].ConsumedLicenses != *before[skuE3].ConsumedLicenses+1 ||
		*after[skuE3].AvailableLicenses != *before[skuE3].AvailableLicenses-1 {
		t.Errorf("E3 counts: before %+v after %+v", before[skuE3], after[skuE3])
	}
	audit := e.auditFor(t, corr)
	if len(audit) != 2 {
		t.Fatalf("want 2 audit records for the request, got %d", len(audit))
	}
	for _, r := range audit {
		if r.Operation != gen.AssignUserLicense || r.Actor != "alice@contoso.test" || r.CustomerId != fabrikam ||
			r.CustomerUserId != ada || r.ProviderInstanceId != msInstance || r.Status != gen.Succeded {
			t.Errorf("audit record %+v", r)
		}
	}

	t.Run("repeating the request changes nothing and answers 200", func(t *testing.T) {
		again := uuid.New()
		res := e.patch(t, fabrikam, ada, body(msInstance, item(skuE3, true), item(skuTeams, true)), append(csp(t), withCorrelation(again.String()))...)
		if res.StatusCode() != http.StatusOK {
			t.Fatalf("repeat = %d %s", res.StatusCode(), res.Body)
		}
		if !reflect.DeepEqual(e.userLicenses(t, fabrikam, ada), after) {
			t.Error("a repeated request changed the licenses")
		}
		if n := len(e.auditFor(t, again)); n != 0 {
			t.Errorf("a repeated request wrote %d audit records", n)
		}
	})
	t.Run("removing frees a seat; unlisted SKUs are untouched", func(t *testing.T) {
		res := e.patch(t, fabrikam, ada, body(msInstance, item(skuE3, false)))
		if res.StatusCode() != http.StatusOK {
			t.Fatalf("PATCH = %d %s", res.StatusCode(), res.Body)
		}
		now := e.userLicenses(t, fabrikam, ada)
		if now[skuE3].IsSelected || *now[skuE3].AvailableLicenses != *before[skuE3].AvailableLicenses {
			t.Errorf("E3 not freed: %+v", now[skuE3])
		}
		if !now[skuTeams].IsSelected {
			t.Error("Teams, not listed, was removed")
		}
	})
	t.Run("name and counts in the body are ignored", func(t *testing.T) {
		lie, huge := "Not E3 at all", int32(1000)
		it := item(skuE3, true)
		it.Name, it.TotalLicenses, it.AvailableLicenses, it.ConsumedLicenses = &lie, &huge, &huge, &huge
		if res := e.patch(t, fabrikam, ada, body(msInstance, it)); res.StatusCode() != http.StatusOK {
			t.Fatalf("PATCH = %d %s", res.StatusCode(), res.Body)
		}
		l := e.userLicenses(t, fabrikam, ada)[skuE3]
		if *l.Name != "Microsoft 365 E3" || *l.TotalLicenses != 10 {
			t.Errorf("the server took the client's counts: %+v", l)
		}
	})
}

func TestPatch_isAllOrNothing(t *testing.T) {
	e := start(t)
	seatsBefore := e.seats(t, fabrikam)
	adaBefore := e.userLicenses(t, fabrikam, ada)
	// E3 has free seats, Exchange Online (Plan 1) has none: nothing may change.
	res := e.patch(t, fabrikam, ada, body(msInstance, item(skuE3, true), item(skuEO1, true)))
	if res.StatusCode() != http.StatusBadRequest {
		t.Fatalf("PATCH = %d %s, want 400", res.StatusCode(), res.Body)
	}
	b := problem(t, 400, res.Body, res.HTTPResponse.Header)
	wantProperties(t, b, "customerUserLicenses[1].skuId")
	if msg := (*b.Errors)[0].Description; msg == nil || len(*msg) == 0 || !contains((*msg)[0], skuEO1.String()) {
		t.Errorf("the seat error should name the SKU: %+v", msg)
	}
	if !reflect.DeepEqual(e.seats(t, fabrikam), seatsBefore) || !reflect.DeepEqual(e.userLicenses(t, fabrikam, ada), adaBefore) {
		t.Fatal("a failed update changed seats or assignments")
	}
}

func TestPatch_badInputIsA400NamingEveryProperty(t *testing.T) {
	e := start(t)
	neg := int32(-1)
	negItem := item(skuE3, true)
	negItem.TotalLicenses = &neg
	tests := []struct {
		name  string
		raw   string // sent as is when set
		body  gen.UpdateCustomerUserLicensesRequest
		user  uuid.UUID
		edit  []gen.RequestEditorFn
		props []string
		// contract: the request itself breaks the spec (as opposed to a
		// valid request that breaks a business rule).
		contract bool
	}{
		{name: "malformed providerInstanceId", raw: `{"providerInstanceId":"nope","customerUserLicenses":[{"skuId":"` + skuE3.String() + `","isSelected":true}]}`,
			props: []string{"providerInstanceId"}, contract: true},
		{name: "missing required fields", raw: `{"customerUserLicenses":[{"skuId":"` + skuE3.String() + `"}]}`,
			props: []string{"providerInstanceId", "customerUserLicenses[0].isSelected"}, contract: true},
		{name: "an empty list", raw: `{"providerInstanceId":"` + msInstance.String() + `","customerUserLicenses":[]}`,
			props: []string{"customerUserLicenses"}, contract: true},
		{name: "a malformed skuId in the third item", raw: `{"providerInstanceId":"` + msInstance.String() + `","customerUserLicenses":[{"skuId":"` + skuE3.String() + `","isSelected":true},{"skuId":"` + skuTeams.String() + `","isSelected":true},{"skuId":"x","isSelected":true}]}`,
			props: []string{"customerUserLicenses[2].skuId"}, contract: true},
		{name: "a negative count", body: body(msInstance, negItem), props: []string{"customerUserLicenses[0].totalLicenses"}, contract: true},
		{name: "a skuId listed twice", body: body(msInstance, item(skuE3, true), item(skuE3, false)), props: []string{"customerUserLicenses[1].skuId"}},
		{name: "a SKU the customer has no licenses of", body: body(msInstance, item(skuE5, true)), props: []string{"customerUserLicenses[0].skuId"}},
		{name: "not enough seats, with a SKU listed twice and an unknown one: all named",
			body:  body(msInstance, item(skuEO1, true), item(skuE5, true), item(skuEO1, true)),
			props: []string{"customerUserLicenses[0].skuId", "customerUserLicenses[1].skuId", "customerUserLicenses[2].skuId"}},
		{name: "a provider instance that is not Microsoft", body: body(awsInstance, item(skuE3, true)),
			props: []string{"providerInstanceId", "customerUserLicenses[0].skuId"}},
		{name: "a malformed X-Correlation-Id", body: body(msInstance, item(skuE3, true)),
			edit: append(csp(t), withCorrelation("not-a-uuid")), props: []string{"X-Correlation-Id"}, contract: true},
		{name: "a missing X-Tenant, even with a valid token", body: body(msInstance, item(skuE3, true)),
			edit: []gen.RequestEditorFn{withToken(cspToken(t))}, props: []string{"X-Tenant"}, contract: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seatsBefore := e.seats(t, fabrikam)
			editors := tt.edit
			if editors == nil {
				editors = csp(t)
			}
			ctx := context.Background()
			if tt.contract {
				ctx = invalid()
			}
			var res *gen.UpdateCustomerUserLicensesResponse
			var err error
			if tt.raw != "" {
				res, err = e.client.UpdateCustomerUserLicensesWithBodyWithResponse(ctx, fabrikam, ada,
					&gen.UpdateCustomerUserLicensesParams{}, "application/json", stringsReader(tt.raw), editors...)
			} else {
				res, err = e.client.UpdateCustomerUserLicensesWithResponse(ctx, fabrikam, ada,
					&gen.UpdateCustomerUserLicensesParams{}, tt.body, editors...)
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode() != http.StatusBadRequest {
				t.Fatalf("status %d %s, want 400", res.StatusCode(), res.Body)
			}
			wantProperties(t, problem(t, 400, res.Body, res.HTTPResponse.Header), tt.props...)
			if !reflect.DeepEqual(e.seats(t, fabrikam), seatsBefore) {
				t.Error("a rejected request changed seats")
			}
		})
	}
}

func TestPatch_malformedPathIdsAre400(t *testing.T) {
	e := start(t)
	req, _ := http.NewRequestWithContext(invalid(), http.MethodPatch, e.url+"/v1/Customers/not-a-uuid/users/"+ada.String()+"/licenses",
		stringsReader(`{"providerInstanceId":"`+msInstance.String()+`","customerUserLicenses":[{"skuId":"`+skuE3.String()+`","isSelected":true}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Tenant", tenant)
	req.Header.Set("Authorization", "Bearer "+cspToken(t))
	res, raw := do(t, e, req)
	if res.StatusCode != 400 {
		t.Fatalf("status %d %s", res.StatusCode, raw)
	}
	wantProperties(t, problem(t, 400, raw, res.Header), "customerId")
}

func TestPatch_existenceIsDecidedBeforeBusinessRules(t *testing.T) {
	e := start(t)
	// An unknown SKU on an AWS instance for an unknown user: the 404 wins.
	tests := []struct {
		name           string
		customer, user uuid.UUID
		pi             uuid.UUID
		prop           string
	}{
		{"unknown customer", uuid.New(), ada, awsInstance, "customerId"},
		{"unknown user", fabrikam, uuid.New(), awsInstance, "customerUserId"},
		{"a user of another customer", fabrikam, nancy, awsInstance, "customerUserId"},
		{"unknown provider instance", fabrikam, ada, uuid.New(), "providerInstanceId"},
		{"a customer of another tenant", woodgrove, uuid.MustParse("4a2b3c4d-0000-4000-8000-000000000001"), msInstance, "customerId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.patch(t, tt.customer, tt.user, body(tt.pi, item(skuE5, true)))
			if res.StatusCode() != http.StatusNotFound {
				t.Fatalf("status %d %s, want 404", res.StatusCode(), res.Body)
			}
			wantProperties(t, problem(t, 404, res.Body, res.HTTPResponse.Header), tt.prop)
		})
	}
}

// TestPatch_concurrentRequestsNeverOverAssign races many users for the
// last seats of one SKU through the real server: exactly the available
// number succeed and the counts agree afterwards.
func TestPatch_concurrentRequestsNeverOverAssign(t *testing.T) {
	e := start(t)
	before := e.userLicenses(t, fabrikam, ada)[skuE3]
	available := int(*before.AvailableLicenses)
	var users []uuid.UUID
	for i := 13; i <= 30; i++ { // Fabrikam users holding no E3
		users = append(users, uuid.MustParse("1a2b3c4d-0000-4000-8000-0000000000"+twoDigits(i)))
	}
	if available < 1 || len(users) <= available {
		t.Fatalf("fixture: %d available for %d racers", available, len(users))
	}
	editors := csp(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.client.UpdateCustomerUserLicensesWithResponse(context.Background(), fabrikam, u,
				&gen.UpdateCustomerUserLicensesParams{}, body(msInstance, item(skuE3, true)), editors...)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			codes[res.StatusCode()]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] != available || codes[400] != len(users)-available {
		t.Fatalf("outcomes %v, want %d×200 and %d×400", codes, available, len(users)-available)
	}
	after := e.userLicenses(t, fabrikam, ada)[skuE3]
	if *after.AvailableLicenses != 0 || *after.ConsumedLicenses != *before.ConsumedLicenses+int32(available) {
		t.Fatalf("counts after the race: %+v (before %+v)", after, before)
	}
	holders := 0
	for i := 1; i <= 30; i++ {
		if e.userLicenses(t, fabrikam, uuid.MustParse("1a2b3c4d-0000-4000-8000-0000000000"+twoDigits(i)))[skuE3].IsSelected {
			holders++
		}
	}
	if int32(holders) != *after.ConsumedLicenses {
		t.Fatalf("%d users hold E3 but consumed is %d", holders, *after.ConsumedLicenses)
	}
}

func twoDigits(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }
