package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
	"github.com/cloudcockpit-oss/userlicenses/internal/faultproxy"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
)

// TestReplicas runs licensesd the way it runs behind a load balancer:
// several OS processes of the real binary, configured only by flags and
// environment, on one PostgreSQL schema. The binary is built once for all
// subtests; each subtest has its own fresh schema.
func TestReplicas(t *testing.T) {
	pgtest.BaseURL(t) // skips, saying why, when no PostgreSQL is configured
	bin := buildLicensesd(t)

	t.Run("after an explicit migrate, replicas started with --skip-migrations never over-assign the last seats", func(t *testing.T) {
		db := pgtest.URL(t)
		a := startReplica(t, bin, db, "--skip-migrations")
		// A replica must stay out of rotation until its schema is there.
		wantNotReady(t, a.env)
		licensesdOK(t, bin, "migrate", "--database", db)
		licensesdOK(t, bin, "seed", "--database", db, demoFile)
		// …and come into rotation by itself once the pipeline migrated.
		waitReady(t, a.env)
		b := startReplica(t, bin, db, "--skip-migrations")
		wantReady(t, b.env)
		raceForTheLastE3Seats(t, a.env, b.env)
	})

	t.Run("replicas starting at the same moment migrate an empty schema once and never over-assign the last seats", func(t *testing.T) {
		db := pgtest.URL(t)
		// Both processes are launched before either is waited for, so that
		// their migrations run at the same time; the advisory lock must
		// make one wait for the other. Without it the loser fails to start
		// (relation already exists) or starts on a half-made schema.
		a, b := launchReplica(t, bin, db), launchReplica(t, bin, db)
		a.await(t)
		b.await(t)
		wantReady(t, a.env)
		wantReady(t, b.env)
		licensesdOK(t, bin, "seed", "--database", db, demoFile)
		raceForTheLastE3Seats(t, a.env, b.env)
	})

	t.Run("a replica exits 0 on SIGTERM while the other keeps serving", func(t *testing.T) {
		db := pgtest.URL(t)
		licensesdOK(t, bin, "seed", "--database", db, demoFile)
		a, b := startReplica(t, bin, db), startReplica(t, bin, db)
		if res := a.patch(t, fabrikam, ada, body(msInstance, item(skuE3, true))); res.StatusCode() != http.StatusOK {
			t.Fatalf("PATCH through the first replica = %d %s", res.StatusCode(), res.Body)
		}
		if err := a.terminate(t); err != nil {
			t.Fatalf("licensesd did not exit 0 after SIGTERM: %v\n%s", err, a.log)
		}
		wantReady(t, b.env)
		if !b.userLicenses(t, fabrikam, ada)[skuE3].IsSelected {
			t.Fatal("the other replica does not see what the stopped one committed")
		}
		if res := b.patch(t, fabrikam, ada, body(msInstance, item(skuTeams, true))); res.StatusCode() != http.StatusOK {
			t.Fatalf("PATCH through the remaining replica = %d %s", res.StatusCode(), res.Body)
		}
	})
}

