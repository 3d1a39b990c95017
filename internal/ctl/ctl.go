// Package ctl is licensesctl, the administrators' command-line client of
// the licenses API: everyday reads and changes, and bulk changes that are
// planned, applied with bounded concurrency and reported. It talks to the
// API only through the generated client (gen/); cmd/licensesctl only
// wires the process (arguments, streams, signals) to Main.
package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes of licensesctl.
const (
	// ExitOK: the command did what was asked (apply: every row ended
	// changed or unchanged).
	ExitOK = 0
	// ExitFailed: the API refused or failed (apply: a row failed, was
	// impossible or was not applied).
	ExitFailed = 1
	// ExitUsage: the command line, a configuration value or an input file
	// is wrong; nothing was sent.
	ExitUsage = 2
)

// Env is everything licensesctl takes from its process, passed in so that
// tests run it in-process or as a built binary alike.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment (os.Getenv).
	Getenv func(string) string
	// StderrIsTerminal selects the progress bar over plain progress lines.
	StderrIsTerminal bool
	// Interrupted is done at the first interrupt (Ctrl-C): apply then
	// starts no new request, lets those in flight finish and reports. The
	// context given to Main is done at the second, aborting them. Nil
	// means never.
	Interrupted context.Context
	// Transport, when set, carries the HTTP requests (tests); nil is
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Sleep waits between retries; nil is a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// exitError carries the exit code of a failed command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a mistake of the command line or of its inputs: exit 2.
func usageErrorf(format string, a ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

// silentFailure ends a command with exit 1 when it has printed why already.
var silentFailure = &exitError{code: ExitFailed, err: errors.New("")}

// Main runs licensesctl with the arguments (without the program name) and
// returns its exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Interrupted == nil {
		env.Interrupted = context.Background()
	}
	if env.Sleep == nil {
		env.Sleep = sleepCtx
	}
	root := newRoot(&env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		// Cobra's own errors: unknown command or flag, bad flag value,
		// wrong number of arguments.
		fmt.Fprintf(env.Stderr, "Error: %v\nRun '%s --help' for usage.\n", err, commandPath(root, args))
		return ExitUsage
	}
	if ee != silentFailure {
		printError(env.Stderr, ee.err)
	}
	return ee.code
}

// commandPath names the command the arguments reached, for the hint.
func commandPath(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil && c != nil {
		return c.CommandPath()
	}
	return root.Name()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runE turns a command's error into a runtime failure (exit 1) unless it
// already says which code it is, so that only Cobra's own parsing errors
// are left untyped (and exit 2).
func runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		if err == nil {
			return nil
		}
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return &exitError{code: ExitFailed, err: err}
	}
}
