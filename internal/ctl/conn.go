package ctl

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Config is the file $XDG_CONFIG_HOME/licensesctl/config.yaml: named
// profiles, one per portal, and the one used when none is chosen.
//
//	current-profile: contoso
//	profiles:
//	  contoso:
//	    url: https://licenses.contoso.example
//	    tenant: portal.contoso.example
//	    token-file: ~/.config/licensesctl/contoso.token
type Config struct {
	CurrentProfile string             `json:"current-profile,omitempty"`
	Profiles       map[string]Profile `json:"profiles,omitempty"`
}

// Profile is how to reach one portal. A token in the file is allowed, a
// token file is better (the config file can then be shared).
type Profile struct {
	URL       string `json:"url,omitempty"`
	Tenant    string `json:"tenant,omitempty"`
	Token     string `json:"token,omitempty"`
	TokenFile string `json:"token-file,omitempty"`
}

// Connection is where and as whom licensesctl calls the API, with where
// each value came from (for `config show` and for error messages).
type Connection struct {
	URL, Tenant, Token             string
	URLFrom, TenantFrom, TokenFrom string
	Profile                        string
	ConfigPath                     string
}

// connFlags are the connection flags as given; empty means not given.
type connFlags struct {
	url, tenant, token, tokenFile, profile, config string
}

// configPath is --config, $LICENSES_CONFIG, then the XDG location.
func configPath(f connFlags, getenv func(string) string) string {
	if f.config != "" {
		return f.config
	}
	if p := getenv("LICENSES_CONFIG"); p != "" {
		return p
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "licensesctl", "config.yaml")
}

// loadConfig reads the config file; a missing file is an empty config.
// Unknown keys are refused so that a misspelt "tennant" does not silently
// fall back to another value.
func loadConfig(path string) (Config, error) {
	var c Config
	if path == "" {
		return c, nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, usageErrorf("reading the config file %s: %v", path, unwrapPathError(err))
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return c, nil
	}
	if err := yaml.UnmarshalStrict(raw, &c); err != nil {
		return c, usageErrorf("the config file %s is not valid: %v", path, err)
	}
	return c, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// resolveConnection applies the precedence flag > environment > profile,
// as kubectl and gh do, value by value. The profile is --profile, then
// $LICENSES_PROFILE, then the file's current-profile.
func resolveConnection(f connFlags, getenv func(string) string) (Connection, error) {
	c := Connection{ConfigPath: configPath(f, getenv)}
	cfg, err := loadConfig(c.ConfigPath)
	if err != nil {
		return c, err
	}
	var prof Profile
	switch {
	case f.profile != "":
		c.Profile = f.profile
	case getenv("LICENSES_PROFILE") != "":
		c.Profile = getenv("LICENSES_PROFILE")
	default:
		c.Profile = cfg.CurrentProfile
	}
	if c.Profile != "" {
		p, ok := cfg.Profiles[c.Profile]
		if !ok {
			return c, usageErrorf("no profile %q in %s (profiles: %s)", c.Profile, c.ConfigPath, profileNames(cfg))
		}
		prof = p
	}
	from := func(flag, env, profile string) (string, string) {
		switch {
		case flag != "":
			return flag, "flag"
		case env != "":
			return env, "environment"
		case profile != "":
			return profile, "profile " + c.Profile
		}
		return "", ""
	}
	c.URL, c.URLFrom = from(f.url, getenv("LICENSES_URL"), prof.URL)
	c.Tenant, c.TenantFrom = from(f.tenant, getenv("LICENSES_TENANT"), prof.Tenant)
	// A token and a token file at one level: the token wins, as the more
	// explicit of the two.
	type tokenSource struct{ token, file, from string }
	sources := []tokenSource{
		{f.token, f.tokenFile, "flag"},
		{getenv("LICENSES_TOKEN"), getenv("LICENSES_TOKEN_FILE"), "environment"},
		{prof.Token, prof.TokenFile, "profile " + c.Profile},
	}
	for _, s := range sources {
		if s.token != "" {
			c.Token, c.TokenFrom = strings.TrimSpace(s.token), s.from
			break
		}
		if s.file != "" {
			tok, err := readTokenFile(expandHome(s.file, getenv))
			if err != nil {
				return c, err
			}
			c.Token, c.TokenFrom = tok, s.from+" (file "+s.file+")"
			break
		}
	}
	return c, nil
}

func profileNames(cfg Config) string {
	if len(cfg.Profiles) == 0 {
		return "none"
	}
	var names []string
	for n := range cfg.Profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func expandHome(p string, getenv func(string) string) string {
	if strings.HasPrefix(p, "~/") {
		if home := getenv("HOME"); home != "" {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}

func readTokenFile(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", usageErrorf("reading the token file %s: %v", path, unwrapPathError(err))
	}
	tok := strings.TrimSpace(string(raw))
	if tok == "" {
		return "", usageErrorf("the token file %s is empty", path)
	}
	return tok, nil
}

// complete checks that the connection names a URL, a tenant and a token,
// saying how to give each that is missing.
func (c Connection) complete() error {
	var missing []string
	if c.URL == "" {
		missing = append(missing, "the API URL (--url, $LICENSES_URL or a profile's url)")
	}
	if c.Tenant == "" {
		missing = append(missing, "the tenant (--tenant, $LICENSES_TENANT or a profile's tenant)")
	}
	if c.Token == "" {
		missing = append(missing, "a token (--token, --token-file, $LICENSES_TOKEN, $LICENSES_TOKEN_FILE or a profile's token or token-file)")
	}
	if len(missing) > 0 {
		return usageErrorf("licensesctl needs %s", strings.Join(missing, "; "))
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("the API URL %q (from %s) is not an http(s) URL", c.URL, c.URLFrom)
	}
	return nil
}

// redact shows enough of a token to tell two apart, never enough to use.
func redact(tok string) string {
	if len(tok) <= 12 {
		return "(set, " + fmt.Sprint(len(tok)) + " characters)"
	}
	return tok[:6] + "…" + " (" + fmt.Sprint(len(tok)) + " characters)"
}
