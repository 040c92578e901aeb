//go:build unix

package wsclient

import (
	"net"
	"syscall"
)

// nowWriter makes write attempts on a TCP or Unix socket that return at
// once, whether or not the socket took everything (Go's sockets are in
// non-blocking mode: the kernel answers EAGAIN when its buffer is full).
// It is used under the Conn's write locks only; built once per connection
// so that an attempt does not allocate.
type nowWriter struct {
	rc  syscall.RawConn
	b   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

// newNowWriter returns a nowWriter for nc, or nil when nc is not a plain
// socket (TLS, a proxy's wrapper): writes that may wait then go to the
// client's writer goroutine.
func newNowWriter(nc net.Conn) *nowWriter {
	sc, ok := nc.(interface {
		SyscallConn() (syscall.RawConn, error)
	})
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return nil
	}
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &nowWriter{rc: rc}
	w.fn = w.attempt
	return w
}

func (w *nowWriter) attempt(fd uintptr) bool {
	for {
		w.n, w.err = syscall.Write(int(fd), w.b)
		if w.err != syscall.EINTR {
			return true
		}
	}
}

// write makes one attempt and returns how many bytes the socket took.
func (w *nowWriter) write(b []byte) (int, error) {
	w.b = b
	err := w.rc.Write(w.fn)
	w.b = nil
	if err != nil {
		return 0, err
	}
	n := max(w.n, 0)
	if w.err == syscall.EAGAIN {
		return n, nil
	}
	return n, w.err
}
