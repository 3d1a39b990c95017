package ctl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
)

// TestApply_aTerminalGetsAProgressBar runs licensesctl in-process, as if
// stderr were a terminal, against an in-process licensesd.
func TestApply_aTerminalGetsAProgressBar(t *testing.T) {
	const secret = "ctl-in-process-secret-of-at-least-32-bytes"
	cfg := daemon.Config{Addr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "l.db"), JWTSecret: secret}
	snap, err := demo.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := daemon.Seed(context.Background(), cfg, snap); err != nil {
		t.Fatal(err)
	}
	m, err := daemon.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown(context.Background()) })
	tok, _ := auth.SignHS256([]byte(secret), auth.Claims{Subject: "t", Tenant: demo.Tenant, Roles: []string{"csp"}, ExpiresAt: time.Now().Add(time.Hour)})
	file := filepath.Join(t.TempDir(), "c.csv")
	os.WriteFile(file, []byte(fmt.Sprintf("customerId,user,providerInstanceId,sku,action\n%[1]s,ada.lovelace@fabrikam.test,%[2]s,Microsoft 365 E3,assign\n%[1]s,anita.borg@fabrikam.test,%[2]s,Microsoft 365 E3,assign\n",
		demo.FabrikamID, demo.MicrosoftInstanceID)), 0o600)
	env := map[string]string{"LICENSES_URL": m.URL(), "LICENSES_TENANT": demo.Tenant, "LICENSES_TOKEN": tok}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"apply", "-f", file}, Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] },
		StderrIsTerminal: true,
	})
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if s := stderr.String(); !strings.Contains(s, "applying") || !strings.Contains(s, "2/2") || !strings.Contains(s, "\r") || strings.Contains(s, "[1/2]") {
		t.Errorf("a terminal gets a bar, not lines: %q", s)
	}
	if !strings.Contains(stdout.String(), "Applied: 2 changed") {
		t.Errorf("stdout: %s", stdout.String())
	}
}
