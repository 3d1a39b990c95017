package daemon

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// TestMetrics_servedOnTheirOwnAddressOnly: with a metrics address the
// request, pool and group-commit metrics are there, and not on the API.
func TestMetrics_servedOnTheirOwnAddressOnly(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "m.db"),
		JWTSecret: "metrics-test-secret-of-at-least-32-bytes"}
	m, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	snap, ids := storetest.Fixture()
	if err := m.Store.Import(t.Context(), snap); err != nil {
		t.Fatal(err)
	}
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ken, ProviderInstanceID: ids.Microsoft}
	if _, err := m.Store.ApplyUserLicenses(t.Context(), ref, licensing.Actor{Subject: "t"},
		licensing.Decide(licensing.ProviderInstance{Provider: licensing.ProviderMicrosoft}, []licensing.Selection{{SKUID: ids.E3, Selected: true}})); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first reads the database, the second is served from the cache
		if _, err := m.Store.UserView(t.Context(), ref); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Store.Licenses(t.Context(), ids.Tenant, ids.Fabrikam, ids.Microsoft); err != nil {
			t.Fatal(err)
		}
	}
	if code, _ := get(t, m.URL()+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	if code, _ := get(t, m.URL()+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the API port: %d, want 404", code)
	}
	if m.MetricsURL == "" {
		t.Fatal("no metrics URL")
	}
	// The writer records a batch just after answering it: scrape until
	// it has (or a few seconds passed).
	var code int
	var body string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body = get(t, m.MetricsURL)
		if code != http.StatusOK {
			t.Fatalf("/metrics: %d", code)
		}
		if strings.Contains(body, `licenses_group_commit_duration_seconds_count{store="sqlite"} 1`) || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{
		`licenses_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1`,
		`licenses_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1`,
		`licenses_http_requests_in_flight 0`,
		`go_sql_wait_duration_seconds_total{db_name="sqlite-read"}`,
		`go_sql_in_use_connections{db_name="sqlite-write"}`,
		`licenses_group_commit_batch_size_count{store="sqlite"} 1`,
		`licenses_group_commit_duration_seconds_count{store="sqlite"} 1`,
		`licenses_view_cache_lookups_total{result="hit",store="sqlite"} 1`,
		`licenses_view_cache_lookups_total{result="miss",store="sqlite"} 1`,
		`licenses_read_cache_lookups_total{result="hit",store="sqlite"} 1`,
		`licenses_read_cache_lookups_total{result="miss",store="sqlite"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestMetrics_offByDefault(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "m.db"),
		JWTSecret: "metrics-test-secret-of-at-least-32-bytes"}
	m, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	if m.MetricsURL != "" || len(m.side) != 0 {
		t.Errorf("metrics or pprof served without being asked: %q, %d side servers", m.MetricsURL, len(m.side))
	}
}
