//go:build unix && !linux

package prismproxy

import "syscall"

// procAttr puts Prism in its own process group, so that Cleanup stops node
// and anything it forks.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
