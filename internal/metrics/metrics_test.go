package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	raw, _ := io.ReadAll(rec.Body)
	return string(raw)
}

func TestGraphObserver_countsRetriesAndThrottling(t *testing.T) {
	m := New()
	obs := m.GraphObserver()
	obs("assignLicense", 429, 1, 10*time.Millisecond)
	obs("assignLicense", 200, 2, 20*time.Millisecond)
	obs("listUsers", 0, 1, time.Second)
	body := scrape(t, m)
	for _, want := range []string{
		`licenses_graph_call_duration_seconds_count{operation="assignLicense",status="429"} 1`,
		`licenses_graph_call_duration_seconds_count{operation="assignLicense",status="200"} 1`,
		`licenses_graph_call_duration_seconds_count{operation="listUsers",status="0"} 1`,
		`licenses_graph_retries_total{operation="assignLicense"} 1`,
		`licenses_graph_throttled_total{operation="assignLicense"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `licenses_graph_retries_total{operation="listUsers"}`) {
		t.Error("a first attempt was counted as a retry")
	}
}

func TestRequestDone_unmatchedRoutesShareOneSeries(t *testing.T) {
	m := New()
	m.RequestStarted()
	m.RequestDone("", "GET", 404, time.Millisecond)
	m.RequestStarted()
	m.RequestDone("/v1/AuditLogs", "GET", 200, time.Millisecond)
	body := scrape(t, m)
	for _, want := range []string{
		`licenses_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1`,
		`licenses_http_request_duration_seconds_count{method="GET",route="/v1/AuditLogs",status="200"} 1`,
		`licenses_http_requests_in_flight 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
