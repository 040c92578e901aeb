package peertest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// goTestStderr returns the go command's standard error when this test binary
// runs under go test and its own output does not already go there, or nil.
// It prefers a duplicate of the go command's descriptor (pidfd_getfd, which
// shares the file offset, so a regular file such as `go test ./... 2>log`
// is appended to correctly), which needs ptrace permission over the parent;
// else it opens /proc/PPID/fd/2, which is only safe when that is not a
// regular file the go command writes at its own offset (a terminal, a pipe,
// or a file opened for appending).
func goTestStderr() *os.File {
	ppid := os.Getppid()
	proc := "/proc/" + strconv.Itoa(ppid)
	if comm, err := os.ReadFile(proc + "/comm"); err != nil || string(bytes.TrimSpace(comm)) != "go" {
		return nil
	}
	var self syscall.Stat_t
	if syscall.Fstat(2, &self) != nil {
		return nil
	}
	for _, fd := range []string{"/fd/1", "/fd/2"} {
		var st syscall.Stat_t
		if syscall.Stat(proc+fd, &st) == nil && st.Dev == self.Dev && st.Ino == self.Ino {
			return nil // go test streams this binary's output (package directory mode)
		}
	}
	if pidfd, err := unix.PidfdOpen(ppid, 0); err == nil {
		fd, err := unix.PidfdGetfd(pidfd, 2, 0)
		unix.Close(pidfd)
		if err == nil {
			return os.NewFile(uintptr(fd), "go test stderr")
		}
	}
	f, err := os.OpenFile(proc+"/fd/2", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode().IsRegular() && !appending(proc+"/fdinfo/2") {
		f.Close()
		return nil
	}
	return f
}

// appending reports whether the descriptor described by the fdinfo file was
// opened with O_APPEND.
func appending(fdinfo string) bool {
	b, err := os.ReadFile(fdinfo)
	if err != nil {
		return false
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("flags:")); ok {
			var flags int
			if _, err := fmt.Sscanf(string(bytes.TrimSpace(v)), "%o", &flags); err == nil {
				return flags&syscall.O_APPEND != 0
			}
		}
	}
	return false
}
