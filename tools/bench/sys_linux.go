package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

const dsyncFlag = syscall.O_DSYNC

// pinSelf re-runs the load generator under taskset on CPUs 1..N-1, away
// from CPU 0 where the targets run (affinity set from inside would cover
// one thread only). It returns whether the caller should exit with code.
func pinSelf(args []string) (bool, int) {
	if os.Getenv("BENCH_PINNED") != "" {
		return false, 0
	}
	self, err := os.Executable()
	if err != nil {
		return false, 0
	}
	cmd := exec.Command("taskset", append([]string{"-c", fmt.Sprintf("1-%d", runtime.NumCPU()-1), self}, args...)...)
	cmd.Env = append(os.Environ(), "BENCH_PINNED=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return true, ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "bench: pinning the load generator:", err)
		return false, 0
	}
	return true, 0
}
