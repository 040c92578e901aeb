//go:build unix && !linux

package peertest

import "syscall"

// procAttr puts a peer in its own process group (there is no parent-death
// signal outside Linux: a peer outlives a killed test process until its own
// lifetime ends).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
