package ctl

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// options are the flags every command shares.
type options struct {
	env     *Env
	conn    connFlags
	output  string
	timeout time.Duration
	retries int
	maxWait time.Duration
}

func newRoot(env *Env) *cobra.Command {
	o := &options{env: env}
	root := &cobra.Command{
		Use:   "licensesctl",
		Short: "Manage the licenses of CSP customers' users through the licenses API",
		Long: `licensesctl calls the CloudCockpit customer user licenses API: list customers, provider
instances, users and licenses, change one user's licenses, read the audit trail, and apply
bulk changes from a CSV or JSON file with a plan first, bounded parallelism, retries and a report.

Connection (each value: flag, then environment, then the profile):
  --url         $LICENSES_URL          the API's base URL
  --tenant      $LICENSES_TENANT       the portal domain (X-Tenant)
  --token       $LICENSES_TOKEN        a bearer token (JWT)
  --token-file  $LICENSES_TOKEN_FILE   a file holding the token
  --profile     $LICENSES_PROFILE      a profile of the config file
  --config      $LICENSES_CONFIG       the config file (default $XDG_CONFIG_HOME/licensesctl/config.yaml)

Exit codes: 0 done; 1 the API refused or failed (apply: a row failed, was impossible or was
not applied); 2 a usage error (flags, configuration, input file), nothing sent.`,
		Example: `  export LICENSES_URL=http://127.0.0.1:8080 LICENSES_TENANT=portal.contoso.test
  export LICENSES_TOKEN_FILE=~/.config/licensesctl/contoso.token
  licensesctl customers list --search fabri
  licensesctl user-licenses set --customer Fabrikam --user ada@fabrikam.test --assign "Microsoft 365 E3"
  licensesctl apply -f changes.csv --dry-run`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(o.output); err != nil {
				return err
			}
			if o.retries < 0 {
				return usageErrorf("--retries %d: want 0 or more", o.retries)
			}
			if o.timeout <= 0 {
				return usageErrorf("--timeout %s: want a positive duration", o.timeout)
			}
			return nil
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&o.conn.url, "url", "", "the API's base URL ($LICENSES_URL)")
	f.StringVar(&o.conn.tenant, "tenant", "", "the portal domain sent as X-Tenant ($LICENSES_TENANT)")
	f.StringVar(&o.conn.token, "token", "", "the bearer token ($LICENSES_TOKEN); prefer --token-file, which keeps it out of the process list")
	f.StringVar(&o.conn.tokenFile, "token-file", "", "a file holding the bearer token ($LICENSES_TOKEN_FILE)")
	f.StringVar(&o.conn.profile, "profile", "", "the profile of the config file to use ($LICENSES_PROFILE; default its current-profile)")
	f.StringVar(&o.conn.config, "config", "", "the config file ($LICENSES_CONFIG; default $XDG_CONFIG_HOME/licensesctl/config.yaml)")
	f.StringVarP(&o.output, "output", "o", formatTable, "output format: table, json or yaml")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long one attempt of an HTTP request may take (the waits between retries are not counted)")
	f.IntVar(&o.retries, "retries", 4, "how many times a request answered 429, 502, 503 or 504 (or unanswered) is repeated")
	f.DurationVar(&o.maxWait, "max-retry-wait", 30*time.Second, "the longest wait between two attempts, Retry-After included")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{formatTable, formatJSON, formatYAML}, cobra.ShellCompDirectiveNoFileComp))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v\nRun '%s --help' for usage.", err, c.CommandPath())
	})

	root.AddCommand(
		customersCmd(o),
		providerInstancesCmd(o),
		licensesCmd(o),
		usersCmd(o),
		userLicensesCmd(o),
		auditCmd(o),
		applyCmd(o),
		configCmd(o),
	)
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = `  source <(licensesctl completion bash)                      # bash, this shell
  licensesctl completion zsh > "${fpath[1]}/_licensesctl"     # zsh
  licensesctl completion fish > ~/.config/fish/completions/licensesctl.fish
  licensesctl completion powershell | Out-String | Invoke-Expression`
		}
	}
	return root
}

// client resolves the connection and builds the API client.
func (o *options) client(notice retryNotice) (*api, error) {
	conn, err := resolveConnection(o.conn, o.env.Getenv)
	if err != nil {
		return nil, err
	}
	if err := conn.complete(); err != nil {
		return nil, err
	}
	base := o.env.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	t := &retryTransport{base: base, policy: retryPolicy{Retries: o.retries, Base: 500 * time.Millisecond, Cap: o.maxWait},
		sleep: o.env.Sleep, notice: notice, attemptTimeout: o.timeout}
	return newAPI(conn, t)
}

// plainRetryNotice prints each retry on stderr.
func (o *options) plainRetryNotice(method, path string, status int, err error, wait time.Duration, attempt, of int) {
	why := fmt.Sprint(status)
	if err != nil {
		why = "no answer"
	}
	fmt.Fprintf(o.env.Stderr, "licensesctl: %s %s: %s, retrying in %s (attempt %d of %d)\n", method, path, why, wait.Round(time.Millisecond), attempt, of)
}

// ctx is the context of a command: for everything but apply, the first
// interrupt ends it.
func (o *options) ctx(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(cmd.Context())
	stop := context.AfterFunc(o.env.Interrupted, cancel)
	return ctx, func() { stop(); cancel() }
}
