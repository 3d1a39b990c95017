package ctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveConnection_precedenceFlagEnvironmentProfile(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "tok")
	os.WriteFile(tokFile, []byte("  token-from-file\n"), 0o600)
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`current-profile: main
profiles:
  main:
    url: http://main.test
    tenant: main.test
    token: main-token
  other:
    url: http://other.test
    tenant: other.test
    token-file: `+tokFile+`
`), 0o600)
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}
	tests := []struct {
		name                   string
		flags                  connFlags
		env                    map[string]string
		url, tenant, token     string
		urlFrom, tokenFromPart string
	}{
		{"currentProfile", connFlags{config: cfg}, nil, "http://main.test", "main.test", "main-token", "profile main", "profile main"},
		{"environmentOverProfile", connFlags{config: cfg}, map[string]string{"LICENSES_URL": "http://env.test", "LICENSES_TOKEN": "env-token"},
			"http://env.test", "main.test", "env-token", "environment", "environment"},
		{"flagOverEnvironment", connFlags{config: cfg, url: "http://flag.test", tokenFile: tokFile}, map[string]string{"LICENSES_URL": "http://env.test", "LICENSES_TOKEN": "env-token"},
			"http://flag.test", "main.test", "token-from-file", "flag", "flag (file"},
		{"profileFlagOverEnvironmentProfile", connFlags{config: cfg, profile: "other"}, map[string]string{"LICENSES_PROFILE": "main"},
			"http://other.test", "other.test", "token-from-file", "profile other", "profile other (file"},
		{"profileFromEnvironment", connFlags{config: cfg}, map[string]string{"LICENSES_PROFILE": "other"},
			"http://other.test", "other.test", "token-from-file", "profile other", "profile other"},
		{"configFromEnvironment", connFlags{}, map[string]string{"LICENSES_CONFIG": cfg}, "http://main.test", "main.test", "main-token", "profile main", "profile main"},
		{"xdgConfigHome", connFlags{}, map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "none")}, "", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := resolveConnection(tt.flags, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.URL != tt.url || c.Tenant != tt.tenant || c.Token != tt.token || c.URLFrom != tt.urlFrom || !strings.HasPrefix(c.TokenFrom, tt.tokenFromPart) {
				t.Errorf("got %+v, want url %q (%s) tenant %q token %q (%s…)", c, tt.url, tt.urlFrom, tt.tenant, tt.token, tt.tokenFromPart)
			}
		})
	}
}

func TestResolveConnection_mistakesAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("profiles:\n  main:\n    tennant: x\n"), 0o600)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("profiles:\n  main:\n    url: http://x\n"), 0o600)
	none := func(string) string { return "" }
	tests := []struct {
		name  string
		flags connFlags
		want  string
	}{
		{"misspeltKey", connFlags{config: bad}, `unknown field "tennant"`},
		{"unknownProfile", connFlags{config: good, profile: "prod"}, `no profile "prod"`},
		{"missingTokenFile", connFlags{config: good, tokenFile: filepath.Join(dir, "nope")}, "reading the token file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolveConnection(tt.flags, none)
			var ee *exitError
			if err == nil || !strings.Contains(err.Error(), tt.want) || !asExit(err, &ee) || ee.code != ExitUsage {
				t.Fatalf("err = %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
	c := Connection{URL: "ftp://x", Tenant: "t", Token: "k"}
	if err := c.complete(); err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Errorf("complete(ftp) = %v", err)
	}
	if err := (Connection{}).complete(); err == nil || !strings.Contains(err.Error(), "--url") || !strings.Contains(err.Error(), "--tenant") || !strings.Contains(err.Error(), "--token") {
		t.Errorf("complete(empty) = %v, want it to name what is missing and how to give it", err)
	}
}

func asExit(err error, target **exitError) bool {
	e, ok := err.(*exitError)
	*target = e
	return ok
}
