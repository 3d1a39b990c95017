package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
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
	cmd := exec.Command("taskset", append([]string{"-c", fmt.Sprintf("1-%d", cpuCount()-1), self}, args...)...)
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

// cpuSeconds is the user and system CPU time of a process so far, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s, the value
// Linux reports for USER_HZ on every architecture Go supports); 0 when it
// cannot be read.
func cpuSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw)[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}
