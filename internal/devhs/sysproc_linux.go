package devhs

import "syscall"

// sysProcAttr puts a child into a process group of its own, so that a
// Ctrl-C meant for its parent does not reach it before the parent decides
// the order of shutdown, and makes the kernel kill it when the parent dies
// without stopping it (panic, timeout, SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