// TestReplicas_databaseOutageIs503AndRecoversByItself loses the network
// path between licensesd and PostgreSQL (a TCP proxy that is cut and
// restored): while it is gone, reads and updates answer 503 with the error
// body and Retry-After, /readyz takes the replica out of rotation while
// /healthz keeps it alive, nothing is changed; once it is back, the same
// process serves again without a restart.
func TestReplicas_databaseOutageIs503AndRecoversByItself(t *testing.T) {
	e, proxy := startBehindFaultProxy(t)
	// Live pooled connections through the proxy, so that the cut breaks
	// connections in use, not only new ones.
	if res := e.patch(t, fabrikam, ada, body(msInstance, item(skuE3, true))); res.StatusCode() != http.StatusOK {
		t.Fatalf("PATCH before the outage = %d %s", res.StatusCode(), res.Body)
	}
	seatsBefore, adaBefore := e.seats(t, fabrikam), e.userLicenses(t, fabrikam, ada)

	proxy.Cut()
	ctx := context.Background()
	calls := []struct {
		name string
		call func() (*http.Response, []byte, error)
	}{
		{"PATCH a user's licenses", func() (*http.Response, []byte, error) {
			res, err := e.client.UpdateCustomerUserLicensesWithResponse(ctx, fabrikam, ada, &gen.UpdateCustomerUserLicensesParams{},
				body(msInstance, item(skuE3, false), item(skuTeams, true)), csp(t)...)
			return httpOf(res, err)
		}},
		{"GET a user's licenses", func() (*http.Response, []byte, error) {
			res, err := e.client.GetCustomerUserLicensesWithResponse(ctx, fabrikam, ada,
				&gen.GetCustomerUserLicensesParams{ProviderInstanceId: msInstance}, csp(t)...)
			return httpOf(res, err)
		}},
		{"GET a customer's licenses", func() (*http.Response, []byte, error) {
			res, err := e.client.GetCustomerLicensesWithResponse(ctx, fabrikam,
				&gen.GetCustomerLicensesParams{ProviderInstanceId: msInstance}, csp(t)...)
			return httpOf(res, err)
		}},
		{"GET the audit logs", func() (*http.Response, []byte, error) {
			res, err := e.client.GetAuditLogsWithResponse(ctx, &gen.GetAuditLogsParams{}, csp(t)...)
			return httpOf(res, err)
		}},
		{"GET /readyz", func() (*http.Response, []byte, error) {
			res, err := e.client.GetReadinessWithResponse(ctx)
			return httpOf(res, err)
		}},
	}
	for _, c := range calls {
		t.Run(c.name+" answers 503 while the database is unreachable", func(t *testing.T) {
			res, raw, err := c.call()
			if err != nil {
				t.Fatal(err)
			}
			wantUnavailable(t, res, raw)
			if strings.Contains(string(raw), proxy.Addr()) {
				t.Errorf("the 503 body leaks the database address: %s", raw)
			}
		})
	}
	t.Run("GET /healthz stays 200: the process is alive, do not restart it", func(t *testing.T) {
		if res, err := e.client.GetHealthWithResponse(ctx); err != nil || res.StatusCode() != http.StatusOK {
			t.Fatalf("healthz during the outage: %v %v", err, res)
		}
	})

	proxy.Restore()
	waitReady(t, e)
	if got := e.seats(t, fabrikam); !reflect.DeepEqual(got, seatsBefore) {
		t.Fatalf("the seats changed across the outage:\nbefore %s\nafter  %s", show(seatsBefore), show(got))
	}
	if got := e.userLicenses(t, fabrikam, ada); !reflect.DeepEqual(got, adaBefore) {
		t.Fatal("the PATCH answered 503 during the outage changed Ada's licenses")
	}
	if res := e.patch(t, fabrikam, ada, body(msInstance, item(skuE3, false), item(skuTeams, true))); res.StatusCode() != http.StatusOK {
		t.Fatalf("PATCH after the outage = %d %s", res.StatusCode(), res.Body)
	}
	if now := e.userLicenses(t, fabrikam, ada); now[skuE3].IsSelected || !now[skuTeams].IsSelected {
		t.Fatalf("the PATCH after the outage was not applied: %+v", now)
	}
}

