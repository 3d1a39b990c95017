package main

// These tests drive the built licensesctl against a real licensesd
// (subprocess, temporary SQLite, the demo data), sometimes through a small
// proxy that injects faults, as an administrator's shell would.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/ctl"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
)

var ctlBin, daemonBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "licensesctl-test-")
	if err != nil {
		panic(err)
	}
	ctlBin, daemonBin = filepath.Join(dir, "licensesctl"), filepath.Join(dir, "licensesd")
	for bin, pkg := range map[string]string{ctlBin: ".", daemonBin: "../licensesd"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const secret = "licensesctl-tests-secret-of-at-least-32-bytes"

const (
	fabrikam = demo.FabrikamID
	msPI     = demo.MicrosoftInstanceID
	e3       = demo.E3SKU
)

// server is a licensesd subprocess on a fresh SQLite database with the
// demo data; it is stopped when the test ends.
type server struct {
	url string
}

func startServer(t *testing.T) *server {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "licenses.db")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	if out, err := exec.CommandContext(ctx, daemonBin, "seed", "--database", db, "../../internal/demo/demo.json").CombinedOutput(); err != nil {
		t.Fatalf("seeding: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, daemonBin, "serve", "--addr", "127.0.0.1:0", "--database", db, "--jwt-secret", secret, "--shutdown-timeout", "5s")
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	var logs bytes.Buffer
	var logMu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		cmd.Wait()
	})
	select {
	case a := <-addr:
		return &server{url: "http://" + a}
	case <-done:
	case <-time.After(30 * time.Second):
	}
	logMu.Lock()
	defer logMu.Unlock()
	t.Fatalf("licensesd did not start serving:\n%s", logs.String())
	return nil
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LICENSES_") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return env
}

