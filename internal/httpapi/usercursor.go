package httpapi

import (
	"encoding/base64"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// userCursor is what a users page's continuationToken carries: where the
// page starts and ends in the order, its number, and the query it belongs
// to. It is not signed: it only names a position in a list the caller may
// read anyway, and the store still scopes every query to the caller's
// tenant and customer, so a forged token can move the page, never widen it.
type userCursor struct {
	Version int       `json:"v"`
	Sort    string    `json:"s"`
	Search  string    `json:"q"`
	Size    int       `json:"z"`
	Page    int       `json:"p"`
	FirstK  string    `json:"fk"`
	FirstID uuid.UUID `json:"fi"`
	LastK   string    `json:"lk"`
	LastID  uuid.UUID `json:"li"`
}

func sortKey(sort licensing.UserSort, u licensing.User) string {
	if sort == licensing.SortUserPrincipalName {
		return u.UserPrincipalName
	}
	return u.DisplayName
}

// encodeUserCursor is the token of a page; nil for an empty page.
func encodeUserCursor(q licensing.UserQuery, number int, items []licensing.User) *string {
	if len(items) == 0 {
		return nil
	}
	first, last := items[0], items[len(items)-1]
	raw, _ := json.Marshal(userCursor{Version: 1, Sort: string(q.Sort), Search: q.Search, Size: q.Page.Size, Page: number,
		FirstK: sortKey(q.Sort, first), FirstID: first.ID, LastK: sortKey(q.Sort, last), LastID: last.ID})
	tok := base64.RawURLEncoding.EncodeToString(raw)
	return &tok
}

func badToken(reason string) error {
	return licensing.Errorf(licensing.Invalid, "The continuationToken cannot be used.").Add("continuationToken", "%s", reason)
}

// seekUsers turns seek and continuationToken into the query's position and
// returns the page number the answer will carry.
func seekUsers(q *licensing.UserQuery, params gen.GetCustomerUsersParams) (int, error) {
	seek := gen.GetCustomerUsersParamsSeek("Next")
	if params.Seek != nil {
		seek = *params.Seek
	}
	switch seek {
	case "First":
		q.Page.Number = 1
		return 1, nil
	case "Last":
		q.Last = true
		return 0, nil // the store says which page is last
	case "PageIndex":
		return q.Page.Number, nil
	}
	if params.ContinuationToken == nil || *params.ContinuationToken == "" {
		return q.Page.Number, nil // Next or Previous without a token: pageNumber
	}
	raw, err := base64.RawURLEncoding.DecodeString(*params.ContinuationToken)
	var cur userCursor
	if err != nil || json.Unmarshal(raw, &cur) != nil || cur.Version != 1 || cur.Page < 1 {
		return 0, badToken("It is not a token this API issued.")
	}
	if cur.Sort != string(q.Sort) || cur.Search != q.Search || cur.Size != q.Page.Size {
		return 0, badToken("It was issued for another pageSize, search or sort; send the same ones, or page with pageNumber.")
	}
	if seek == "Previous" {
		q.Before = &licensing.UserPosition{Key: cur.FirstK, ID: cur.FirstID}
		q.Page.Number = max(1, cur.Page-1)
	} else {
		q.After = &licensing.UserPosition{Key: cur.LastK, ID: cur.LastID}
		q.Page.Number = cur.Page + 1
	}
	return q.Page.Number, nil
}
