package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
)

// Run is one measured cell of the matrix, in the schema of latest.json.
type Run struct {
	Target      string  `json:"target"`
	Operation   string  `json:"operation"`
	Connections int     `json:"connections"`
	Users       int     `json:"users"`
	RPS         float64 `json:"rps"`
	P50Ms       float64 `json:"p50Ms"`
	P99Ms       float64 `json:"p99Ms"`
	RSSMiB      float64 `json:"rssMiB"`
	// Not in the schema: the target's CPU time over the cell's
	// wall time, in percent of one CPU. Below 100 with GOMAXPROCS=1 the
	// target waited for something other than its CPU.
	CPUPercent float64 `json:"cpuPercent"`
	// Not in the schema, kept for the reader: the share of
	// answers with the expected status, and the statuses seen.
	OKPercent float64        `json:"okPercent"`
	Statuses  map[string]int `json:"statuses,omitempty"`
}

// Results is latest.json.
type Results struct {
	Command              string  `json:"command"`
	DurableCommitsPerSec float64 `json:"durableCommitsPerSec"`
	Runs                 []Run   `json:"runs"`
}

type options struct {
	users       []int
	conns       []int
	ops         []string
	targets     []string
	duration    time.Duration
	warmup      time.Duration
	gomaxprocs  int
	out         string
	workDir     string
	licensesd   string
	prism       string
	postgresURL string
	pin         bool
	smoke       bool
	pprofDir    string
	args        []string
}

// errPinnedDone says the pinned child process did the whole run.
var errPinnedDone = errors.New("done by the pinned child")

var allOps = []string{"get-user-licenses", "patch-noop", "patch-change", "users-first-page", "users-deep-page",
	"users-search", "customer-licenses", "audit-first-page"}

// prismOps are the reads Prism is measured on (the mock has no state, so
// a PATCH against it says nothing).
var prismOps = []string{"get-user-licenses", "customer-licenses", "users-first-page", "audit-first-page"}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func run(args []string) int {
	fs := flag.NewFlagSet("bench run", flag.ContinueOnError)
	users := fs.String("users", "1000,10000,100000", "users in the one customer, one server start each")
	conns := fs.String("conns", "1,16,64", "closed-loop connections (vegeta workers)")
	ops := fs.String("ops", strings.Join(allOps, ","), "licensesd operations")
	targets := fs.String("targets", "nethttp,echo,prism,licensesd-sqlite,licensesd-postgres,licensesd-postgres-2", "targets (licensesd-postgres and licensesd-postgres-2, two replicas of one database, need LICENSES_TEST_POSTGRES_URL)")
	o := options{}
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time per cell")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each cell")
	fs.IntVar(&o.gomaxprocs, "gomaxprocs", 1, "GOMAXPROCS of every Go target (Prism: pinned to as many CPUs)")
	fs.StringVar(&o.out, "out", "bench/results", "where the Markdown table and latest.json go (empty: print only)")
	fs.StringVar(&o.workDir, "dir", "bench/.work", "scratch directory on the disk under test (databases, the commit probe)")
	fs.StringVar(&o.licensesd, "licensesd", "", "licensesd binary (empty: go build ./cmd/licensesd)")
	fs.StringVar(&o.prism, "prism", "tools/contract/node_modules/.bin/prism", "Prism CLI (make contract-tools installs it)")
	fs.BoolVar(&o.pin, "pin", true, "pin each target to CPU 0 with taskset and the load generator to the others")
	fs.BoolVar(&o.smoke, "smoke", false, "fail when any request got an unexpected answer (the CI smoke run)")
	fs.StringVar(&o.pprofDir, "pprof", "", "write a CPU profile of each licensesd cell here (licensesd's localhost-only pprof)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	if o.users, err = ints(*users); err != nil {
		fmt.Fprintln(os.Stderr, "-users:", err)
		return 2
	}
	if o.conns, err = ints(*conns); err != nil {
		fmt.Fprintln(os.Stderr, "-conns:", err)
		return 2
	}
	o.ops, o.targets = list(*ops), list(*targets)
	o.postgresURL = os.Getenv("LICENSES_TEST_POSTGRES_URL")
	o.args = args
	command := os.Getenv("BENCH_COMMAND")
	if command == "" {
		command = "go run ./tools/bench run " + strings.Join(args, " ")
	}
	if err := benchmark(o, command); err != nil && !errors.Is(err, errPinnedDone) {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

func benchmark(o options, command string) error {
	if err := os.MkdirAll(o.workDir, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp(o.workDir, "run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	// cpuCount, not runtime.NumCPU: in the re-run pinned to CPUs 1..N-1
	// NumCPU counts only those, and answering 1 there once left the
	// targets unpinned, sharing the load generator's CPU (every table
	// before 2026-12-03T12:40Z was measured so).
	if o.pin && cpuCount() > 1 {
		if _, err := exec.LookPath("taskset"); err != nil {
			fmt.Fprintln(os.Stderr, "bench: taskset not found; targets are not pinned")
			o.pin = false
		} else if done, code := pinSelf(append([]string{"run"}, o.args...)); done {
			if code != 0 {
				return fmt.Errorf("the pinned run failed (exit %d)", code)
			}
			return errPinnedDone
		}
	} else {
		o.pin = false
	}
	res := Results{Command: command}
	res.DurableCommitsPerSec, err = durableCommits(work, 3*time.Second)
	if err != nil {
		return fmt.Errorf("measuring the durable-commit limit: %w", err)
	}
	fmt.Printf("durable-commit limit (4 KiB write, O_DSYNC, %s): %.0f commits/s\n", work, res.DurableCommitsPerSec)

	if o.licensesd == "" {
		o.licensesd = filepath.Join(work, "licensesd")
		build := exec.Command("go", "build", "-o", o.licensesd, "./cmd/licensesd")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building licensesd: %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	add := func(r Run) {
		res.Runs = append(res.Runs, r)
		fmt.Printf("%-20s %-18s users=%-6d c=%-3d %9.0f rps  p50 %7.2f ms  p99 %8.2f ms  rss %6.1f MiB  cpu %3.0f%%  ok %5.1f%% %v\n",
			r.Target, r.Operation, r.Users, r.Connections, r.RPS, r.P50Ms, r.P99Ms, r.RSSMiB, r.CPUPercent, r.OKPercent, r.Statuses)
	}
	// The body licensesd answers a user's licenses with, for the anchors.
	const fixtureLicenses = 8
	staticSize := 0

	for _, n := range o.users {
		fx := newFixture(n, fixtureLicenses)
		for _, target := range o.targets {
			if !strings.HasPrefix(target, "licensesd-") {
				continue
			}
			if strings.HasPrefix(target, "licensesd-postgres") && o.postgresURL == "" {
				fmt.Fprintf(os.Stderr, "bench: LICENSES_TEST_POSTGRES_URL is unset; %s skipped\n", target)
				continue
			}
			if err := benchLicensesd(o, work, target, fx, add, &staticSize); err != nil {
				return fmt.Errorf("%s with %d users: %w", target, n, err)
			}
		}
	}
	if staticSize == 0 {
		staticSize = 700
	}
	for _, target := range o.targets {
		switch target {
		case "nethttp", "echo":
			if err := benchAnchor(o, self, target, staticSize, add); err != nil {
				return fmt.Errorf("%s: %w", target, err)
			}
		case "prism":
			if err := benchPrism(o, newFixture(10, fixtureLicenses), add); err != nil {
				return fmt.Errorf("prism: %w", err)
			}
		}
	}
	if o.smoke {
		for _, r := range res.Runs {
			if r.OKPercent < 100 {
				return fmt.Errorf("%s %s: %.1f%% of the answers were as expected (%v)", r.Target, r.Operation, r.OKPercent, r.Statuses)
			}
		}
	}
	table := markdown(res)
	fmt.Println()
	fmt.Print(table)
	if o.out == "" {
		return nil
	}
	return writeResults(o.out, res, table)
}

// fixture is one customer with n users, seeded through the import.
type fixture struct {
	n                  int
	tenant             string
	pi, customer       uuid.UUID
	noopSKU, changeSKU uuid.UUID
	skus               []uuid.UUID
	users              []uuid.UUID
	// noopUsers hold noopSKU from the start; a PATCH selecting it for
	// them changes nothing.
	noopUsers int
	snapshot  []byte
	// deepToken is the continuationToken of the page before the deep page.
	deepToken string
}

// deepPage is nine tenths of the way through n users at 25 a page.
func deepPage(n int) int { return max(1, n/25*9/10) }

func newFixture(n, licenses int) *fixture {
	f := &fixture{n: n, tenant: "bench.test", pi: uuid.New(), customer: uuid.New()}
	first := []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis"}
	last := []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Ritchie"}
	type user struct {
		ID   string `json:"id"`
		Name string `json:"displayName"`
		UPN  string `json:"userPrincipalName"`
	}
	users := make([]user, n)
	f.users = make([]uuid.UUID, n)
	for i := range users {
		f.users[i] = uuid.New()
		fn, ln := first[i%len(first)], last[(i/len(first))%len(last)]
		users[i] = user{ID: f.users[i].String(), Name: fmt.Sprintf("%s %s %06d", fn, ln, i),
			UPN: fmt.Sprintf("%s.%s.%06d@bench.test", strings.ToLower(fn), strings.ToLower(ln), i)}
	}
	f.noopUsers = min(n, 1000)
	type license struct {
		PI       string   `json:"providerInstanceId"`
		SKU      string   `json:"skuId"`
		Name     string   `json:"name"`
		Total    int      `json:"totalLicenses"`
		Assigned []string `json:"assignedUserIds"`
	}
	var ls []license
	for i := 0; i < licenses; i++ {
		sku := uuid.New()
		f.skus = append(f.skus, sku)
		l := license{PI: f.pi.String(), SKU: sku.String(), Name: fmt.Sprintf("SKU %02d", i), Total: n, Assigned: []string{}}
		if i == 0 {
			f.noopSKU = sku
			for _, u := range users[:f.noopUsers] {
				l.Assigned = append(l.Assigned, u.ID)
			}
		}
		if i == 1 {
			f.changeSKU = sku
		}
		ls = append(ls, l)
	}
	snap := map[string]any{"tenants": []any{map[string]any{
		"domain":            f.tenant,
		"providerInstances": []any{map[string]any{"id": f.pi, "name": "CSP", "provider": "microsoft"}},
		"customers":         []any{map[string]any{"id": f.customer, "name": "Bench Corp", "users": users, "licenses": ls}},
	}}}
	f.snapshot, _ = json.Marshal(snap)
	return f
}

const benchSecret = "bench-secret-bench-secret-bench-secret-0123"

// proc is a started target.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	base  string
}

func (p *proc) stop() {
	if p.stdin != nil {
		p.stdin.Close()
	}
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs the command (pinned to CPU 0 when asked) and waits until
// probe answers.
func start(o options, env []string, probe string, name string, args ...string) (*proc, error) {
	if o.pin {
		args = append([]string{"-c", "0", name}, args...)
		name = "taskset"
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", o.gomaxprocs))
	logf, err := os.CreateTemp(o.workDir, "target-*.log")
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, stdin: stdin}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(probe)
		if err == nil {
			res.Body.Close()
			return p, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	raw, _ := os.ReadFile(logf.Name())
	return nil, fmt.Errorf("%s did not answer %s within a minute:\n%s", name, probe, tail(string(raw), 2000))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// rssMiB reads the resident set size of a process.
func rssMiB(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

func benchLicensesd(o options, work, target string, fx *fixture, add func(Run), staticSize *int) error {
	var dbURL string
	switch target {
	case "licensesd-sqlite":
		dbURL = "sqlite:" + filepath.Join(work, fmt.Sprintf("bench-%d.db", fx.n))
	case "licensesd-postgres", "licensesd-postgres-2":
		u, err := freshPostgres(o.postgresURL, "licenses_bench")
		if err != nil {
			return err
		}
		dbURL = u
	default:
		return fmt.Errorf("unknown target %q", target)
	}
	snap := filepath.Join(work, fmt.Sprintf("snapshot-%d.json", fx.n))
	if err := os.WriteFile(snap, fx.snapshot, 0o600); err != nil {
		return err
	}
	t0 := time.Now()
	seed := exec.Command(o.licensesd, "seed", "--database", dbURL, snap)
	if out, err := seed.CombinedOutput(); err != nil {
		return fmt.Errorf("seeding: %w: %s", err, tail(string(out), 1000))
	}
	fmt.Printf("%s: seeded %d users in %s\n", target, fx.n, time.Since(t0).Round(time.Millisecond))
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	env := []string{"LICENSES_DATABASE_URL=" + dbURL, "LICENSES_JWT_SECRET=" + benchSecret, "LICENSES_ADDR=" + addr, "LICENSES_LOG_LEVEL=info"}
	var pprofAddr string
	if o.pprofDir != "" {
		if pprofAddr, err = freeAddr(); err != nil {
			return err
		}
		env = append(env, "LICENSES_PPROF_ADDR="+pprofAddr)
	}
	p, err := start(o, env, "http://"+addr+"/healthz", o.licensesd, "serve")
	if err != nil {
		return err
	}
	defer p.stop()
	bases, pids := []string{"http://" + addr}, []int{p.cmd.Process.Pid}
	if target == "licensesd-postgres-2" {
		// A second replica on the same database, on the same CPU (this
		// machine has one for the targets): what two replicas cost each
		// other through PostgreSQL, not what a second machine would add.
		addr2, err := freeAddr()
		if err != nil {
			return err
		}
		env2 := append(slices.Clone(env[:len(env):len(env)]), "LICENSES_ADDR="+addr2)
		p2, err := start(o, env2, "http://"+addr2+"/healthz", o.licensesd, "serve")
		if err != nil {
			return err
		}
		defer p2.stop()
		bases, pids = append(bases, "http://"+addr2), append(pids, p2.cmd.Process.Pid)
	}
	token, err := auth.SignHS256([]byte(benchSecret), auth.Claims{Subject: "bench", Tenant: fx.tenant, Roles: []string{"csp"},
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(12 * time.Hour)})
	if err != nil {
		return err
	}
	base := "http://" + addr
	if *staticSize == 0 {
		size, err := bodySize(fx, base, token)
		if err != nil {
			return err
		}
		*staticSize = size
	}
	if fx.deepToken, err = deepToken(fx, base, token); err != nil {
		return err
	}
	var counter atomic.Uint64
	for _, op := range o.ops {
		for _, c := range o.conns {
			if o.warmup > 0 {
				if _, err := attackReplicas(o, fx, bases, op, token, o.warmup, c, pids, &counter); err != nil {
					return err
				}
			}
			var prof *profile
			if pprofAddr != "" {
				prof = startProfile(pprofAddr, o.duration, filepath.Join(o.pprofDir, fmt.Sprintf("%s-%s-%d-c%d.pprof", target, op, fx.n, c)))
			}
			r, err := attackReplicas(o, fx, bases, op, token, o.duration, c, pids, &counter)
			if err != nil {
				return err
			}
			if prof != nil {
				if err := prof.wait(); err != nil {
					fmt.Fprintln(os.Stderr, "bench: profile:", err)
				}
			}
			r.Target, r.Operation, r.Users = target, op, fx.n
			add(r)
		}
	}
	return nil
}

// warm runs the cell's load unmeasured for the warm-up time.
func warm(o options, fx *fixture, base, op, token string, c, pid int, counter *atomic.Uint64) error {
	script, err := fx.lua(op, token, counter.Load())
	if err != nil {
		return err
	}
	_, err = attack(o, base, script, c, o.warmup, pid, counter)
	return err
}

// deepToken fetches the continuationToken of the page before the deep
// page (by number, once), so that the measured requests page by keyset.
func deepToken(fx *fixture, base, token string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/Customers/%s/users?providerInstanceId=%s&pageSize=25&pageNumber=%d",
		base, fx.customer, fx.pi, max(1, deepPage(fx.n)-1)), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Tenant", fx.tenant)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var page struct {
		ContinuationToken *string `json:"continuationToken"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the deep page's token: %d %v", res.StatusCode, err)
	}
	if page.ContinuationToken == nil {
		return "", nil
	}
	return *page.ContinuationToken, nil
}

// bodySize is the length of licensesd's answer to a user's licenses.
func bodySize(fx *fixture, base, token string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/Customers/%s/users/%s/licenses?providerInstanceId=%s", base, fx.customer, fx.users[0], fx.pi), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Tenant", fx.tenant)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET a user's licenses: %d %s", res.StatusCode, raw)
	}
	return len(raw), nil
}

func benchAnchor(o options, self, target string, size int, add func(Run)) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	p, err := start(o, nil, "http://"+addr+"/static", self, "serve-"+target, "-addr", addr, "-size", strconv.Itoa(size))
	if err != nil {
		return err
	}
	defer p.stop()
	var counter atomic.Uint64
	fx := newFixture(1, 2)
	base := "http://" + addr
	for _, c := range o.conns {
		if o.warmup > 0 {
			if err := warm(o, fx, base, "static", "", c, p.cmd.Process.Pid, &counter); err != nil {
				return err
			}
		}
		script, _ := fx.lua("static", "", 0)
		r, err := attack(o, base, script, c, o.duration, p.cmd.Process.Pid, &counter)
		if err != nil {
			return err
		}
		r.Target, r.Operation = target, "static"
		add(r)
	}
	return nil
}

func benchPrism(o options, fx *fixture, add func(Run)) error {
	if _, err := os.Stat(o.prism); err != nil {
		return fmt.Errorf("%s not found (run make contract-tools): %w", o.prism, err)
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(addr)
	p, err := start(o, nil, "http://"+addr+"/healthz", o.prism, "mock", "-h", host, "-p", port, "api/openapi.yaml")
	if err != nil {
		return err
	}
	defer p.stop()
	pid := p.cmd.Process.Pid
	token, err := auth.SignHS256([]byte(benchSecret), auth.Claims{Subject: "bench", Tenant: fx.tenant, Roles: []string{"csp"}, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		return err
	}
	var counter atomic.Uint64
	for _, op := range prismOps {
		if !slices.Contains(o.ops, op) {
			continue
		}
		base := "http://" + addr
		for _, c := range o.conns {
			if o.warmup > 0 {
				if err := warm(o, fx, base, op, token, c, pid, &counter); err != nil {
					return err
				}
			}
			script, err := fx.lua(op, token, counter.Load())
			if err != nil {
				return err
			}
			r, err := attack(o, base, script, c, o.duration, pid, &counter)
			if err != nil {
				return err
			}
			r.Target, r.Operation = "prism", op
			add(r)
		}
	}
	return nil
}

// freshPostgres drops and creates the database name on the server of
// base and returns its URL.
func freshPostgres(base, name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// durableCommits measures how many 4 KiB writes with O_DSYNC the disk
// under dir completes per second (what `dd bs=4k oflag=dsync` measures):
// the ceiling of commits that each wait for their own flush.
func durableCommits(dir string, d time.Duration) (float64, error) {
	f, err := os.OpenFile(filepath.Join(dir, "commit-probe"), os.O_CREATE|os.O_WRONLY|dsyncFlag, 0o600)
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		if _, err := f.WriteAt(buf, int64(n%256)*4096); err != nil {
			return 0, err
		}
		n++
	}
	return round(float64(n)/time.Since(start).Seconds(), 0), nil
}

// profile fetches a CPU profile from licensesd's pprof listener while a
// cell runs.
type profile struct{ done chan error }

func startProfile(addr string, d time.Duration, path string) *profile {
	p := &profile{done: make(chan error, 1)}
	// Halfway through, where every goroutine waits: pool waits and
	// sleeps do not show in a CPU profile.
	time.AfterFunc(d/2, func() {
		res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/goroutine?debug=1", addr))
		if err != nil {
			return
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		_ = os.WriteFile(strings.TrimSuffix(path, ".pprof")+".goroutines.txt", raw, 0o644)
	})
	// One second of execution trace a quarter of the way in: where the
	// long tail waits (scheduler, channel, syscall) shows there only
	// (go tool trace -pprof=sched|sync|syscall).
	time.AfterFunc(d/4, func() {
		res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/trace?seconds=1", addr))
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: trace:", err)
			return
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		_ = os.WriteFile(strings.TrimSuffix(path, ".pprof")+".trace", raw, 0o644)
	})
	go func() {
		res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(1, int(d.Seconds()))))
		if err != nil {
			p.done <- err
			return
		}
		defer res.Body.Close()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			p.done <- err
			return
		}
		f, err := os.Create(path)
		if err != nil {
			p.done <- err
			return
		}
		_, err = io.Copy(f, res.Body)
		p.done <- errors.Join(err, f.Close())
	}()
	return p
}

func (p *profile) wait() error { return <-p.done }
