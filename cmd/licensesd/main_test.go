package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
)

// binary is the licensesd built once for these tests: they exercise the
// real program, its flags, exit codes and signals.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "licensesd-test-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "licensesd")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building licensesd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testSecret = "command-tests-secret-of-at-least-32-bytes"

func licensesd(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// cleanEnv drops LICENSES_* variables of the caller so that each test
// states its whole configuration.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LICENSES_") {
			env = append(env, kv)
		}
	}
	return env
}

func TestHelp_documentsEveryFlagWithItsVariable(t *testing.T) {
	out, code := licensesd(t, nil, "serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, v := range []string{"LICENSES_ADDR", "LICENSES_DATABASE_URL", "LICENSES_JWT_SECRET", "LICENSES_JWKS_URL",
		"LICENSES_JWT_ISSUER", "LICENSES_JWT_AUDIENCE", "LICENSES_SHUTDOWN_TIMEOUT", "LICENSES_PG_MAX_CONNS",
		"LICENSES_PG_CONNECT_TIMEOUT", "LICENSES_PG_STATEMENT_TIMEOUT", "LICENSES_SKIP_MIGRATIONS", "LICENSES_LOG_LEVEL",
		"LICENSES_GRAPH_URL", "LICENSES_GRAPH_LOGIN_URL", "LICENSES_GRAPH_TIMEOUT", "LICENSES_GRAPH_SYNC_INTERVAL"} {
		if !strings.Contains(out, v) {
			t.Errorf("--help does not mention %s", v)
		}
	}
	if out, code := licensesd(t, nil, "--help"); code != 0 || !strings.Contains(out, "licensesd seed") {
		t.Errorf("top-level help: exit %d: %s", code, out)
	}
}

func TestServe_refusesToStartWithoutTokenVerification(t *testing.T) {
	out, code := licensesd(t, []string{"LICENSES_DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "x.db")}, "serve")
	if code == 0 || !strings.Contains(out, "LICENSES_JWT_SECRET") {
		t.Fatalf("exit %d: %s", code, out)
	}
	out, code = licensesd(t, []string{"LICENSES_JWT_SECRET=short"}, "serve", "--database", "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if code == 0 || !strings.Contains(out, "32") {
		t.Fatalf("a short secret: exit %d: %s", code, out)
	}
}

func TestSeed_isIdempotentAndRejectsBadFilesWhole(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "seed.db")
	file := filepath.Join("..", "..", "internal", "demo", "demo.json")
	for i := 0; i < 2; i++ {
		if out, code := licensesd(t, nil, "seed", "--database", db, file); code != 0 {
			t.Fatalf("seed #%d: exit %d: %s", i+1, code, out)
		}
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	broken := bytes.Replace(raw, []byte(`"totalLicenses": 10`), []byte(`"totalLicenses": 2`), 1)
	if err := os.WriteFile(bad, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := licensesd(t, nil, "seed", "--database", db, bad)
	if code == 0 || !strings.Contains(out, "tenants[0].customers[0].licenses[0].assignedUserIds") {
		t.Fatalf("a seed with more assignments than seats: exit %d: %s", code, out)
	}
}

// startServe runs licensesd serve on a free loopback port with env and
// args (bounded to a minute) and returns it with its base URL, read from
// its "serving" log line.
func startServe(t *testing.T, env []string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`"addr":"([^"]+)"`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("licensesd did not report its address")
		return nil, ""
	}
}

// TestServe_SIGTERMFinishesInFlightRequestsAndExitsZero sends SIGTERM
// while a PATCH is still uploading its body: the request completes with
// 200, then the process exits 0.
func TestServe_SIGTERMFinishesInFlightRequestsAndExitsZero(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "serve.db")
	if out, code := licensesd(t, nil, "seed", "--database", db, filepath.Join("..", "..", "internal", "demo", "demo.json")); code != 0 {
		t.Fatalf("seed: %s", out)
	}
	cmd, base := startServe(t, []string{"LICENSES_JWT_SECRET=" + testSecret}, "--database", db)
	tok, _ := auth.SignHS256([]byte(testSecret), auth.Claims{Subject: "t", Tenant: demo.Tenant, Roles: []string{"csp"}, ExpiresAt: time.Now().Add(time.Hour)})
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPatch, base+"/v1/Customers/"+demo.FabrikamID+"/users/"+demo.AdaID+"/licenses", pr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Tenant", demo.Tenant)
	req.Header.Set("Authorization", "Bearer "+tok)
	result := make(chan int, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("in-flight request failed: %v", err)
			result <- 0
			return
		}
		res.Body.Close()
		result <- res.StatusCode
	}()
	body := `{"providerInstanceId":"` + demo.MicrosoftInstanceID + `","customerUserLicenses":[{"skuId":"` + demo.E3SKU + `","isSelected":true}]}`
	io.WriteString(pw, body[:20])
	time.Sleep(300 * time.Millisecond) // the server is now reading the body
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	io.WriteString(pw, body[20:])
	pw.Close()
	if code := <-result; code != 200 {
		t.Fatalf("in-flight PATCH answered %d, want 200", code)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("licensesd did not exit 0 after SIGTERM: %v", err)
	}
}