func cspToken(t *testing.T) string {
	t.Helper()
	tok, err := auth.SignHS256([]byte(secret), auth.Claims{Subject: "admin@contoso.test", Tenant: demo.Tenant,
		Roles: []string{"csp"}, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// result is one run of licensesctl.
type result struct {
	stdout, stderr string
	code           int
}

// run runs licensesctl with a clean environment (no config file) plus env.
func run(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctlBin, args...)
	home := t.TempDir()
	cmd.Env = append(append(cleanEnv(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config")), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running licensesctl: %v", err)
	}
	return r
}

// conn is the environment that points licensesctl at a server.
func conn(t *testing.T, url string) []string {
	return []string{"LICENSES_URL=" + url, "LICENSES_TENANT=" + demo.Tenant, "LICENSES_TOKEN=" + cspToken(t)}
}

func (r result) must(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not the JSON expected: %v\n%s", err, s)
	}
	return v
}

// proxy forwards to the server and lets a test answer some requests
// itself (fault injection) and count what went through.
type proxy struct {
	url     string
	mu      sync.Mutex
	inject  func(w http.ResponseWriter, r *http.Request) bool
	patches atomic.Int64
	total   atomic.Int64
	// userLists counts the requests for a customer's users.
	userLists atomic.Int64
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &proxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.total.Add(1)
		if r.Method == http.MethodPatch {
			p.patches.Add(1)
		}
		if strings.HasSuffix(r.URL.Path, "/users") {
			p.userLists.Add(1)
		}
		p.mu.Lock()
		inject := p.inject
		p.mu.Unlock()
		if inject != nil && inject(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

func (p *proxy) set(f func(w http.ResponseWriter, r *http.Request) bool) {
	p.mu.Lock()
	p.inject = f
	p.mu.Unlock()
}

// auditCount is how many audit records the server holds.
func auditCount(t *testing.T, env []string) int {
	t.Helper()
	recs := decode[[]gen.AuditLog](t, run(t, env, "", "audit", "--all", "-o", "json").must(t, 0).stdout)
	return len(recs)
}

func TestLists_tableByDefaultJSONAndYAMLForScripts(t *testing.T) {
	s := startServer(t)
	env := conn(t, s.url)

	out := run(t, env, "", "customers", "list").must(t, 0).stdout
	for _, want := range []string{"COMPANY NAME", "Fabrikam", "Northwind Traders", "Adatum Reseller", "Tailspin Toys"} {
		if !strings.Contains(out, want) {
			t.Errorf("customers table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("terminal escapes in output to a pipe:\n%q", out)
	}
	cs := decode[[]gen.Customer](t, run(t, env, "", "customers", "list", "--search", "TRADERS", "-o", "json").must(t, 0).stdout)
	if len(cs) != 1 || *cs[0].CompanyName != "Northwind Traders" || cs[0].ResellerId == nil || cs[0].ResellerId.String() != demo.AdatumResellerID {
		t.Errorf("customers --search TRADERS = %+v", cs)
	}
	c := decode[gen.Customer](t, run(t, env, "", "customers", "get", "fabrikam", "-o", "json").must(t, 0).stdout)
	if c.Id.String() != fabrikam {
		t.Errorf("customers get fabrikam = %+v", c)
	}
	pis := run(t, env, "", "provider-instances", "list", "-o", "yaml").must(t, 0).stdout
	if !strings.Contains(pis, "alias: Contoso AWS") || !strings.Contains(pis, "name: microsoft") || strings.Index(pis, "aws") > strings.Index(pis, "microsoft") {
		t.Errorf("provider-instances -o yaml, sorted by provider:\n%s", pis)
	}
	users := decode[[]gen.CustomerUser](t, run(t, env, "", "users", "list", "--customer", "Fabrikam", "--all", "--page-size", "7", "-o", "json").must(t, 0).stdout)
	if len(users) != 30 {
		t.Errorf("users --all followed to %d users, want 30", len(users))
	}
	page := run(t, env, "", "users", "list", "--customer", fabrikam, "--page-size", "5", "--page", "2").must(t, 0)
	if !strings.Contains(page.stderr, "page 2 of 6 (30 users)") {
		t.Errorf("paging note: %q", page.stderr)
	}
	ls := decode[[]gen.CustomerUserLicense](t, run(t, env, "", "licenses", "list", "--customer", "Fabrikam", "-o", "json").must(t, 0).stdout)
	if len(ls) != 4 {
		t.Errorf("licenses list = %d SKUs, want 4", len(ls))
	}
	held := decode[[]gen.CustomerUserLicense](t, run(t, env, "", "user-licenses", "get", "--customer", "Fabrikam",
		"--user", "ALAN.TURING@fabrikam.test", "--provider-instance", "contoso csp", "-o", "json").must(t, 0).stdout)
	n := 0
	for _, l := range held {
		if l.IsSelected {
			n++
		}
	}
	if n != 2 {
		t.Errorf("Alan Turing holds %d SKUs, want 2 (E3, Teams)", n)
	}
}

func TestUserLicensesSet_changesAndOnRefusalPrintsTheErrorAndItsCorrelationID(t *testing.T) {
	s := startServer(t)
	env := conn(t, s.url)
	r := run(t, env, "", "user-licenses", "set", "--customer", "Fabrikam", "--user", "ada.lovelace@fabrikam.test",
		"--assign", "Microsoft 365 E3", "--remove", "Power BI Pro", "-o", "json").must(t, 0)
	res := decode[struct {
		CorrelationID string
		Changes       []struct{ Name, Action, Outcome string }
	}](t, r.stdout)
	if len(res.Changes) != 2 || res.Changes[0].Outcome != "changed" || res.Changes[1].Outcome != "unchanged" || res.CorrelationID == "" {
		t.Fatalf("set = %+v", res)
	}
	recs := decode[[]gen.AuditLog](t, run(t, env, "", "audit", "--correlation-id", res.CorrelationID, "-o", "json").must(t, 0).stdout)
	if len(recs) != 1 || recs[0].Status != gen.Succeded || recs[0].SkuId.String() != e3 {
		t.Errorf("audit of the change = %+v", recs)
	}

	// Exchange Online (Plan 1) has no free seat.
	r = run(t, env, "", "user-licenses", "set", "--customer", "Fabrikam", "--user", "ada.lovelace@fabrikam.test",
		"--assign", "Exchange Online (Plan 1)").must(t, 1)
	for _, want := range []string{"400 Bad Request", "The user's licenses were not updated", "customerUserLicenses[0].skuId: Not enough available licenses", "correlation id: "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, r.stderr)
		}
	}
	cid := strings.Fields(r.stderr[strings.Index(r.stderr, "correlation id: ")+len("correlation id: "):])[0]
	recs = decode[[]gen.AuditLog](t, run(t, env, "", "audit", "--correlation-id", cid, "-o", "json").must(t, 0).stdout)
	if len(recs) != 1 || recs[0].Status != gen.Failed {
		t.Errorf("audit --correlation-id %s = %+v, want the Failed record", cid, recs)
	}

	r = run(t, env, "", "user-licenses", "set", "--customer", "Fabrikam", "--user", "ada.lovelace@fabrikam.test", "--assign", "Visio").must(t, 2)
	if !strings.Contains(r.stderr, `no SKU named "Visio"`) {
		t.Errorf("unknown SKU: %s", r.stderr)
	}
}

func TestUsageErrors_exit2AndSendNothing(t *testing.T) {
	s := startServer(t)
	p := startProxy(t, s.url)
	env := conn(t, p.url)
	dir := t.TempDir()
	badHeader := filepath.Join(dir, "bad.csv")
	os.WriteFile(badHeader, []byte("customerId,user,sku\n"+fabrikam+",x,y\n"), 0o600)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknownCommand", env, []string{"customer", "list"}, `unknown command "customer"`},
		{"unknownFlag", env, []string{"customers", "list", "--colour"}, "unknown flag: --colour"},
		{"badOutput", env, []string{"customers", "list", "-o", "xml"}, `-o "xml"`},
		{"badFlagValue", env, []string{"customers", "list", "--page-size", "many"}, `invalid argument "many"`},
		{"pageSizeOutOfRange", env, []string{"customers", "list", "--page-size", "5000"}, "--page-size 5000"},
		{"missingRequiredFlag", env, []string{"users", "list"}, `"customer" not set`},
		{"noConnection", nil, []string{"customers", "list"}, "the API URL (--url, $LICENSES_URL"},
		{"notAURL", append(env[1:], "LICENSES_URL=ftp://x"), []string{"customers", "list"}, "not an http(s) URL"},
		{"applyWithoutFile", env, []string{"apply"}, `"file" not set`},
		{"applyParallelZero", env, []string{"apply", "-f", badHeader, "--parallel", "0"}, "--parallel 0"},
		{"applyMissingFile", env, []string{"apply", "-f", filepath.Join(dir, "nope.csv")}, "no such file"},
		{"applyHeaderLacksColumns", env, []string{"apply", "-f", badHeader}, "the header lacks providerInstanceId, action"},
		{"setNothing", env, []string{"user-licenses", "set", "--customer", fabrikam, "--user", "x"}, "nothing to do"},
		{"auditBadStatus", env, []string{"audit", "--status", "Succeeded"}, "the published spelling"},
		{"unknownProfile", env, []string{"customers", "list", "--profile", "prod"}, `no profile "prod"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := p.total.Load()
			r := run(t, tt.env, "", tt.args...).must(t, 2)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if n := p.total.Load() - before; n != 0 {
				t.Errorf("a usage error sent %d requests", n)
			}
		})
	}
}

// bulk writes a CSV of rows "user,sku,action" for Fabrikam under the
// Microsoft instance.
func bulk(t *testing.T, rows ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("note,customerId,user,providerInstanceId,sku,action\n")
	for i, r := range rows {
		f := strings.Split(r, ",")
		fmt.Fprintf(&b, "n%d,%s,%s,%s,%s,%s\n", i+1, fabrikam, f[0], msPI, f[1], f[2])
	}
	path := filepath.Join(t.TempDir(), "changes.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readReport(t *testing.T, path string) ctl.Report {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decode[ctl.Report](t, string(raw))
}

func outcomes(rep ctl.Report) []ctl.Outcome {
	var out []ctl.Outcome
	for _, r := range rep.Rows {
		out = append(out, r.Outcome)
	}
	return out
}

func wantOutcomes(t *testing.T, rep ctl.Report, want ...ctl.Outcome) {
	t.Helper()
	got := outcomes(rep)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		for _, r := range rep.Rows {
			t.Logf("row %d %s %s: %s %+v", r.Row, r.Input.User, r.Input.SKU, r.Outcome, r.Error)
		}
		t.Fatalf("outcomes %v, want %v", got, want)
	}
}

func TestApply_planDryRunApplyReportAndRerun(t *testing.T) {
	s := startServer(t)
	env := conn(t, s.url)
	// E3 has 3 free seats and Alan Turing frees one: 4 seats for the 5
	// users who want one, in file order.
	file := bulk(t,
		"alan.turing@fabrikam.test,Microsoft 365 E3,remove",            // 1 changed (frees a seat)
		"ada.lovelace@fabrikam.test,Microsoft 365 E3,assign",           // 2 changed
		"ada.lovelace@fabrikam.test,Microsoft Teams Essentials,assign", // 3 changed, same request as 2
		"anita.borg@fabrikam.test,microsoft 365 e3,assign",             // 4 changed
		"grace.hopper@fabrikam.test,Microsoft 365 E3,assign",           // 5 unchanged (already so)
		"bjarne.stroustrup@fabrikam.test,Microsoft 365 E3,assign",      // 6 changed
		"claude.shannon@fabrikam.test,Microsoft 365 E3,assign",         // 7 changed: the 4th seat
		"dennis.ritchie@fabrikam.test,Microsoft 365 E3,assign",         // 8 impossible: no seat left
		"dennis.ritchie@fabrikam.test,Power BI Pro,remove",             // 9 unchanged (does not hold it)
		"hedy.lamarr@fabrikam.test,Visio,assign",                       // 10 impossible: no such SKU
		"hedy.lamarr@fabrikam.test,Microsoft Teams Essentials,assign",  // 11 skipped: all or nothing
		"nobody@fabrikam.test,Microsoft 365 E3,assign",                 // 12 impossible: no such user
		"ivan.sutherland@fabrikam.test,Microsoft 365 E3,delete",        // 13 impossible: bad action
	)
	want := []ctl.Outcome{ctl.Changed, ctl.Changed, ctl.Changed, ctl.Changed, ctl.Unchanged, ctl.Changed, ctl.Changed,
		ctl.Impossible, ctl.Unchanged, ctl.Impossible, ctl.Skipped, ctl.Impossible, ctl.Impossible}
	audits := auditCount(t, env)

	// Dry run: the plan, nothing changed, no audit record.
	dry := filepath.Join(t.TempDir(), "dry.json")
	r := run(t, env, "", "apply", "-f", file, "--dry-run", "--report", dry).must(t, 1)
	for _, line := range []string{
		"Fabrikam · Contoso CSP",
		"alan.turing@fabrikam.test (Alan Turing)",
		"- Microsoft 365 E3",
		"+ Microsoft Teams Essentials",
		"= Microsoft 365 E3",
		"not enough seats of Microsoft 365 E3 for Fabrikam: 3 available (+1 freed by removals in this file), 5 needed by rows 2, 4, 6, 7 and 8 of this file",
		`the customer has no SKU named "Visio"`,
		"not applied: this user's changes are all or nothing, and row 10 cannot be applied",
		`no user with the userPrincipalName "nobody@fabrikam.test"`,
		`action "delete" is neither assign nor remove`,
		"Dry run, nothing was changed: 6 to change, 2 already so, 4 impossible, 0 failed to read, 1 not applied because of another row (13 rows)",
	} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("the plan lacks %q:\n%s", line, r.stdout)
		}
	}
	if n := auditCount(t, env); n != audits {
		t.Errorf("a dry run left %d audit records", n-audits)
	}
	problems := run(t, env, "", "apply", "-f", file, "--dry-run", "--show", "problems").must(t, 1).stdout
	if strings.Contains(problems, "alan.turing") || strings.Contains(problems, "grace.hopper") || !strings.Contains(problems, "! Visio") ||
		!strings.Contains(problems, "~ Microsoft Teams Essentials") || !strings.Contains(problems, "To change: 6 rows for 5 users") {
		t.Errorf("--show problems lists changes or lacks problems:\n%s", problems)
	}
	changes := run(t, env, "", "apply", "-f", file, "--dry-run", "--show", "changes").must(t, 1).stdout
	if strings.Contains(changes, "grace.hopper") || !strings.Contains(changes, "alan.turing") {
		t.Errorf("--show changes lists what is already so or lacks a change:\n%s", changes)
	}
	dr := readReport(t, dry)
	if !dr.DryRun || dr.Summary.Changed != 0 {
		t.Errorf("dry-run report: %+v", dr.Summary)
	}
	ls := decode[[]gen.CustomerUserLicense](t, run(t, env, "", "licenses", "list", "--customer", fabrikam, "-o", "json").must(t, 0).stdout)
	for _, l := range ls {
		if l.SkuId.String() == e3 && *l.AvailableLicenses != 3 {
			t.Errorf("a dry run changed the seats: %d E3 available", *l.AvailableLicenses)
		}
	}

	// Apply.
	repPath := filepath.Join(t.TempDir(), "report.json")
	r = run(t, env, "", "apply", "-f", file, "--report", repPath, "--parallel", "3").must(t, 1)
	if !strings.Contains(r.stdout, "Applied: 6 changed, 2 unchanged (already so), 0 failed, 4 impossible, 1 skipped (13 rows)") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "[5/5] changed") || strings.Contains(r.stderr, "\r") {
		t.Errorf("plain progress lines expected on a pipe:\n%q", r.stderr)
	}
	rep := readReport(t, repPath)
	wantOutcomes(t, rep, want...)
	if rep.Rows[1].CorrelationID == "" || rep.Rows[1].CorrelationID != rep.Rows[2].CorrelationID {
		t.Errorf("rows 2 and 3 are one user's one request: correlation ids %q and %q", rep.Rows[1].CorrelationID, rep.Rows[2].CorrelationID)
	}
	if rep.Rows[1].SKUID == nil || rep.Rows[1].SKUID.String() != e3 || rep.Rows[1].UserID == nil || rep.Rows[1].UserPrincipalName != "ada.lovelace@fabrikam.test" {
		t.Errorf("row 2 resolved ids: %+v", rep.Rows[1])
	}
	if e := rep.Rows[7].Error; e == nil || !strings.Contains(e.Description, "not enough seats") {
		t.Errorf("row 8 error: %+v", e)
	}
	recs := decode[[]gen.AuditLog](t, run(t, env, "", "audit", "--correlation-id", rep.Rows[1].CorrelationID, "-o", "json").must(t, 0).stdout)
	if len(recs) != 2 {
		t.Errorf("ada's request made %d audit records, want 2 (E3 and Teams)", len(recs))
	}
	if n := auditCount(t, env); n != audits+6 {
		t.Errorf("applying made %d audit records, want 6", n-audits)
	}

	// Running it again applies only what is still missing: nothing.
	repPath2 := filepath.Join(t.TempDir(), "report2.json")
	r = run(t, env, "", "apply", "-f", file, "--report", repPath2).must(t, 1)
	rep2 := readReport(t, repPath2)
	if rep2.Summary.Changed != 0 || rep2.Summary.Unchanged != 8 {
		t.Errorf("re-run: %+v", rep2.Summary)
	}
	if n := auditCount(t, env); n != audits+6 {
		t.Errorf("the re-run made %d audit records", n-audits-6)
	}

	// A file whose rows are all possible exits 0, in a dry run too.
	ok := bulk(t, "ada.lovelace@fabrikam.test,Microsoft Teams Essentials,remove", "ada.lovelace@fabrikam.test,Microsoft 365 E3,assign")
	run(t, env, "", "apply", "-f", ok, "--dry-run").must(t, 0)
	r = run(t, env, "", "apply", "-f", ok).must(t, 0)
	if !strings.Contains(r.stdout, "Applied: 1 changed, 1 unchanged") {
		t.Errorf("summary:\n%s", r.stdout)
	}
}

func TestApply_retriesAnInjected503HonouringRetryAfter(t *testing.T) {
	s := startServer(t)
	p := startProxy(t, s.url)
	env := conn(t, p.url)
	var refused atomic.Int64
	p.set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPatch && refused.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"statusCode":503,"type":"Unavailable","description":"try later"}`)
			return true
		}
		return false
	})
	repPath := filepath.Join(t.TempDir(), "report.json")
	start := time.Now()
	r := run(t, env, "", "apply", "-f", bulk(t, "ada.lovelace@fabrikam.test,Microsoft 365 E3,assign"), "--report", repPath).must(t, 0)
	if time.Since(start) < time.Second {
		t.Errorf("the retry did not wait the Retry-After second")
	}
	if !strings.Contains(r.stderr, "/licenses: 503, retrying in 1s (attempt 2 of 5)") {
		t.Errorf("no retry line:\n%s", r.stderr)
	}
	if p.patches.Load() != 2 {
		t.Errorf("%d PATCHes went out, want 2 (the 503 and its retry)", p.patches.Load())
	}
	rep := readReport(t, repPath)
	wantOutcomes(t, rep, ctl.Changed)
	if rep.Retries != 1 {
		t.Errorf("report retries = %d, want 1", rep.Retries)
	}
	recs := decode[[]gen.AuditLog](t, run(t, env, "", "audit", "--correlation-id", rep.Rows[0].CorrelationID, "-o", "json").must(t, 0).stdout)
	if len(recs) != 1 || recs[0].Status != gen.Succeded {
		t.Errorf("the retried request's audit = %+v, want one Succeded record under the same correlation id", recs)
	}
}

func TestApply_partialFailureIsReportedAndTheRerunAppliesOnlyWhatIsMissing(t *testing.T) {
	s := startServer(t)
	p := startProxy(t, s.url)
	env := conn(t, p.url)
	const anita = "1a2b3c4d-0000-4000-8000-000000000021"
	p.set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPatch && strings.Contains(r.URL.Path, anita) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Correlation-Id", r.Header.Get("X-Correlation-Id"))
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"statusCode":500,"type":"InternalError","description":"An internal error occurred.","correlationId":%q}`, r.Header.Get("X-Correlation-Id"))
			return true
		}
		return false
	})
	file := bulk(t,
		"ada.lovelace@fabrikam.test,Microsoft 365 E3,assign",
		"anita.borg@fabrikam.test,Microsoft 365 E3,assign",
		"anita.borg@fabrikam.test,Microsoft Teams Essentials,assign",
		"claude.shannon@fabrikam.test,Microsoft Teams Essentials,assign",
	)
	repPath := filepath.Join(t.TempDir(), "report.json")
	r := run(t, env, "", "apply", "-f", file, "--report", repPath).must(t, 1)
	rep := readReport(t, repPath)
	wantOutcomes(t, rep, ctl.Changed, ctl.Failed, ctl.Failed, ctl.Changed)
	if e := rep.Rows[1].Error; e == nil || !strings.Contains(e.Description, "500 Internal Server Error") || rep.Rows[1].CorrelationID == "" {
		t.Errorf("failed row: %+v %q", e, rep.Rows[1].CorrelationID)
	}
	if !strings.Contains(r.stdout, "Failed:") || !strings.Contains(r.stdout, "correlation id: "+rep.Rows[1].CorrelationID) {
		t.Errorf("the summary does not show the failure with its correlation id:\n%s", r.stdout)
	}

	p.set(nil)
	repPath = filepath.Join(t.TempDir(), "report2.json")
	run(t, env, "", "apply", "-f", file, "--report", repPath).must(t, 0)
	wantOutcomes(t, readReport(t, repPath), ctl.Unchanged, ctl.Changed, ctl.Changed, ctl.Unchanged)
}

func TestApply_stdinJSONWithAJSONReportOnStdout(t *testing.T) {
	s := startServer(t)
	env := conn(t, s.url)
	in := fmt.Sprintf(`[{"customerId":%q,"user":"ada.lovelace@fabrikam.test","providerInstanceId":%q,"sku":%q,"action":"assign"},
	  {"customerId":%q,"user":"ada.lovelace@fabrikam.test","providerInstanceId":%q,"sku":"Microsoft 365 E5","action":"assign"}]`,
		fabrikam, msPI, e3, fabrikam, msPI)
	r := run(t, env, in, "apply", "-f", "-", "-o", "json").must(t, 1)
	rep := decode[ctl.Report](t, r.stdout)
	wantOutcomes(t, rep, ctl.Skipped, ctl.Impossible)
	if !strings.Contains(r.stderr, "Plan (2 rows)") {
		t.Errorf("with -o json the plan goes to stderr:\n%s", r.stderr)
	}
}

func TestApply_interruptStartsNoNewRequestLetsTheOneInFlightFinishAndReports(t *testing.T) {
	s := startServer(t)
	p := startProxy(t, s.url)
	env := conn(t, p.url)
	inFlight := make(chan struct{}, 10)
	p.set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPatch {
			inFlight <- struct{}{}
			time.Sleep(1500 * time.Millisecond) // slow enough to be interrupted
		}
		return false
	})
	file := bulk(t,
		"ada.lovelace@fabrikam.test,Microsoft Teams Essentials,assign",
		"anita.borg@fabrikam.test,Microsoft Teams Essentials,assign",
		"claude.shannon@fabrikam.test,Microsoft 365 E3,assign",
	)
	repPath := filepath.Join(t.TempDir(), "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctlBin, "apply", "-f", file, "--parallel", "1", "--report", repPath)
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inFlight:
	case <-time.After(30 * time.Second):
		t.Fatal("no PATCH was sent")
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1\n%s\n%s", err, out.String(), errb.String())
	}
	if p.patches.Load() != 1 {
		t.Errorf("%d PATCHes were sent after the interrupt, want only the one in flight", p.patches.Load())
	}
	rep := readReport(t, repPath)
	if !rep.Interrupted {
		t.Error("the report does not say it was interrupted")
	}
	// One worker: the first user's request was in flight and finished, the
	// others were never sent.
	wantOutcomes(t, rep, ctl.Changed, ctl.Skipped, ctl.Skipped)
	if !strings.Contains(errb.String(), "interrupted: starting no new request") {
		t.Errorf("stderr:\n%s", errb.String())
	}
}

func TestCompletionAndHelp(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "__start_licensesctl", "zsh": "#compdef licensesctl", "fish": "complete -c licensesctl", "powershell": "Register-ArgumentCompleter"} {
		r := run(t, nil, "", "completion", shell).must(t, 0)
		if !strings.Contains(r.stdout, marker) {
			t.Errorf("completion %s lacks %q", shell, marker)
		}
	}
	for _, c := range [][]string{{"customers", "list"}, {"customers", "get"}, {"provider-instances", "list"}, {"licenses", "list"},
		{"users", "list"}, {"user-licenses", "get"}, {"user-licenses", "set"}, {"audit"}, {"apply"}, {"config", "show"}, {"completion"}, {}} {
		r := run(t, nil, "", append(c, "--help")...).must(t, 0)
		if !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("licensesctl %s --help has no examples:\n%s", strings.Join(c, " "), r.stdout)
		}
	}
}

func TestConnection_profilesWithFlagOverEnvironmentOverProfile(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	tok := filepath.Join(dir, "contoso.token")
	os.WriteFile(tok, []byte(cspToken(t)+"\n"), 0o600)
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("current-profile: contoso\nprofiles:\n  contoso:\n    url: %s\n    tenant: %s\n    token-file: %s\n  broken:\n    url: http://127.0.0.1:1\n    tenant: nowhere.test\n    token: x\n",
		s.url, demo.Tenant, tok)), 0o600)
	base := []string{"LICENSES_CONFIG=" + cfg}

	// The profile alone is enough.
	cs := decode[[]gen.Customer](t, run(t, base, "", "customers", "list", "-o", "json").must(t, 0).stdout)
	if len(cs) != 3 {
		t.Fatalf("customers through the profile: %+v", cs)
	}
	show := func(env []string, args ...string) map[string]string {
		return decode[map[string]string](t, run(t, env, "", append([]string{"config", "show", "-o", "json"}, args...)...).must(t, 0).stdout)
	}
	got := show(append(base, "LICENSES_PROFILE=broken", "LICENSES_TENANT=env.test"), "--url", "http://flag.test")
	if got["profile"] != "broken" || got["url"] != "http://flag.test" || got["urlFrom"] != "flag" || got["tenant"] != "env.test" ||
		got["tenantFrom"] != "environment" || got["tokenFrom"] != "profile broken" {
		t.Errorf("config show = %v", got)
	}
	if strings.Contains(fmt.Sprint(show(base)), cspToken(t)[20:]) {
		t.Error("config show printed the token")
	}
	// --profile over $LICENSES_PROFILE: the broken profile is not used.
	run(t, append(base, "LICENSES_PROFILE=broken"), "", "customers", "list", "--profile", "contoso").must(t, 0)
}

func TestApply_manyUsersOfOneCustomerAreReadInOneList(t *testing.T) {
	s := startServer(t)
	p := startProxy(t, s.url)
	env := conn(t, p.url)
	users := decode[[]gen.CustomerUser](t, run(t, env, "", "users", "list", "--customer", fabrikam, "--all", "-o", "json").must(t, 0).stdout)
	var rows []string
	for _, u := range users[:25] {
		rows = append(rows, strings.ToUpper(u.UserPrincipalName)+",Power BI Pro,remove") // nobody holds it
	}
	rows = append(rows, "nobody@fabrikam.test,Power BI Pro,remove")
	before := p.userLists.Load()
	repPath := filepath.Join(t.TempDir(), "report.json")
	run(t, env, "", "apply", "-f", bulk(t, rows...), "--report", repPath).must(t, 1)
	if n := p.userLists.Load() - before; n != 1 {
		t.Errorf("%d user list requests for 26 userPrincipalNames of one customer, want 1", n)
	}
	rep := readReport(t, repPath)
	if rep.Summary.Unchanged != 25 || rep.Summary.Impossible != 1 {
		t.Errorf("summary %+v", rep.Summary)
	}
	if rep.Rows[0].UserID == nil || *rep.Rows[0].UserID != users[0].Id {
		t.Errorf("row 1 resolved to %v, want %s", rep.Rows[0].UserID, users[0].Id)
	}
}

func TestCompletion_suggestsCustomerNamesAndAliasesFromTheAPI(t *testing.T) {
	s := startServer(t)
	env := conn(t, s.url)
	r := run(t, env, "", "__complete", "customers", "get", "nor").must(t, 0)
	if !strings.Contains(r.stdout, "Northwind Traders\t9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c22") || strings.Contains(r.stdout, "Fabrikam") {
		t.Errorf("customers get completion:\n%s", r.stdout)
	}
	r = run(t, env, "", "__complete", "users", "list", "--customer", "").must(t, 0)
	for _, want := range []string{"Fabrikam", "Northwind Traders", "Tailspin Toys"} {
		if !strings.Contains(r.stdout, want+"\t") {
			t.Errorf("--customer completion lacks %s:\n%s", want, r.stdout)
		}
	}
	r = run(t, env, "", "__complete", "licenses", "list", "--customer", "Fabrikam", "--provider-instance", "Contoso C").must(t, 0)
	if !strings.Contains(r.stdout, "Contoso CSP\tmicrosoft") || strings.Contains(r.stdout, "Contoso AWS") {
		t.Errorf("--provider-instance completion:\n%s", r.stdout)
	}
	// Without a connection there is nothing to suggest, and no error.
	r = run(t, nil, "", "__complete", "customers", "get", "").must(t, 0)
	if strings.Contains(r.stdout, "Fabrikam") {
		t.Errorf("suggestions without a connection:\n%s", r.stdout)
	}
}
