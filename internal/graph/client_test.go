package graph_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/graph"
	"github.com/cloudcockpit-oss/userlicenses/internal/graph/graphfake"
)

var (
	tenantID = uuid.MustParse("0f6b1f2e-1111-4a1b-9c1d-000000000001")
	e3       = uuid.MustParse("05e9a617-0261-4cee-bb44-138d3ef5d965")
	eo1      = uuid.MustParse("4b9405b0-7788-4568-add1-99614e613b69")
)

const secret = "fake-client-secret-value"

func fake(t *testing.T, users int) *graphfake.Server {
	t.Helper()
	ten := graphfake.Tenant{ID: tenantID, ClientID: "app-1", ClientSecret: secret,
		SKUs: []graphfake.SKU{{ID: e3, PartNumber: "SPE_E3", Enabled: 5}, {ID: eo1, PartNumber: "EXCHANGESTANDARD", Enabled: 1}}}
	for i := range users {
		ten.Users = append(ten.Users, graphfake.User{ID: uuid.New(), DisplayName: fmt.Sprintf("User %03d", i),
			UserPrincipalName: fmt.Sprintf("u%03d@contoso.test", i), UsageLocation: "US"})
	}
	s := graphfake.Start(ten)
	t.Cleanup(s.Close)
	return s
}

type sleeps struct{ d []time.Duration }

func (s *sleeps) sleep(_ context.Context, d time.Duration) error { s.d = append(s.d, d); return nil }

func client(s *graphfake.Server, sl *sleeps, sec string) *graph.Tenant {
	c := graph.New(graph.Config{URL: s.GraphURL(), LoginURL: s.LoginURL(), Sleep: sl.sleep})
	return c.Tenant(graph.Credentials{TenantID: tenantID, ClientID: "app-1", ClientSecret: sec})
}

func TestClient_tokensAreCachedPerTenantAndRefreshedOnceOn401(t *testing.T) {
	s := fake(t, 3)
	c := client(s, &sleeps{}, secret)
	ctx := context.Background()
	for range 3 {
		if _, err := c.SubscribedSkus(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Calls("token"); n != 1 {
		t.Fatalf("%d token calls for 3 Graph calls, want 1 (cached)", n)
	}
	s.Inject(graphfake.Fault{Op: "subscribedSkus", Status: 401, Code: "InvalidAuthenticationToken"})
	if _, err := c.SubscribedSkus(ctx); err != nil {
		t.Fatalf("after one 401: %v (want a refreshed token and success)", err)
	}
	if n := s.Calls("token"); n != 2 {
		t.Fatalf("%d token calls, want 2 (one refresh after the 401)", n)
	}
	s.Inject(graphfake.Fault{Op: "subscribedSkus", Status: 401, Code: "InvalidAuthenticationToken", Times: 2})
	var ge *graph.Error
	if _, err := c.SubscribedSkus(ctx); !errors.As(err, &ge) || ge.Status != 401 {
		t.Fatalf("two 401s: %v, want the 401 (refresh once only)", err)
	}
}

func TestClient_badSecretIsATokenErrorThatNamesNoSecret(t *testing.T) {
	s := fake(t, 1)
	c := client(s, &sleeps{}, "wrong-secret-1234")
	_, err := c.SubscribedSkus(context.Background())
	var ge *graph.Error
	if !errors.As(err, &ge) || !ge.Token || ge.Code != "invalid_client" {
		t.Fatalf("err = %#v, want a token error invalid_client", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") || strings.Contains(err.Error(), secret) {
		t.Fatalf("the error names the secret: %v", err)
	}
}

func TestClient_retriesThrottlingHonouringRetryAfter(t *testing.T) {
	tests := []struct {
		name      string
		faults    []graphfake.Fault
		budget    time.Duration
		wantErr   int
		wantSleep []time.Duration // lower bounds (jitter adds up to 20%)
	}{
		{"429 then success", []graphfake.Fault{{Status: 429, Code: "TooManyRequests", RetryAfter: 3}}, time.Minute, 0, []time.Duration{3 * time.Second}},
		{"503 and 504 then success", []graphfake.Fault{{Status: 503, Code: "serviceNotAvailable"}, {Status: 504, Code: "gatewayTimeout"}}, time.Minute, 0,
			[]time.Duration{500 * time.Millisecond, time.Second}},
		{"always 429: bounded attempts", []graphfake.Fault{{Status: 429, RetryAfter: 1, Times: 10}}, time.Minute, 429,
			[]time.Duration{time.Second, time.Second, time.Second}},
		{"Retry-After beyond the budget: no wait", []graphfake.Fault{{Status: 429, RetryAfter: 30}}, 5 * time.Second, 429, nil},
		{"400 is not retried", []graphfake.Fault{{Status: 400, Code: "Request_BadRequest"}}, time.Minute, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fake(t, 1)
			sl := &sleeps{}
			c := client(s, sl, secret)
			for _, f := range tt.faults {
				s.Inject(f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.budget)
			defer cancel()
			_, err := c.SubscribedSkus(ctx)
			var ge *graph.Error
			switch {
			case tt.wantErr == 0 && err != nil:
				t.Fatalf("err = %v, want success after retries", err)
			case tt.wantErr != 0 && (!errors.As(err, &ge) || ge.Status != tt.wantErr):
				t.Fatalf("err = %v, want %d", err, tt.wantErr)
			}
			if len(sl.d) != len(tt.wantSleep) {
				t.Fatalf("slept %v, want %d waits", sl.d, len(tt.wantSleep))
			}
			for i, d := range tt.wantSleep {
				if sl.d[i] < d || sl.d[i] > d+d/5+time.Millisecond {
					t.Errorf("wait %d = %v, want %v plus at most 20%% jitter", i, sl.d[i], d)
				}
			}
		})
	}
}

func TestClient_assignLicenseSendsOneCallWithBothArraysAndTheCorrelationID(t *testing.T) {
	s := fake(t, 1)
	c := client(s, &sleeps{}, secret)
	var users []graph.User
	if err := c.Users(context.Background(), func(p []graph.User) error { users = append(users, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	corr := uuid.New()
	u, err := c.AssignLicense(graph.WithClientRequestID(context.Background(), corr), users[0].ID, []uuid.UUID{e3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.AssignedLicenses) != 1 || u.AssignedLicenses[0].SkuID != e3 {
		t.Fatalf("user after assign = %+v", u)
	}
	bodies := s.AssignBodies()
	want := fmt.Sprintf(`{"addLicenses":[{"skuId":"%s","disabledPlans":[]}],"removeLicenses":[]}`, e3)
	if len(bodies) != 1 || bodies[0] != want {
		t.Fatalf("bodies %v, want exactly %s", bodies, want)
	}
	ids := s.ClientRequestIDs()
	if ids[len(ids)-1] != corr.String() {
		t.Fatalf("client-request-id %s, want the correlation id %s", ids[len(ids)-1], corr)
	}
}

func TestClient_usersPageAndDeltaContinues(t *testing.T) {
	s := fake(t, 250)
	c := client(s, &sleeps{}, secret)
	ctx := context.Background()
	pages, n := 0, 0
	if err := c.Users(ctx, func(p []graph.User) error { pages++; n += len(p); return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 250 || pages != 3 {
		t.Fatalf("%d users in %d pages, want 250 in 3 (fake pages of 100)", n, pages)
	}
	seen := 0
	link, err := c.Delta(ctx, "", func(p []graph.User) error { seen += len(p); return nil })
	if err != nil || seen != 250 || link == "" {
		t.Fatalf("first delta: %d users, link %q, %v", seen, link, err)
	}
	var changed []graph.User
	var first []graph.User
	_ = c.Users(ctx, func(p []graph.User) error { first = append(first, p...); return nil })
	s.SetUserSKUs(tenantID, first[7].ID, []uuid.UUID{e3})
	s.DeleteUser(tenantID, first[8].ID)
	link2, err := c.Delta(ctx, link, func(p []graph.User) error { changed = append(changed, p...); return nil })
	if err != nil || len(changed) != 2 || link2 == link {
		t.Fatalf("incremental delta: %+v, %v", changed, err)
	}
	if changed[0].ID != first[7].ID || changed[1].Removed == nil || changed[1].ID != first[8].ID {
		t.Fatalf("incremental delta = %+v, want the changed user then the removed one", changed)
	}
	s.ExpireDeltaLinks(tenantID)
	_, err = c.Delta(ctx, link2, func([]graph.User) error { return nil })
	var ge *graph.Error
	if !errors.As(err, &ge) || !ge.Expired() {
		t.Fatalf("expired link: %v, want Expired()", err)
	}
	if _, err := c.Delta(ctx, "https://evil.test/v1.0/users/delta?$deltatoken=1", func([]graph.User) error { return nil }); !errors.As(err, &ge) || !ge.Expired() {
		t.Fatalf("a link to another host: %v, want it treated as expired (never followed)", err)
	}
}
