// Package rlimit raises the open-file limit for processes that hold
// thousands of sockets.
package rlimit

import "syscall"

// RaiseNoFile lifts RLIMIT_NOFILE as far as allowed: to at least 65536 when
// the process may raise its hard limit (root), else to the hard limit. It
// returns the soft limit in force afterwards.
func RaiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	want := max(lim.Max, 65536)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}); err == nil {
		return want, nil
	}
	lim.Cur = lim.Max
	err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur, err
}
