package sock

import (
	"net"
	"os"
	"syscall"
	"unsafe"
)

// HasWritev reports whether WritevOnce may be used on a Raw stream.
const HasWritev = true

// Writev holds the state of a large write's single writev calls; its
// owner keeps it (pooled) so that the calls allocate nothing.
type Writev struct {
	s   *Stream
	vec []syscall.Iovec
	fn  func(fd uintptr) bool // w.call, made once
	n   int
	err syscall.Errno
}

// call is the raw write callback: one writev of vec, retried on EINTR;
// false (wait until the socket can take more) on EAGAIN, once the write's
// context is watched.
func (w *Writev) call(fd uintptr) bool {
	for {
		n, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.vec[0])), uintptr(len(w.vec)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			w.s.armWrite()
			return false
		}
		w.n, w.err = int(n), e
		if e != 0 {
			w.n = 0
		}
		return true
	}
}

// WritevOnce writes head (if not empty) and iov (no empty slices) with one
// writev system call, waiting until the socket can take some of it, and
// returns how many bytes it took. The stream is Raw; the caller is the
// writer.
func (s *Stream) WritevOnce(w *Writev, head []byte, iov [][]byte) (int, error) {
	w.s = s
	if w.fn == nil {
		w.fn = w.call
	}
	if cap(w.vec) < len(iov)+1 {
		w.vec = make([]syscall.Iovec, 0, max(len(iov)+1, 3)) // head, two spans of a ring
	}
	w.vec = w.vec[:0]
	if len(head) > 0 {
		var iv syscall.Iovec
		iv.Base = &head[0]
		iv.SetLen(len(head))
		w.vec = append(w.vec, iv)
	}
	for _, v := range iov {
		var iv syscall.Iovec
		iv.Base = &v[0]
		iv.SetLen(len(v))
		w.vec = append(w.vec, iv)
	}
	err := s.raw.Write(w.fn)
	clear(w.vec) // drop the references to the caller's memory
	w.s = nil
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err // a deadline, or the connection closed: say "write"
	}
	if err == nil && w.err != 0 {
		err = os.NewSyscallError("writev", w.err)
	}
	if err != nil {
		return 0, s.opError("write", err)
	}
	return w.n, nil
}
