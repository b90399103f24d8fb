//go:build !linux

package devhs

import "syscall"

// sysProcAttr puts a child into a process group of its own, so that a
// Ctrl-C meant for its parent does not reach it before the parent decides
// the order of shutdown. Only Linux can also tie its life to the parent's.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
