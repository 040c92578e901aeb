//go:build unix && !linux

package peertest

import (
	"os"
	"syscall"
)

// procAttr puts a peer in its own process group (there is no parent-death
// signal outside Linux: a peer outlives a killed test process until its own
// lifetime ends).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// terminateGroup asks the process group pgid to end.
func terminateGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGTERM) }

// killGroup ends the process group pgid.
func killGroup(pgid int, _ *os.Process) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }
