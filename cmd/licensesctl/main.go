// Command licensesctl is the administrators' command-line client of the
// licenses API. It wires the process (arguments, streams, environment,
// signals) to internal/ctl, where everything else lives.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/cloudcockpit-oss/userlicenses/internal/ctl"
)

func main() {
	// The first Ctrl-C (or SIGTERM) ends Interrupted: apply starts no new
	// request and lets those in flight finish. The second cancels ctx,
	// aborting them.
	interrupted, stopSoft := context.WithCancel(context.Background())
	ctx, abort := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		stopSoft()
		<-sig
		abort()
	}()
	code := ctl.Main(ctx, os.Args[1:], ctl.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		Interrupted:      interrupted,
	})
	signal.Stop(sig)
	stopSoft()
	abort()
	os.Exit(code)
}
