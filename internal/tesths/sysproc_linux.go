package tesths

import "syscall"

// sysProcAttr makes the kernel kill Dendrite when the test binary dies
// without running its cleanups (panic, timeout, SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
