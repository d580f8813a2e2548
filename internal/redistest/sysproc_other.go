//go:build !linux

package redistest

import "syscall"

// killedWithParent: elsewhere nothing kills a server when the test binary
// exits, so every test gets a server of its own, stopped when it ends.
const killedWithParent = false

func sysProcAttr() *syscall.SysProcAttr { return nil }
