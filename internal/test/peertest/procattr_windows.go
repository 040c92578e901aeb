package peertest

import (
	"os"
	"syscall"
)

// procAttr has nothing to set on Windows: there are no process groups to
// signal, and a peer's children are not reached.
func procAttr() *syscall.SysProcAttr { return nil }

// terminateGroup does nothing: Windows has no SIGTERM.
func terminateGroup(int) {}

// killGroup ends the peer process itself.
func killGroup(_ int, p *os.Process) { _ = p.Kill() }
