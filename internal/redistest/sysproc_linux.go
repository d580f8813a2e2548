//go:build linux

package redistest

import "syscall"

// killedWithParent: on Linux the kernel kills the shared server when the
// test binary exits, so one server can serve every test of the binary.
const killedWithParent = true

func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
