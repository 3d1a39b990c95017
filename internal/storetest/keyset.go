package storetest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// testKeyset: keyset pages (After, Before, Last) are exactly the pages
// that page numbers give, in both orders, with and without a search, ties
// of the sort key included (two users named "Alan Turing").
func testKeyset(t *testing.T, open Opener) {
	s, ids := seeded(t, open)
	const size = 2
	for _, sort := range []licensing.UserSort{licensing.SortDisplayName, licensing.SortUserPrincipalName} {
		for _, search := range []string{"", "a"} {
			t.Run(fmt.Sprintf("%s/%q", sort, search), func(t *testing.T) {
				list := func(q licensing.UserQuery) licensing.UserPage {
					t.Helper()
					q.Sort, q.Search = sort, search
					p, err := s.Users(t.Context(), ids.Tenant, ids.Fabrikam, q)
					if err != nil {
						t.Fatalf("Users(%+v): %v", q, err)
					}
					return p
				}
				pos := func(u licensing.User) *licensing.UserPosition {
					k := u.DisplayName
					if sort == licensing.SortUserPrincipalName {
						k = u.UserPrincipalName
					}
					return &licensing.UserPosition{Key: k, ID: u.ID}
				}
				first := list(licensing.UserQuery{Page: licensing.Page{Number: 1, Size: size}})
				pages := (first.Total + size - 1) / size
				if pages < 3 {
					t.Fatalf("%d users match: too few to page through", first.Total)
				}
				byNumber := make([][]licensing.User, pages+1)
				for n := 1; n <= pages; n++ {
					byNumber[n] = list(licensing.UserQuery{Page: licensing.Page{Number: n, Size: size}}).Items
				}
				prev := byNumber[1]
				for n := 2; n <= pages; n++ {
					got := list(licensing.UserQuery{Page: licensing.Page{Number: n, Size: size}, After: pos(prev[len(prev)-1])})
					if !reflect.DeepEqual(got.Items, byNumber[n]) {
						t.Errorf("page after page %d: %v, want page %d: %v", n-1, got.Items, n, byNumber[n])
					}
					if got.Total != first.Total {
						t.Errorf("total %d on a keyset page, %d on the first", got.Total, first.Total)
					}
					back := list(licensing.UserQuery{Page: licensing.Page{Number: n - 1, Size: size}, Before: pos(got.Items[0])})
					if !reflect.DeepEqual(back.Items, byNumber[n-1]) {
						t.Errorf("page before page %d: %v, want %v", n, back.Items, byNumber[n-1])
					}
					prev = got.Items
				}
				last := list(licensing.UserQuery{Page: licensing.Page{Number: 1, Size: size}, Last: true})
				if last.Number != pages || !reflect.DeepEqual(last.Items, byNumber[pages]) {
					t.Errorf("last page: number %d, %v; want %d, %v", last.Number, last.Items, pages, byNumber[pages])
				}
				past := list(licensing.UserQuery{Page: licensing.Page{Number: pages + 1, Size: size}, After: pos(byNumber[pages][len(byNumber[pages])-1])})
				if len(past.Items) != 0 {
					t.Errorf("after the last user: %v, want none", past.Items)
				}
			})
		}
	}
}