func TestConfiguration_aBadValueFromFlagOrEnvironmentExits2NamingIt(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	secret := "LICENSES_JWT_SECRET=" + testSecret
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"durationFromEnvironment", []string{secret, "LICENSES_SHUTDOWN_TIMEOUT=fifteen"}, []string{"serve", "--database", db}, `invalid value "fifteen" for $LICENSES_SHUTDOWN_TIMEOUT (--shutdown-timeout)`},
		{"durationFromFlag", []string{secret}, []string{"serve", "--database", db, "--shutdown-timeout", "fifteen"}, `"fifteen" for "--shutdown-timeout"`},
		{"negativeDurationFromEnvironment", []string{secret, "LICENSES_READ_TIMEOUT=-1s"}, []string{"serve", "--database", db}, "$LICENSES_READ_TIMEOUT: --read-timeout -1s: must not be negative"},
		{"negativeDurationFromFlag", []string{secret}, []string{"serve", "--database", db, "--write-timeout=-2s"}, "--write-timeout -2s: must not be negative"},
		{"intFromEnvironment", []string{secret, "LICENSES_PG_MAX_CONNS=many"}, []string{"serve", "--database", db}, "$LICENSES_PG_MAX_CONNS (--pg-max-conns)"},
		{"zeroConnections", []string{secret, "LICENSES_MAX_CONNECTIONS=0"}, []string{"serve", "--database", db}, "--max-connections 0: must be at least 1"},
		{"boolFromEnvironment", []string{secret, "LICENSES_SKIP_MIGRATIONS=maybe"}, []string{"serve", "--database", db}, "$LICENSES_SKIP_MIGRATIONS"},
		{"syncIntervalFromEnvironment", []string{secret, "LICENSES_GRAPH_SYNC_INTERVAL=often"}, []string{"serve", "--database", db}, `invalid value "often" for $LICENSES_GRAPH_SYNC_INTERVAL`},
		{"negativeSyncInterval", []string{secret}, []string{"serve", "--database", db, "--graph-sync-interval=-1m"}, "must not be negative (0 turns syncing off)"},
		{"graphTimeoutForSync", []string{"LICENSES_GRAPH_TIMEOUT=soon"}, []string{"sync", "--database", db}, "$LICENSES_GRAPH_TIMEOUT (--graph-timeout)"},
		{"logLevelFromEnvironment", []string{"LICENSES_LOG_LEVEL=loud"}, []string{"migrate", "--database", db}, "$LICENSES_LOG_LEVEL (--log-level): want debug, info, warn or error"},
		{"logLevelFromFlag", nil, []string{"migrate", "--database", db, "--log-level", "loud"}, `"loud" for "--log-level"`},
		{"aFlagOfAnotherCommand", nil, []string{"migrate", "--database", db, "--addr", ":1"}, "unknown flag: --addr"},
		{"unknownCommand", nil, []string{"serv"}, `unknown command "serv"`},
		{"noCommand", nil, nil, "a command is required"},
		{"seedWithoutAFile", nil, []string{"seed", "--database", db}, "exactly one FILE"},
		{"anArgumentMigrateDoesNotTake", nil, []string{"migrate", "--database", db, "now"}, `licensesd migrate takes no arguments, got ["now"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := licensesd(t, tt.env, tt.args...)
			if code != 2 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want 2 with %q:\n%s", code, tt.want, out)
			}
		})
	}
	// A variable of another command is not this command's business.
	if out, code := licensesd(t, []string{"LICENSES_ADDR=not-an-address", "LICENSES_SHUTDOWN_TIMEOUT=fifteen"}, "migrate", "--database", db); code != 0 {
		t.Errorf("migrate with serve's variables set: exit %d: %s", code, out)
	}
	// The flag wins over the variable.
	if out, code := licensesd(t, []string{"LICENSES_LOG_LEVEL=loud"}, "migrate", "--database", db, "--log-level", "warn"); code != 0 {
		t.Errorf("a flag over a bad variable: exit %d: %s", code, out)
	}
}

func TestHelp_eachCommandShowsOnlyItsFlagsWithoutGarbling(t *testing.T) {
	tests := []struct {
		cmd           string
		want, notWant []string
	}{
		{"serve", []string{"--addr", "--jwt-secret", "--jwks-url", "--skip-migrations", "--pg-max-conns", "--log-level"}, nil},
		{"migrate", []string{"--database", "--pg-connect-timeout", "--log-level"}, []string{"--addr", "--jwt-secret", "--shutdown-timeout", "--skip-migrations", "--max-in-flight"}},
		{"seed", []string{"--database", "--log-level"}, []string{"--addr", "--jwt-secret", "--jwks-url"}},
		{"demo", []string{"--addr", "--database", "--jwt-secret", "--shutdown-timeout", "--graph-sandbox", "--graph-sync-interval"}, []string{"--skip-migrations", "--jwks-url", "--jwt-issuer"}},
		{"sync", []string{"--database", "--graph-url", "--graph-login-url", "--graph-timeout", "--log-level"}, []string{"--addr", "--jwt-secret", "--graph-sync-interval", "--graph-sandbox", "--skip-migrations"}},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			out, code := licensesd(t, nil, tt.cmd, "--help")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w+" ") {
					t.Errorf("%s --help lacks %s", tt.cmd, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w+" ") {
					t.Errorf("%s --help shows %s, which is not its flag", tt.cmd, w)
				}
			}
			if strings.Contains(out, "`") {
				t.Errorf("%s --help has a backquote, which pflag garbles:\n%s", tt.cmd, out)
			}
			if !strings.Contains(out, "Examples:") {
				t.Errorf("%s --help has no example", tt.cmd)
			}
		})
	}
	// The one place pflag would garble: --skip-migrations names a command.
	out, _ := licensesd(t, nil, "serve", "--help")
	if !regexp.MustCompile(`--skip-migrations\s+do not apply PostgreSQL migrations at start \(run licensesd migrate instead\)`).MatchString(out) {
		t.Errorf("--skip-migrations help is garbled:\n%s", out)
	}
}