// TestReplicas_anUpdateCutByAnOutageIsWholeOrNothing cuts the database
// path while PATCHes that assign (then remove) two SKUs at once follow
// each other back to back, so that the cut lands wherever a request
// happens to be, possibly inside its transaction or its COMMIT. Every
// answer is 200 or 503, and afterwards the seats are exactly those of one
// whole state: both SKUs held or neither. (internal/postgres cuts inside
// the transaction deterministically; this proves it through the stack.)
func TestReplicas_anUpdateCutByAnOutageIsWholeOrNothing(t *testing.T) {
	e, proxy := startBehindFaultProxy(t)
	both := body(msInstance, item(skuE3, true), item(skuTeams, true))
	neither := body(msInstance, item(skuE3, false), item(skuTeams, false))
	if res := e.patch(t, fabrikam, ada, both); res.StatusCode() != http.StatusOK {
		t.Fatalf("PATCH = %d %s", res.StatusCode(), res.Body)
	}
	withBoth := e.seats(t, fabrikam)
	if res := e.patch(t, fabrikam, ada, neither); res.StatusCode() != http.StatusOK {
		t.Fatalf("PATCH = %d %s", res.StatusCode(), res.Body)
	}
	withNeither := e.seats(t, fabrikam)

	var ok, unavailable atomic.Int64
	stop, stopped := make(chan struct{}), make(chan struct{})
	editors := csp(t)
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			b := both
			if i%2 == 1 {
				b = neither
			}
			res, err := e.client.UpdateCustomerUserLicensesWithResponse(context.Background(), fabrikam, ada,
				&gen.UpdateCustomerUserLicensesParams{}, b, editors...)
			if err != nil {
				t.Errorf("PATCH #%d: %v", i, err)
				return
			}
			switch res.StatusCode() {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusServiceUnavailable:
				wantUnavailable(t, res.HTTPResponse, res.Body)
				unavailable.Add(1)
			default:
				t.Errorf("PATCH #%d during the outage = %d %s, want 200 or 503", i, res.StatusCode(), res.Body)
				return
			}
		}
	}()
	waitFor(t, "5 PATCHes to succeed before the cut", func() bool { return ok.Load() >= 5 })
	proxy.Cut()
	waitFor(t, "3 PATCHes to answer 503 during the cut", func() bool { return unavailable.Load() >= 3 })
	close(stop)
	<-stopped
	proxy.Restore()
	waitReady(t, e)

	got := e.seats(t, fabrikam)
	if !reflect.DeepEqual(got, withBoth) && !reflect.DeepEqual(got, withNeither) {
		t.Fatalf("the seats are neither those with both SKUs held nor those with neither:\nboth    %s\nneither %s\ngot     %s",
			show(withBoth), show(withNeither), show(got))
	}
	if l := e.userLicenses(t, fabrikam, ada); l[skuE3].IsSelected != l[skuTeams].IsSelected {
		t.Fatalf("half an update was applied: E3 %v, Teams %v", l[skuE3].IsSelected, l[skuTeams].IsSelected)
	}
	t.Logf("%d PATCHes answered 200, %d answered 503", ok.Load(), unavailable.Load())
}

