package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/prismproxy"
)

// startLimited runs licensesd on the demo data with the given limits.
func startLimited(t *testing.T, limits daemon.Limits, edit ...func(*licensing.Snapshot)) *env {
	t.Helper()
	cfg := daemon.Config{
		Addr:        "127.0.0.1:0",
		DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "e2e.db"),
		JWTSecret:   secret,
		Limits:      limits,
	}
	s, err := demo.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range edit {
		f(&s)
	}
	if err := daemon.Seed(context.Background(), cfg, s); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	return startWith(t, cfg)
}

// rawPatch sends body as it is, bypassing the generated client, which
// could not produce these bodies.
func rawPatch(t *testing.T, e *env, customer, user uuid.UUID, body string) (*http.Response, []byte) {
	t.Helper()
	url := e.url + "/v1/Customers/" + customer.String() + "/users/" + user.String() + "/licenses"
	req, _ := http.NewRequestWithContext(invalid(), http.MethodPatch, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Tenant", tenant)
	req.Header.Set("Authorization", "Bearer "+cspToken(t))
	return do(t, e, req)
}

// TestPatch_theBodyIsReadExactlyAsValidated replays what the security
// review sent: bodies whose keys encoding/json would read differently from
// the validator (case variants, duplicates, unknown names). Each is a 400
// naming the property, and nothing changes.
func TestPatch_theBodyIsReadExactlyAsValidated(t *testing.T) {
	if os.Getenv(prismproxy.EnvBin) != "" {
		t.Skip("behind Prism: Prism re-encodes JSON bodies (merging duplicate keys) before the server sees them; this runs in make test")
	}
	e := start(t)
	pi := `"providerInstanceId":"` + msInstance.String() + `"`
	e3 := `"skuId":"` + skuE3.String() + `"`
	valid := `"customerUserLicenses":[{` + e3 + `,"isSelected":false}]`
	many := strings.Repeat(`{`+e3+`,"isSelected":true},`, 15500)
	many = many[:len(many)-1]
	tests := []struct {
		name, body string
		property   string
	}{
		{"a case variant of isSelected", `{` + pi + `,"customerUserLicenses":[{` + e3 + `,"isSelected":false,"ISSELECTED":true}]}`, "customerUserLicenses[0].ISSELECTED"},
		{"a key given twice", `{` + pi + `,"customerUserLicenses":[{` + e3 + `,"isSelected":false,"isSelected":true}]}`, "customerUserLicenses[0].isSelected"},
		{"a long-s variant (U+017F) that encoding/json folds", `{` + pi + `,"customerUserLicenses":[{` + e3 + `,"isSelected":false,"iſSelected":true}]}`, "customerUserLicenses[0].iſSelected"},
		{"an empty list beside the valid one", `{` + pi + `,` + valid + `,"CustomerUserLicenses":[]}`, "CustomerUserLicenses"},
		{"15,500 items under a case variant", `{` + pi + `,` + valid + `,"CUSTOMERUSERLICENSES":[` + many + `]}`, "CUSTOMERUSERLICENSES"},
		{"a providerInstanceId case variant", `{` + pi + `,"PROVIDERINSTANCEID":"` + awsInstance.String() + `",` + valid + `}`, "PROVIDERINSTANCEID"},
		{"an unknown property", `{` + pi + `,"customerUserLicenses":[{` + e3 + `,"isSelected":true,"force":true}]}`, "customerUserLicenses[0].force"},
		{"an unknown top-level property", `{` + pi + `,` + valid + `,"dryRun":false}`, "dryRun"},
		{"a second JSON value after the body", `{` + pi + `,` + valid + `} {"customerUserLicenses":[]}`, "body"},
		{"nesting deeper than any valid body", `{` + pi + `,` + valid + `,"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.userLicenses(t, fabrikam, alan)
			res, raw := rawPatch(t, e, fabrikam, alan, tt.body)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d %.300s, want 400", res.StatusCode, raw)
			}
			b := problem(t, 400, raw, res.Header)
			if got := properties(b); !contains(strings.Join(got, ","), tt.property) {
				t.Errorf("properties %v, want one naming %s", got, tt.property)
			}
			if after := e.userLicenses(t, fabrikam, alan); !reflect.DeepEqual(before, after) {
				t.Errorf("a refused body changed the licenses:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
	t.Run("the same body without the extras is applied", func(t *testing.T) {
		res, raw := rawPatch(t, e, fabrikam, alan, `{`+pi+`,`+valid+`}`)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d %s, want 200", res.StatusCode, raw)
		}
		if e.userLicenses(t, fabrikam, alan)[skuE3].IsSelected {
			t.Error("E3 was not removed")
		}
	})
}

// TestErrorBodies_listAtMost100Properties: a body with a thousand bad items
// is answered with the first hundred, saying so.
func TestErrorBodies_listAtMost100Properties(t *testing.T) {
	e := start(t)
	items := make([]string, 1000)
	for i := range items {
		items[i] = `{"skuId":"` + uuid.NewString() + `","isSelected":true}`
	}
	res, raw := rawPatch(t, e, fabrikam, ada, `{"providerInstanceId":"`+msInstance.String()+`","customerUserLicenses":[`+strings.Join(items, ",")+`]}`)
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", res.StatusCode)
	}
	b := problem(t, 400, raw, res.Header)
	if n := len(*b.Errors); n != 100 || !strings.Contains(*b.Description, "first 100 of 1000") {
		t.Errorf("%d property errors, description %q; want 100 and a note that 1000 failed", n, *b.Description)
	}
}

// TestRepeatedParametersAre400NamingThem: which of two values counts is
// not for the client to guess.
func TestRepeatedParametersAre400NamingThem(t *testing.T) {
	e := start(t)
	base := e.url + "/v1/Customers/" + fabrikam.String() + "/users?providerInstanceId=" + msInstance.String()
	tests := []struct {
		name, url string
		tenants   []string
		property  string
	}{
		{"pageSize twice", base + "&pageSize=1&pageSize=2000", []string{tenant}, "pageSize"},
		{"providerInstanceId twice", base + "&providerInstanceId=" + awsInstance.String(), []string{tenant}, "providerInstanceId"},
		{"X-Tenant twice", base, []string{tenant, "portal.other.test"}, "X-Tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.tenants) > 1 && os.Getenv(prismproxy.EnvBin) != "" {
				t.Skip("behind Prism: Prism joins repeated headers before the server sees them; this runs in make test")
			}
			req, _ := http.NewRequestWithContext(invalid(), http.MethodGet, tt.url, nil)
			for _, v := range tt.tenants {
				req.Header.Add("X-Tenant", v)
			}
			req.Header.Set("Authorization", "Bearer "+cspToken(t))
			res, raw := do(t, e, req)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d %s, want 400", res.StatusCode, raw)
			}
			wantProperties(t, problem(t, 400, raw, res.Header), tt.property)
		})
	}
}

// TestPatch_aBodySlowerThanTheReadTimeoutIs408WithoutInternals: the
// review's trickled body got a 400 quoting "read tcp 127.0.0.1:…: i/o
// timeout".
func TestPatch_aBodySlowerThanTheReadTimeoutIs408WithoutInternals(t *testing.T) {
	e := startLimited(t, daemon.Limits{ReadTimeout: 500 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.main.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"providerInstanceId":"` + msInstance.String() + `","customerUserLicenses":[{"skuId":"` + skuE3.String() + `","isSelected":true}]}`
	fmt.Fprintf(conn, "PATCH /v1/Customers/%s/users/%s/licenses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"X-Tenant: %s\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", fabrikam, ada, tenant, cspToken(t), len(body), body[:10])
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d %s, want 408", res.StatusCode, raw)
	}
	problem(t, 408, raw, res.Header)
	for _, leak := range []string{"127.0.0.1", "i/o timeout", "read tcp"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("the body reveals %q: %s", leak, raw)
		}
	}
	if e.userLicenses(t, fabrikam, ada)[skuE3].IsSelected {
		t.Error("a timed-out body was applied")
	}
}

// TestLimits_aClientThatNeverReadsIsDropped: the review's five
// connections with pipelined requests and no reads stayed open past every
// timeout, pinning memory. With a write timeout the server drops them.
//
// The client pipelines requests without end and reads nothing. Once the
// socket buffers are full the server's writes block; without a write
// deadline they block forever and so does the client's writer. With one,
// the server closes the connection and the client's next write fails.
// The wait depends on how fast the buffers fill (a few MiB on loopback),
// not on a timing assumption, so each answer is a page of 2000 users
// (~300 KiB) and a few fill them; the wait is bounded only so that a
// regression fails instead of hanging.
func TestLimits_aClientThatNeverReadsIsDropped(t *testing.T) {
	e := startLimited(t, daemon.Limits{WriteTimeout: time.Second}, func(s *licensing.Snapshot) {
		c := &s.Tenants[0].Customers[0]
		for i := range 2000 {
			c.Users = append(c.Users, licensing.SnapshotUser{ID: uuid.NewString(),
				DisplayName: fmt.Sprintf("Pipelined Reader %04d", i), UserPrincipalName: fmt.Sprintf("reader%04d@fabrikam.test", i)})
		}
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.main.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	req := fmt.Sprintf("GET /v1/Customers/%s/users?providerInstanceId=%s&pageSize=2000 HTTP/1.1\r\nHost: x\r\nX-Tenant: %s\r\nAuthorization: Bearer %s\r\n\r\n",
		fabrikam, msInstance, tenant, cspToken(t))
	dropped := make(chan error, 1)
	go func() {
		for {
			if _, err := conn.Write([]byte(req)); err != nil {
				dropped <- err
				return
			}
		}
	}()
	select {
	case err := <-dropped:
		t.Logf("the server dropped the client that did not read (the client's write failed: %v)", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the connection was still open after 2 minutes of a client that never reads: the server never dropped it")
	}
}

// TestLimits_requestsBeyondMaxInFlightAre503AtOnce: a stalled body holds
// the only slot; the next request is told to come back, /healthz is not.
func TestLimits_requestsBeyondMaxInFlightAre503AtOnce(t *testing.T) {
	e := startLimited(t, daemon.Limits{MaxInFlight: 1, ReadTimeout: 10 * time.Second})
	// stall sends a PATCH whose body never completes: it holds the slot
	// until the read timeout.
	stall := func() net.Conn {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.main.URL(), "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "PATCH /v1/Customers/%s/users/%s/licenses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
			"X-Tenant: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{", fabrikam, ada, tenant, cspToken(t))
		return conn
	}
	// answered reports whether the server has answered conn: the stalled
	// request lost the race for the slot to a probe and got the 503.
	answered := func(conn net.Conn) bool {
		conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		n, _ := conn.Read(make([]byte, 1))
		return n > 0
	}
	var res *http.Response
	var raw []byte
	conn := stall()
	defer func() { conn.Close() }()
	waitFor(t, "the stalled request to take the slot", func() bool {
		r, err := e.http.Get(e.url + "/readyz")
		if err != nil {
			return false
		}
		defer r.Body.Close()
		raw, _ = io.ReadAll(r.Body)
		res = r
		if r.StatusCode == http.StatusServiceUnavailable {
			return true
		}
		if answered(conn) { // try again with a new stalled request
			conn.Close()
			conn = stall()
		}
		return false
	})
	problem(t, 503, raw, res.Header)
	if res.Header.Get("Retry-After") == "" {
		t.Error("a 503 without Retry-After")
	}
	h, err := e.http.Get(e.url + "/healthz")
	if err != nil || h.StatusCode != http.StatusOK {
		t.Errorf("/healthz while busy: %v %v, want 200", err, h)
	}
	h.Body.Close()
	conn.Close() // frees the slot
	waitFor(t, "the slot to be freed", func() bool {
		r, err := e.http.Get(e.url + "/readyz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	})
}

// TestLimits_connectionsBeyondTheCapWait: the cap holds connections, not
// just requests, so idle ones cannot exhaust file descriptors either.
func TestLimits_connectionsBeyondTheCapWait(t *testing.T) {
	e := startLimited(t, daemon.Limits{MaxConnections: 2})
	addr := strings.TrimPrefix(e.main.URL(), "http://")
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	time.Sleep(200 * time.Millisecond) // let the server accept both
	third := &http.Client{Timeout: 700 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if res, err := third.Get(e.main.URL() + "/healthz"); err == nil {
		res.Body.Close()
		t.Fatalf("a third connection was served (%d) while two were open", res.StatusCode)
	}
	held[0].Close()
	third.Timeout = 5 * time.Second
	res, err := third.Get(e.main.URL() + "/healthz")
	if err != nil {
		t.Fatalf("after one connection closed: %v", err)
	}
	res.Body.Close()
}
