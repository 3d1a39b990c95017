package e2e

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// TestUsers_seekWithContinuationToken: Next and Previous with the token
// of the page before give exactly the pages pageNumber gives; First and
// Last give the ends; a token is refused (400 naming it) when it is not
// ours or was issued for another query.
func TestUsers_seekWithContinuationToken(t *testing.T) {
	e := start(t)
	n := func(i int32) *int32 { return &i }
	seek := func(s string) *gen.GetCustomerUsersParamsSeek { v := gen.GetCustomerUsersParamsSeek(s); return &v }
	list := func(p gen.GetCustomerUsersParams) *gen.GetCustomerUsersResponse {
		t.Helper()
		p.ProviderInstanceId = msInstance
		p.PageSize = n(2)
		res, err := e.client.GetCustomerUsersWithResponse(context.Background(), fabrikam, &p, csp(t)...)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ids := func(r *gen.GetCustomerUsersResponse) []uuid.UUID {
		t.Helper()
		if r.JSON200 == nil {
			t.Fatalf("status %d: %s", r.StatusCode(), r.Body)
		}
		var out []uuid.UUID
		for _, u := range r.JSON200.Items {
			out = append(out, u.Id)
		}
		return out
	}
	first := list(gen.GetCustomerUsersParams{})
	pages := int(first.JSON200.TotalPages)
	if pages < 3 {
		t.Fatalf("%d pages: too few", pages)
	}
	cur := first
	for p := 2; p <= pages; p++ {
		next := list(gen.GetCustomerUsersParams{Seek: seek("Next"), ContinuationToken: cur.JSON200.ContinuationToken})
		want := list(gen.GetCustomerUsersParams{PageNumber: n(int32(p))})
		if !reflect.DeepEqual(ids(next), ids(want)) {
			t.Errorf("Next after page %d: %v, want %v", p-1, ids(next), ids(want))
		}
		b := next.JSON200
		if int(b.PaginationParameters.PageNumber) != p || b.HasNextPage != (p < pages) || !b.HasPreviousPage {
			t.Errorf("page %d: %+v", p, b.PaginationParameters)
		}
		back := list(gen.GetCustomerUsersParams{Seek: seek("Previous"), ContinuationToken: b.ContinuationToken})
		if !reflect.DeepEqual(ids(back), ids(cur)) {
			t.Errorf("Previous from page %d: %v, want %v", p, ids(back), ids(cur))
		}
		cur = next
	}
	last := list(gen.GetCustomerUsersParams{Seek: seek("Last")})
	if !reflect.DeepEqual(ids(last), ids(cur)) || int(last.JSON200.PaginationParameters.PageNumber) != pages {
		t.Errorf("Last: %v page %d, want %v page %d", ids(last), last.JSON200.PaginationParameters.PageNumber, ids(cur), pages)
	}
	if got := list(gen.GetCustomerUsersParams{Seek: seek("First"), PageNumber: n(3)}); !reflect.DeepEqual(ids(got), ids(first)) {
		t.Errorf("First: %v, want %v", ids(got), ids(first))
	}

	other := "bm90IGEgdG9rZW4"
	sortUPN := gen.GetCustomerUsersParamsSort("UserPrincipalName")
	for name, p := range map[string]gen.GetCustomerUsersParams{
		"not ours":       {Seek: seek("Next"), ContinuationToken: &other},
		"another sort":   {Seek: seek("Next"), ContinuationToken: first.JSON200.ContinuationToken, Sort: &sortUPN},
		"another search": {Seek: seek("Next"), ContinuationToken: first.JSON200.ContinuationToken, Search: func() *string { s := "a"; return &s }()},
	} {
		res := list(p)
		if res.StatusCode() != 400 {
			t.Errorf("%s: status %d, want 400", name, res.StatusCode())
			continue
		}
		if got := properties(problem(t, 400, res.Body, res.HTTPResponse.Header)); !reflect.DeepEqual(got, []string{"continuationToken"}) {
			t.Errorf("%s: properties %v, want [continuationToken]", name, got)
		}
	}
}