// raceForTheLastE3Seats sends, all at once, one PATCH giving E3 to each
// Fabrikam user who has none, alternating between the replicas. There are
// fewer seats than racers: exactly the available number succeed, the
// others are the 400 naming the SKU, and every replica then shows the same
// counts and the same holders, the winners among them.
func raceForTheLastE3Seats(t *testing.T, replicas ...*env) {
	t.Helper()
	before := replicas[0].userLicenses(t, fabrikam, ada)[skuE3]
	available := int(*before.AvailableLicenses)
	var racers []uuid.UUID
	for i := 13; i <= 30; i++ { // Fabrikam users holding no E3
		racers = append(racers, fabrikamUser(i))
	}
	if available < 1 || len(racers) <= available {
		t.Fatalf("fixture: %d seats available for %d racers", available, len(racers))
	}
	editors := csp(t)
	results := make([]*gen.UpdateCustomerUserLicensesResponse, len(racers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range racers {
		r := replicas[i%len(replicas)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := r.client.UpdateCustomerUserLicensesWithResponse(context.Background(), fabrikam, u,
				&gen.UpdateCustomerUserLicensesParams{}, body(msInstance, item(skuE3, true)), editors...)
			if err != nil {
				t.Errorf("PATCH for %s: %v", u, err)
				return
			}
			results[i] = res
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	won := map[uuid.UUID]bool{}
	for i, res := range results {
		switch res.StatusCode() {
		case http.StatusOK:
			won[racers[i]] = true
		case http.StatusBadRequest:
			b := problem(t, http.StatusBadRequest, res.Body, res.HTTPResponse.Header)
			wantProperties(t, b, "customerUserLicenses[0].skuId")
			if msg := (*b.Errors)[0].Description; msg == nil || len(*msg) == 0 || !strings.Contains((*msg)[0], skuE3.String()) {
				t.Errorf("the seat error should name the SKU: %+v", msg)
			}
		default:
			t.Errorf("PATCH for %s = %d %s, want 200 or 400", racers[i], res.StatusCode(), res.Body)
		}
	}
	if len(won) != available {
		t.Fatalf("%d PATCHes succeeded for %d available seats", len(won), available)
	}

	first := replicas[0].seats(t, fabrikam)
	for n, r := range replicas {
		if got := r.seats(t, fabrikam); !reflect.DeepEqual(got, first) {
			t.Errorf("replica %d shows other seats than replica 0:\n%s\n%s", n, show(got), show(first))
		}
		e3 := r.userLicenses(t, fabrikam, ada)[skuE3]
		if *e3.AvailableLicenses != 0 || *e3.ConsumedLicenses != *before.ConsumedLicenses+int32(available) {
			t.Errorf("replica %d: E3 after the race %s, before %s", n, show(e3), show(before))
		}
		holders := 0
		for i := 1; i <= 30; i++ {
			u := fabrikamUser(i)
			holds := r.userLicenses(t, fabrikam, u)[skuE3].IsSelected
			if holds {
				holders++
			}
			if i >= 13 && holds != won[u] {
				t.Errorf("replica %d: user %s holds E3 = %v, but its PATCH succeeded = %v", n, u, holds, won[u])
			}
		}
		if int32(holders) != *e3.ConsumedLicenses {
			t.Errorf("replica %d: %d users hold E3 but consumed is %d", n, holders, *e3.ConsumedLicenses)
		}
	}
}

func fabrikamUser(i int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("1a2b3c4d-0000-4000-8000-0000000000%02d", i))
}

// startBehindFaultProxy runs licensesd in this process on a fresh schema
// seeded with the demo data, its database URL pointing at a faultproxy in
// front of PostgreSQL. Short connect and statement timeouts keep every
// request during an outage bounded.
func startBehindFaultProxy(t *testing.T) (*env, *faultproxy.Proxy) {
	t.Helper()
	direct := pgtest.URL(t)
	proxy, err := faultproxy.New(pgtest.HostPort(t, direct))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() }) // after the server's shutdown, registered later
	cfg := daemon.Config{Addr: "127.0.0.1:0", DatabaseURL: direct, JWTSecret: secret}
	s, err := demo.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := daemon.Seed(ctx, cfg, s); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	cfg.DatabaseURL = pgtest.WithHost(t, direct, proxy.Addr())
	cfg.Postgres = postgres.Config{MaxConns: 4, ConnectTimeout: time.Second, StatementTimeout: 5 * time.Second}
	return startWith(t, cfg), proxy
}

// httpOf gives the raw response of any generated *WithResponse call.
func httpOf(res interface{ StatusCode() int }, err error) (*http.Response, []byte, error) {
	if err != nil {
		return nil, nil, err
	}
	v := reflect.ValueOf(res).Elem()
	return v.FieldByName("HTTPResponse").Interface().(*http.Response), v.FieldByName("Body").Bytes(), nil
}

// wantUnavailable checks a 503 as the spec publishes it: the error body
// and a Retry-After of whole seconds that a client can wait.
func wantUnavailable(t *testing.T, res *http.Response, raw []byte) {
	t.Helper()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d %s, want 503", res.StatusCode, raw)
	}
	problem(t, http.StatusServiceUnavailable, raw, res.Header)
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want a positive number of seconds", res.Header.Get("Retry-After"))
	}
}

func wantReady(t *testing.T, e *env) {
	t.Helper()
	res, err := e.client.GetReadinessWithResponse(context.Background())
	if err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("readyz of %s: %v %v", e.url, err, res)
	}
}

func wantNotReady(t *testing.T, e *env) {
	t.Helper()
	res, raw, err := httpOf(e.client.GetReadinessWithResponse(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	wantUnavailable(t, res, raw)
}

// waitReady polls /readyz until it answers 200: a load balancer's view of
// a replica coming (back) into rotation. The wait is bounded, not timed.
func waitReady(t *testing.T, e *env) {
	t.Helper()
	waitFor(t, e.url+"/readyz to answer 200", func() bool {
		// Not through the validating client: answers while waiting are
		// expected to be 503s, already checked by the callers.
		res, err := http.Get(e.url + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	wantReady(t, e)
}

// waitFor polls cond until it holds, failing the test after 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func show(v any) string { return fmt.Sprintf("%+v", deref(v)) }

// deref prints the pointer fields of the generated models as values.
func deref(v any) any {
	switch x := v.(type) {
	case []gen.CustomerUserLicense:
		out := make([]any, len(x))
		for i, l := range x {
			out[i] = deref(l)
		}
		return out
	case gen.CustomerUserLicense:
		n := func(p *int32) int32 {
			if p == nil {
				return -1
			}
			return *p
		}
		return fmt.Sprintf("{%s total %d consumed %d suspended %d available %d}", x.SkuId, n(x.TotalLicenses), n(x.ConsumedLicenses),
			n(x.SuspendedLicenses), n(x.AvailableLicenses))
	}
	return v
}

// --- licensesd as an OS process ---------------------------------------------

// demoFile is the demo data set, seeded with `licensesd seed`.
var demoFile = filepath.Join("..", "demo", "demo.json")

// buildLicensesd builds the real binary once for the test that asks.
func buildLicensesd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "licensesd")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/cloudcockpit-oss/userlicenses/cmd/licensesd").CombinedOutput()
	if err != nil {
		t.Fatalf("building licensesd: %v\n%s", err, out)
	}
	return bin
}

// processEnv is this process's environment without LICENSES_* variables,
// so that each command states its whole configuration in its flags.
func processEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LICENSES_") {
			env = append(env, kv)
		}
	}
	return append(env, "LICENSES_JWT_SECRET="+secret)
}

