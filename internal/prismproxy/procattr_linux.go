package prismproxy

import "syscall"

// procAttr puts Prism in its own process group, so that Cleanup stops node
// and anything it forks, and has the kernel kill it when the test binary
// dies first (a Ctrl-C reaches only the foreground group, a test timeout
// skips Cleanup): no Prism outlives its test.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
