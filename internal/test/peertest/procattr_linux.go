package peertest

import "syscall"

// procAttr puts a peer in its own process group, and has the kernel kill it
// if the test process dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
