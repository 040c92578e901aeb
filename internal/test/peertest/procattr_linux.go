package peertest

import (
	"os"
	"syscall"
)

// procAttr puts a peer in its own process group, and has the kernel kill it
// if the test process dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminateGroup asks the process group pgid to end.
func terminateGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGTERM) }

// killGroup ends the process group pgid.
func killGroup(pgid int, _ *os.Process) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }
