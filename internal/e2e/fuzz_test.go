package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
)

// FuzzPatchBody sends arbitrary bodies to a running licensesd and checks
// that what validates is what runs: when the PATCH answers 200, the user's
// licenses afterwards are exactly those before with the items of the body
// applied as read with exact, case-sensitive property names (the
// contract's reading); when it answers anything else, nothing changed. No
// body ever gets a 5xx. The seed corpus holds the review's attacks.
//
//	go test -run '^$' -fuzz FuzzPatchBody -fuzztime 60s ./internal/e2e/
func FuzzPatchBody(f *testing.F) {
	item := func(sku uuid.UUID, sel string) string {
		return fmt.Sprintf(`{"skuId":%q,"isSelected":%s}`, sku, sel)
	}
	wrap := func(items string) string {
		return fmt.Sprintf(`{"providerInstanceId":%q,"customerUserLicenses":[%s]}`, msInstance, items)
	}
	for _, seed := range []string{
		wrap(item(skuE3, "true")),
		wrap(item(skuE3, "false")),
		wrap(item(skuTeams, "true") + "," + item(skuE3, "false")),
		// The review's case-variant key: the validator saw a removal, the
		// handler ran an assignment.
		wrap(fmt.Sprintf(`{"skuId":%q,"isSelected":false,"ISSELECTED":true}`, skuE3)),
		wrap(fmt.Sprintf(`{"skuId":%q,"isSelected":false,"iſSelected":true}`, skuE3)),
		wrap(fmt.Sprintf(`{"skuId":%q,"isSelected":false,"isSelected":true}`, skuE3)),
		// minItems bypass beside a valid list.
		fmt.Sprintf(`{"providerInstanceId":%q,"customerUserLicenses":[%s],"CustomerUserLicenses":[]}`, msInstance, item(skuE3, "true")),
		fmt.Sprintf(`{"providerInstanceId":%q,"CUSTOMERUSERLICENSES":[%s]}`, msInstance, item(skuE3, "true")),
		fmt.Sprintf(`{"PROVIDERINSTANCEID":%q,"customerUserLicenses":[%s]}`, msInstance, item(skuE3, "true")),
		wrap(item(skuE3, "true")) + `{}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"providerInstanceId":null,"customerUserLicenses":null}`,
		// Valid JSON that no float64 holds, where a boolean belongs.
		wrap(fmt.Sprintf(`{"skuId":%q,"isSelected":1E700}`, skuE3)),
		"",
	} {
		f.Add([]byte(seed))
	}

	cfg := daemon.Config{Addr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(f.TempDir(), "fuzz.db"), JWTSecret: secret,
		Logger: slog.New(slog.DiscardHandler)}
	snap, err := demo.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	if err := daemon.Seed(context.Background(), cfg, snap); err != nil {
		f.Fatal(err)
	}
	m, err := daemon.Start(context.Background(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	tok, err := auth.SignHS256([]byte(secret), auth.Claims{Subject: "fuzz", Tenant: tenant, Roles: []string{"csp"}, ExpiresAt: time.Now().Add(6 * time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	base := fmt.Sprintf("%s/v1/Customers/%s/users/%s/licenses", m.URL(), fabrikam, ada)
	do := func(t *testing.T, method, url string, body []byte) (int, []byte) {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Tenant", tenant)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	state := func(t *testing.T) map[uuid.UUID]bool {
		code, b := do(t, http.MethodGet, base+"?providerInstanceId="+msInstance.String(), nil)
		if code != http.StatusOK {
			t.Fatalf("GET user licenses = %d %s", code, b)
		}
		var ls []struct {
			SkuID      uuid.UUID `json:"skuId"`
			IsSelected bool      `json:"isSelected"`
		}
		if err := json.Unmarshal(b, &ls); err != nil {
			t.Fatal(err)
		}
		out := map[uuid.UUID]bool{}
		for _, l := range ls {
			out[l.SkuID] = l.IsSelected
		}
		return out
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		before := state(t)
		code, answer := do(t, http.MethodPatch, base, body)
		after := state(t)
		if code >= 500 {
			t.Fatalf("PATCH %q = %d %s", body, code, answer)
		}
		if code != http.StatusOK {
			if !equalState(before, after) {
				t.Fatalf("PATCH %q = %d but changed %v into %v", body, code, before, after)
			}
			return
		}
		want, ok := exactReading(body)
		if !ok {
			t.Fatalf("PATCH %q = 200, but read with exact names it is not a valid request", body)
		}
		for sku, sel := range want {
			before[sku] = sel
		}
		if !equalState(before, after) {
			t.Fatalf("PATCH %q = 200: licenses %v, want %v (the body read with exact names)", body, after, before)
		}
	})
}

// exactReading reads a PATCH body with exact property names, as the
// contract does: the items by SKU, and whether the body has the required
// shape at all.
func exactReading(body []byte) (map[uuid.UUID]bool, bool) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return nil, false
	}
	var pi uuid.UUID
	if json.Unmarshal(doc["providerInstanceId"], &pi) != nil || pi != msInstance {
		return nil, false
	}
	var items []map[string]json.RawMessage
	if json.Unmarshal(doc["customerUserLicenses"], &items) != nil || len(items) == 0 {
		return nil, false
	}
	out := map[uuid.UUID]bool{}
	for _, it := range items {
		var sku uuid.UUID
		var sel bool
		if json.Unmarshal(it["skuId"], &sku) != nil || json.Unmarshal(it["isSelected"], &sel) != nil {
			return nil, false
		}
		out[sku] = sel
	}
	return out, true
}

func equalState(a, b map[uuid.UUID]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