// licensesdOK runs a one-shot command (migrate, seed) and wants exit 0.
func licensesdOK(t *testing.T, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = processEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("licensesd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// replica is one `licensesd serve` process and a validating client for it.
type replica struct {
	*env
	cmd     *exec.Cmd
	log     *processLog
	exited  chan struct{} // closed once the process has exited
	waitErr error         // set before exited is closed
}

// startReplica launches a replica and waits until it listens.
func startReplica(t *testing.T, bin, db string, args ...string) *replica {
	t.Helper()
	r := launchReplica(t, bin, db, args...)
	r.await(t)
	return r
}

// launchReplica starts `licensesd serve` on a free port of 127.0.0.1 and
// returns at once; await waits until it listens. The process is stopped
// (SIGTERM, then killed if it hangs) when the test ends.
func launchReplica(t *testing.T, bin, db string, args ...string) *replica {
	t.Helper()
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--database", db,
		"--pg-max-conns", "8", "--pg-connect-timeout", "2s", "--pg-statement-timeout", "10s"}, args...)
	r := &replica{cmd: exec.Command(bin, args...), log: &processLog{addr: make(chan string, 1)}, exited: make(chan struct{})}
	r.cmd.Env = processEnv()
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		if err := r.terminate(t); err != nil || t.Failed() {
			t.Logf("licensesd (pid %d) ended with %v; the end of its log:\n%s", r.cmd.Process.Pid, err, r.log.tail(30))
		}
	})
	return r
}

// await waits until the replica logs the address it listens on.
func (r *replica) await(t *testing.T) {
	t.Helper()
	select {
	case addr := <-r.log.addr:
		r.env = attach(t, "http://"+addr)
	case <-r.exited:
		t.Fatalf("licensesd exited before listening: %v\n%s", r.waitErr, r.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("licensesd did not listen within 30s:\n%s", r.log)
	}
}

// terminate sends SIGTERM to the process and returns how it exited (nil
// for exit status 0). A process still running after 30s is killed.
func (r *replica) terminate(t *testing.T) error {
	t.Helper()
	select {
	case <-r.exited:
		return r.waitErr
	default:
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM to pid %d: %v", r.cmd.Process.Pid, err)
	}
	select {
	case <-r.exited:
		return r.waitErr
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
		return fmt.Errorf("pid %d did not exit within 30s of SIGTERM and was killed", r.cmd.Process.Pid)
	}
}

// attach is a client for a server at url that validates every response
// against the spec, like the one startWith builds.
func attach(t *testing.T, url string) *env {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &validatingTransport{t: t, base: transport, router: specRouter(t)}}
	client, err := gen.NewClientWithResponses(url, gen.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, url: url, client: client, http: hc}
}

// processLog keeps a process's output for the test log and reports the
// address from its "serving" line.
type processLog struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string // receives the listen address once
	sent bool
}

var servingLine = regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)

func (l *processLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.sent {
		if m := servingLine.FindSubmatch(l.buf.Bytes()); m != nil {
			l.addr <- string(m[1])
			l.sent = true
		}
	}
	return len(p), nil
}

// tail is the last n lines of the output.
func (l *processLog) tail(n int) string {
	lines := strings.SplitAfter(l.String(), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

func (l *processLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
