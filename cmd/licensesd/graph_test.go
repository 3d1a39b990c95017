package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// licensesd sync exits non-zero naming the customer that did not sync
// (here: its graph app's secret variable is unset), and says nothing of
// any secret.
func TestSync_namesTheCustomersThatFailed(t *testing.T) {
	s, err := demo.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	box := demo.StartSandbox(&s) // adds a graph instance and a linked customer
	defer box.Close()
	raw, _ := json.Marshal(s)
	file := filepath.Join(t.TempDir(), "graph.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "sync.db")
	if out, code := licensesd(t, nil, "seed", "--database", db, file); code != 0 {
		t.Fatalf("seed: %d %s", code, out)
	}
	out, code := licensesd(t, nil, "sync", "--database", db, "--graph-url", box.GraphURL(), "--graph-login-url", box.LoginURL())
	if code != 1 || !strings.Contains(out, demo.SandboxCustomerID) || !strings.Contains(out, "LICENSES_SANDBOX_GRAPH_SECRET") {
		t.Fatalf("sync without the app's secret: exit %d: %s\nwant 1, naming the customer and the unset variable", code, out)
	}
	secret, _ := box.Secret(licensing.GraphApp{})
	out, code = licensesd(t, []string{"LICENSES_SANDBOX_GRAPH_SECRET=" + secret}, "sync", "--database", db,
		"--graph-url", box.GraphURL(), "--graph-login-url", box.LoginURL())
	if code != 0 || !strings.Contains(out, "synced 1 of 1 customers") || strings.Contains(out, secret) {
		t.Fatalf("sync with the secret: exit %d: %s", code, out)
	}
}

// licensesd demo --graph-sandbox serves a customer behind the in-process
// fake Graph, already synced.
func TestDemo_graphSandboxServesACustomerFromGraph(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "demo", "--graph-sandbox", "--addr", "127.0.0.1:0")
	cmd.Env = cleanEnv()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var url, token string
	sc := bufio.NewScanner(stdout)
	serving := regexp.MustCompile(`serving (http://\S+) with demo data`)
	for sc.Scan() {
		line := sc.Text()
		if m := serving.FindStringSubmatch(line); m != nil {
			url = m[1]
		}
		if strings.HasPrefix(line, "TOKEN=") {
			token = strings.TrimPrefix(line, "TOKEN=")
		}
		if strings.HasPrefix(line, "Graph sandbox:") {
			break
		}
	}
	if url == "" || token == "" {
		t.Fatal("the demo did not print its address, token and the sandbox")
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/v1/Customers/"+demo.SandboxCustomerID+"/users?providerInstanceId="+demo.SandboxInstanceID, nil)
	req.Header.Set("X-Tenant", demo.Tenant)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		TotalCount int `json:"totalCount"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != 200 || page.TotalCount != 16 {
		t.Fatalf("users of the sandbox customer: %d %v %+v, want 200 and the sandbox's 16 users", res.StatusCode, err, page)
	}
}

// A licensesd killed (SIGKILL) after writing the Processing record and
// while Graph is applying the change leaves the record Processing; the next
// sync settles it against what Graph holds.
func TestGraph_aCrashDuringTheGraphCallIsSettledByTheNextSync(t *testing.T) {
	s, err := demo.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	box := demo.StartSandbox(&s)
	defer box.Close()
	secret, _ := box.Secret(licensing.GraphApp{})
	raw, _ := json.Marshal(s)
	file := filepath.Join(t.TempDir(), "graph.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "crash.db")
	db := "sqlite:" + dbPath
	env := []string{"LICENSES_SANDBOX_GRAPH_SECRET=" + secret, "LICENSES_GRAPH_URL=" + box.GraphURL(), "LICENSES_GRAPH_LOGIN_URL=" + box.LoginURL(),
		"LICENSES_DATABASE_URL=" + db}
	if out, code := licensesd(t, env, "seed", file); code != 0 {
		t.Fatalf("seed: %s", out)
	}
	if out, code := licensesd(t, env, "sync"); code != 0 {
		t.Fatalf("sync: %s", out)
	}

	cmd, base := startServe(t, append(env, "LICENSES_JWT_SECRET="+testSecret), "--graph-sync-interval", "0")
	hit, release := make(chan struct{}), make(chan struct{})
	box.OnAssign(func() { close(hit); <-release })
	tok, _ := auth.SignHS256([]byte(testSecret), auth.Claims{Subject: "t", Tenant: demo.Tenant, Roles: []string{"csp"}, ExpiresAt: time.Now().Add(time.Hour)})
	go func() {
		body := `{"providerInstanceId":"` + demo.SandboxInstanceID + `","customerUserLicenses":[{"skuId":"` + demo.SandboxPBISKU + `","isSelected":true}]}`
		req, _ := http.NewRequest(http.MethodPatch, base+"/v1/Customers/"+demo.SandboxCustomerID+"/users/"+demo.SandboxUserID+"/licenses", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Tenant", demo.Tenant)
		req.Header.Set("Authorization", "Bearer "+tok)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close() // the process is killed before it answers
		}
	}()
	select {
	case <-hit:
	case <-time.After(30 * time.Second):
		t.Fatal("the PATCH never reached assignLicense")
	}
	cmd.Process.Kill()
	cmd.Wait()
	close(release) // Graph applies the change the dead process asked for
	box.OnAssign(nil)

	cfg := daemon.Config{DatabaseURL: db, Graph: daemon.GraphConfig{URL: box.GraphURL(), LoginURL: box.LoginURL(), Secret: box.Secret}}
	status := func() []licensing.Status {
		store, err := daemon.OpenStore(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		page, err := store.AuditRecords(context.Background(), licensing.AuditQuery{Scope: licensing.Scope{Tenant: demo.Tenant}, Page: licensing.Page{Number: 1, Size: 10}})
		if err != nil {
			t.Fatal(err)
		}
		var out []licensing.Status
		for _, r := range page.Items {
			out = append(out, r.Status)
		}
		return out
	}
	if got := status(); len(got) != 1 || got[0] != licensing.StatusProcessing {
		t.Fatalf("after the crash the records are %v, want one Processing", got)
	}
	// A sync soon after leaves it alone (the request might still be
	// waiting for Graph); one after the request's budget settles it.
	if res, err := daemon.Sync(context.Background(), cfg); err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if got := status(); got[0] != licensing.StatusProcessing {
		t.Fatalf("a sync right after the crash settled a record that may still be in flight: %v", got)
	}
	cfg.Now = func() time.Time { return time.Now().Add(5 * time.Minute) }
	if res, err := daemon.Sync(context.Background(), cfg); err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if got := status(); len(got) != 1 || got[0] != licensing.StatusSucceeded {
		t.Fatalf("after the sync the records are %v, want Succeded (Graph holds the license)", got)
	}
}
