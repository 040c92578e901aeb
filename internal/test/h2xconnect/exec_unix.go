//go:build unix

package h2xconnect

import "syscall"

// reexec replaces the running program with exe; it returns only on failure.
func reexec(exe string, args, env []string) error { return syscall.Exec(exe, args, env) }
