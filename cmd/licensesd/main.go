// Command licensesd serves the customer user licenses API. It only parses
// flags (each with an environment fallback, see settings.go) and wires
// internal/daemon.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/daemon"
	"github.com/cloudcockpit-oss/userlicenses/internal/demo"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/webui"
)

const long = `licensesd serves the CloudCockpit "update a customer user's licenses" API.

Commands:
  licensesd serve [flags]        serve the API
  licensesd seed [flags] FILE    import a directory snapshot (JSON), idempotently
  licensesd migrate [flags]      apply the schema migrations and exit
  licensesd sync [flags]         mirror every customer linked to a Microsoft Graph instance once, and exit
                                 (0 when every customer synced; 1 naming those that failed)
  licensesd demo [flags]         serve a fresh database with demo data; prints a token and a curl example
                                 (--graph-sandbox: one more customer behind an in-process fake Microsoft Graph)

Every flag falls back to the environment variable named in its description; a bad value from
either exits 2 naming it. Run "licensesd COMMAND --help" for the flags of a command.`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// usageError is a mistake on the command line or in the environment: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// run runs licensesd with the arguments and returns its exit code: 0 done,
// 1 failed, 2 a usage error (a bad flag, variable or argument).
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := &cobra.Command{
		Use:           "licensesd",
		Short:         "Serve the customer user licenses API",
		Long:          long,
		SilenceErrors: true,
		SilenceUsage:  true,
		// No command is a usage error, after the help.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(stderr)
			_ = cmd.Help()
			return usageError{errors.New("a command is required")}
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%v (see %s --help)", err, c.CommandPath())}
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// command builds one subcommand over its own configuration: only its
	// settings are declared, so --help shows exactly them.
	command := func(name, short, example string, args cobra.PositionalArgs, do func(ctx context.Context, cfg daemon.Config, args []string) error) *cobra.Command {
		cfg := &daemon.Config{}
		level := new(slog.LevelVar)
		c := &cobra.Command{Use: name, Short: short, Example: example, Args: args}
		mine := declare(c.Flags(), name, settings(cfg, level))
		if name == cmdDemo {
			// A fresh temporary database unless one is named.
			_ = c.Flags().Set("database", "")
			c.Flags().Lookup("database").DefValue = ""
			c.Flags().Lookup("database").Changed = false
		}
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if err := applyEnvironment(cmd.Flags(), mine, getenv); err != nil {
				return usageError{err}
			}
			cfg.Logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
			return do(ctx, *cfg, args)
		}
		return c
	}
	var sandbox bool
	demoCmd := command(cmdDemo, "Serve a fresh database with the demo data; prints tokens and curl examples",
		"  licensesd demo\n  licensesd demo --addr 127.0.0.1:18080\n  licensesd demo --graph-sandbox",
		noArgs, func(ctx context.Context, cfg daemon.Config, _ []string) error {
			return runDemo(ctx, cfg, sandbox, stdout)
		})
	demoCmd.Flags().BoolVar(&sandbox, "graph-sandbox", false, "add a customer whose licenses live behind an in-process fake Microsoft Graph")
	root.AddCommand(
		command(cmdServe, "Serve the API until SIGTERM or SIGINT",
			"  LICENSES_JWT_SECRET=... licensesd serve --addr 127.0.0.1:8080 --database sqlite:licenses.db\n"+
				"  licensesd serve --database postgres://app@db:5432/licenses --jwks-url https://login.microsoftonline.com/TENANT/discovery/v2.0/keys --jwt-issuer ... --jwt-audience ...",
			noArgs, func(ctx context.Context, cfg daemon.Config, _ []string) error { return serve(ctx, cfg, nil) }),
		command(cmdSeed, "Import a directory snapshot (JSON), idempotently; a file that breaks a rule is rejected whole",
			"  licensesd seed --database sqlite:licenses.db internal/demo/demo.json",
			exactlyOneFile, func(ctx context.Context, cfg daemon.Config, args []string) error {
				return seed(ctx, cfg, args[0], stdout)
			}),
		command(cmdMigrate, "Apply the schema migrations and exit",
			"  timeout 300 licensesd migrate --database postgres://app@db:5432/licenses",
			noArgs, func(ctx context.Context, cfg daemon.Config, _ []string) error { return daemon.Migrate(ctx, cfg) }),
		command(cmdSync, "Mirror every customer linked to a Microsoft Graph instance once, and exit (1 naming the customers that failed)",
			"  licensesd sync --database postgres://app@db:5432/licenses",
			noArgs, func(ctx context.Context, cfg daemon.Config, _ []string) error { return runSync(ctx, cfg, stdout) }),
		demoCmd,
	)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "licensesd: %v\n", ue.err)
		return 2
	}
	if c, _, ferr := root.Find(args); ferr != nil || c == root {
		// Cobra's own: an unknown command.
		fmt.Fprintf(stderr, "licensesd: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "licensesd %s: %v\n", args[0], err)
	return 1
}

// noArgs refuses arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}

// exactlyOneFile is seed's argument check, a usage error otherwise.
func exactlyOneFile(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("seed: exactly one FILE is required, got %d arguments", len(args))}
	}
	return nil
}

// serve runs until ctx is done (SIGINT/SIGTERM), then shuts down
// gracefully. started, when not nil, is called once the server listens.
func serve(ctx context.Context, cfg daemon.Config, started func(*daemon.Main)) error {
	m, err := daemon.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if started != nil {
		started(m)
	}
	select {
	case err := <-m.Done():
		m.Store.Close()
		return err
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down")
	if err := m.Shutdown(context.Background()); err != nil {
		return err
	}
	return <-m.Done()
}

func seed(ctx context.Context, cfg daemon.Config, path string, stdout io.Writer) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var s licensing.Snapshot
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("%s is not a valid snapshot: %w", path, err)
	}
	if err := daemon.Seed(ctx, cfg, s); err != nil {
		return fmt.Errorf("%s rejected: %w", path, err)
	}
	fmt.Fprintf(stdout, "imported %s\n", path) // never echo the URL: it may hold a password
	return nil
}

