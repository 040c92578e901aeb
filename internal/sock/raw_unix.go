//go:build unix

package sock

import (
	"io"
	"net"
	"os"
	"syscall"
)

// setupRaw reads and writes a plain TCP or Unix socket through
// syscall.RawConn. Only these concrete types qualify: a wrapper around a
// socket (one that counts, throttles or records) keeps its own Read and
// Write.
func (s *Stream) setupRaw() {
	var sc syscall.Conn
	switch nc := s.nc.(type) {
	case *net.TCPConn:
		sc = nc
	case *net.UnixConn:
		sc = nc
	default:
		return
	}
	if rc, err := sc.SyscallConn(); err == nil {
		s.raw = rc
	}
}

// rawIO holds the state of the raw socket reads and writes, one half per
// direction (each owned by its caller).
type rawIO struct {
	s    *Stream
	rp   []byte
	rn   int
	rerr syscall.Errno
	buf  Buffer                // the lender of ReadBuffered
	rfn  func(fd uintptr) bool // rawIO.read, made by the first Read that needs it
	bfn  func(fd uintptr) bool // rawIO.readBuffered, made by the first ReadBuffered

	wp   []byte
	wn   int
	werr error
	wnow bool                  // a write attempt that does not wait (WriteNow)
	wfn  func(fd uintptr) bool // rawIO.write, made by the first write that needs it
}

func (s *Stream) rawIO() *rawIO {
	if r := s.rio.Load(); r != nil {
		return r
	}
	r := &rawIO{s: s}
	if !s.rio.CompareAndSwap(nil, r) {
		return s.rio.Load() // the other direction made it meanwhile
	}
	return r
}

// Read reads from the stream into p (not empty) for the read under way.
// While the read's context is not watched yet, a plain socket is read with
// a raw read that watches it only when the socket has nothing to read;
// any other connection watches it first.
func (s *Stream) Read(p []byte) (int, error) {
	if s.rctx == nil {
		return s.nc.Read(p)
	}
	if s.raw == nil {
		s.ArmRead()
		return s.nc.Read(p)
	}
	r := s.rawIO()
	if r.rfn == nil {
		r.rfn = r.read
	}
	r.rp, r.rn, r.rerr = p, 0, 0
	err := s.raw.Read(r.rfn)
	n := r.rn
	if err == nil && r.rerr != 0 {
		err = s.opError("read", os.NewSyscallError("read", r.rerr))
	}
	r.rp = nil
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (r *rawIO) read(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), r.rp)
		switch err {
		case nil:
			r.rn = n
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			r.s.ArmRead()
			return false
		}
		r.rerr = errno(err)
		return true
	}
}

// errno returns err, an error of a system call, as an Errno.
func errno(err error) syscall.Errno {
	if e, ok := err.(syscall.Errno); ok && e != 0 {
		return e
	}
	return syscall.EIO
}

// ReadBuffered reads a plain socket (Raw) into the buffer b lends: it
// takes the buffer, and when the socket has nothing to read, parks it,
// watches the read's context and waits, taking a buffer again once there
// is something to read. It returns how many bytes it read into the buffer
// Take returned last, or io.EOF at the end of the stream.
func (s *Stream) ReadBuffered(b Buffer) (int, error) {
	r := s.rawIO()
	if r.bfn == nil {
		r.bfn = r.readBuffered
	}
	r.buf, r.rn, r.rerr = b, 0, 0
	err := s.raw.Read(r.bfn)
	n := r.rn
	r.buf = nil
	if err == nil && r.rerr != 0 {
		err = os.NewSyscallError("read", r.rerr)
	}
	if err != nil {
		oe, ok := err.(*net.OpError)
		if !ok {
			return 0, s.opError("read", err)
		}
		// The raw read's own error (such as a closed socket's) is made
		// for this call: it becomes the read's, as a socket Read's is.
		oe.Op = "read"
		return 0, oe
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (r *rawIO) readBuffered(fd uintptr) bool {
	p := r.buf.Take()
	for {
		n, err := syscall.Read(int(fd), p)
		switch err {
		case nil:
			r.rn = n
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			r.s.ArmRead() // about to wait
			r.buf.Park()
			return false
		}
		r.rerr = errno(err)
		return true
	}
}

// Write writes b to the stream for the write under way, watching the
// write's context as Read does for reads: only once the socket cannot take
// more.
func (s *Stream) Write(b []byte) (int, error) {
	if s.wctx == nil || len(b) == 0 {
		return s.nc.Write(b)
	}
	if s.raw == nil {
		s.armWrite()
		return s.nc.Write(b)
	}
	return s.writeRaw(b, false)
}

// WriteNow writes as much of b as the socket takes without waiting,
// possibly nothing, and returns how many bytes it took. The stream is Raw.
func (s *Stream) WriteNow(b []byte) (int, error) { return s.writeRaw(b, true) }

func (s *Stream) writeRaw(b []byte, now bool) (int, error) {
	r := s.rawIO()
	if r.wfn == nil {
		r.wfn = r.write
	}
	r.wp, r.wn, r.werr, r.wnow = b, 0, nil, now
	err := s.raw.Write(r.wfn)
	n := r.wn
	if err == nil {
		err = r.werr
	}
	r.wp, r.werr, r.wnow = nil, nil, false
	if err != nil {
		if _, ok := err.(syscall.Errno); ok {
			err = s.opError("write", os.NewSyscallError("write", err))
		}
		return n, err
	}
	return n, nil
}

func (r *rawIO) write(fd uintptr) bool {
	for r.wn < len(r.wp) {
		n, err := syscall.Write(int(fd), r.wp[r.wn:])
		switch err {
		case nil:
			if n == 0 {
				r.werr = io.ErrUnexpectedEOF
				return true
			}
			r.wn += n
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if r.wnow {
				return true // the socket is full: take what it took
			}
			r.s.armWrite()
			return false
		}
		r.werr = err
		return true
	}
	return true
}