// runSync runs one Graph sync pass and says how it went.
func runSync(ctx context.Context, cfg daemon.Config, stdout io.Writer) error {
	res, err := daemon.Sync(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "synced %d of %d customers (%d users seen)\n", res.Customers-len(res.Failed), res.Customers, res.Users)
	return res.Err()
}

// runDemo serves a freshly seeded database and prints how to call it.
func runDemo(ctx context.Context, cfg daemon.Config, sandbox bool, stdout io.Writer) error {
	if cfg.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "licensesd-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DatabaseURL = "sqlite:" + filepath.Join(dir, "demo.db")
	}
	if cfg.JWTSecret == "" && cfg.JWKSURL == "" {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		cfg.JWTSecret = hex.EncodeToString(key)
	}
	s, err := demo.Snapshot()
	if err != nil {
		return err
	}
	var box *demo.Sandbox
	if sandbox {
		box = demo.StartSandbox(&s)
		defer box.Close()
		cfg.Graph.URL, cfg.Graph.LoginURL, cfg.Graph.Secret = box.GraphURL(), box.LoginURL(), box.Secret
	}
	if err := daemon.Seed(ctx, cfg, s); err != nil {
		return err
	}
	if box != nil {
		res, err := daemon.Sync(ctx, cfg)
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			return fmt.Errorf("syncing the Graph sandbox: %w", err)
		}
	}
	csp, reseller := demoTokens(cfg.JWTSecret)
	if cfg.JWTSecret != "" {
		// The editor at /ui/ pre-fills these (only with our own HS256 key:
		// with a JWKS there are no demo tokens to give).
		cfg.Demo = &webui.Demo{Tenant: demo.Tenant, Token: csp, ResellerToken: reseller}
	}
	return serve(ctx, cfg, func(m *daemon.Main) {
		printDemo(stdout, m.URL(), csp, reseller)
		if box != nil {
			printSandbox(stdout, m.URL(), box)
		}
	})
}

func demoTokens(secret string) (csp, reseller string) {
	exp := time.Now().Add(24 * time.Hour)
	csp, _ = auth.SignHS256([]byte(secret), auth.Claims{Subject: "demo-csp", Tenant: demo.Tenant, Roles: []string{"csp"}, ExpiresAt: exp})
	reseller, _ = auth.SignHS256([]byte(secret), auth.Claims{Subject: "demo-reseller", Tenant: demo.Tenant,
		Roles: []string{"reseller"}, ResellerID: demo.AdatumResellerID, ExpiresAt: exp})
	return csp, reseller
}

func printDemo(w io.Writer, url, csp, reseller string) {
	fmt.Fprintf(w, `licensesd demo is serving %[1]s with demo data (tenant %[2]s).

In a browser: the license editor %[1]s/ui/ (signed in with the csp token below at one click)
and the API reference %[1]s/docs (spec: %[1]s/openapi.yaml).

A csp token (valid 24h):
TOKEN=%[3]s

A reseller token for Adatum Reseller (sees Northwind Traders only):
RESELLER_TOKEN=%[4]s

The check boxes of Ada Lovelace's licenses:
curl -s -H "X-Tenant: %[2]s" -H "Authorization: Bearer $TOKEN" \
  '%[1]s/v1/Customers/%[5]s/users/%[6]s/licenses?providerInstanceId=%[7]s'

Give her Microsoft 365 E3:
curl -i -X PATCH -H "X-Tenant: %[2]s" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
  -d '{"providerInstanceId":"%[7]s","customerUserLicenses":[{"skuId":"%[8]s","isSelected":true}]}' \
  '%[1]s/v1/Customers/%[5]s/users/%[6]s/licenses'

Try Exchange Online (Plan 1), which has no seat left (400), then read the audit trail:
curl -s -H "X-Tenant: %[2]s" -H "Authorization: Bearer $TOKEN" '%[1]s/v1/AuditLogs'

Stop with Ctrl-C.
`, url, demo.Tenant, csp, reseller, demo.FabrikamID, demo.AdaID, demo.MicrosoftInstanceID, demo.E3SKU)
}

func printSandbox(w io.Writer, url string, box *demo.Sandbox) {
	fmt.Fprintf(w, `
Graph sandbox: customer %[2]s is linked to a fake Microsoft 365 tenant served in-process at %[3]s
(provider instance %[4]s, directory "graph"). Its users and licenses come from that Graph:

curl -s -H "X-Tenant: %[5]s" -H "Authorization: Bearer $TOKEN" \
  '%[1]s/v1/Customers/%[2]s/users?providerInstanceId=%[4]s'

Give Megan Bowen Power BI Pro (one assignLicense call to Graph, audited Processing then Succeded):
curl -i -X PATCH -H "X-Tenant: %[5]s" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
  -d '{"providerInstanceId":"%[4]s","customerUserLicenses":[{"skuId":"%[6]s","isSelected":true}]}' \
  '%[1]s/v1/Customers/%[2]s/users/%[7]s/licenses'

Nolan Location (%[8]s) has no usage location: assigning him a license is a 400 saying how to fix it.
`, url, demo.SandboxCustomerID, box.GraphURL(), demo.SandboxInstanceID, demo.Tenant, demo.SandboxPBISKU, demo.SandboxUserID, demo.SandboxNoLocationUserID)
}
