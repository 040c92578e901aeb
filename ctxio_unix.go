//go:build unix

package wsclient

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawIO holds the state of the raw socket reads and writes of sockRead and
// sockWrite, one half per direction (each owned by its caller).
type rawIO struct {
	c      *Conn
	rp, wp []byte
	rn, wn int
	rerr   error
	werr   error
	wnow   bool                  // a write attempt that does not wait (sockWriteNow)
	rfn    func(fd uintptr) bool // rawIO.read, made at the first read (by the reader)
	wfn    func(fd uintptr) bool // rawIO.write, made at the first write (by the writer)
}

func (c *Conn) rawIO() *rawIO {
	if r := c.rio.Load(); r != nil {
		return r
	}
	r := &rawIO{c: c}
	if !c.rio.CompareAndSwap(nil, r) {
		return c.rio.Load() // the other direction made it meanwhile
	}
	return r
}

// sockRead reads from the socket into p (not empty) for the read under way
// (the caller holds readMu). While the read's context is not watched yet,
// a plain socket is read with a raw read that watches it only when the
// socket has nothing to read; any other connection watches it first.
func (c *Conn) sockRead(p []byte) (int, error) {
	if c.rctx == nil {
		return c.nc.Read(p)
	}
	if c.raw == nil {
		c.armRead()
		return c.nc.Read(p)
	}
	r := c.rawIO()
	if r.rfn == nil {
		r.rfn = r.read
	}
	r.rp, r.rn, r.rerr = p, 0, nil
	err := c.raw.Read(r.rfn)
	n := r.rn
	if err == nil {
		err = r.rerr
	}
	r.rp, r.rerr = nil, nil
	if err != nil {
		if _, ok := err.(syscall.Errno); ok {
			err = c.opError("read", os.NewSyscallError("read", err))
		}
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
			r.c.armRead()
			return false
		}
		r.rerr = err
		return true
	}
}

// sockWrite writes b to the socket for the write under way (the caller
// holds wmu), watching the write's context as sockRead does for reads:
// only once the socket cannot take more.
func (c *Conn) sockWrite(b []byte) (int, error) {
	if c.wctx == nil || len(b) == 0 {
		return c.nc.Write(b)
	}
	if c.raw == nil {
		c.armWrite()
		return c.nc.Write(b)
	}
	r := c.rawIO()
	if r.wfn == nil {
		r.wfn = r.write
	}
	r.wp, r.wn, r.werr = b, 0, nil
	err := c.raw.Write(r.wfn)
	n := r.wn
	if err == nil {
		err = r.werr
	}
	r.wp, r.werr = nil, nil
	if err != nil {
		if _, ok := err.(syscall.Errno); ok {
			err = c.opError("write", os.NewSyscallError("write", err))
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
			r.c.armWrite()
			return false
		}
		r.werr = err
		return true
	}
	return true
}

// canWriteNow reports whether sockWriteNow may be used: the connection is
// a plain socket, whose writes can return at once when it is full (Go's
// sockets are in non-blocking mode: the kernel answers EAGAIN).
func (c *Conn) canWriteNow() bool { return c.raw != nil }

// sockWriteNow writes as much of b as the socket takes without waiting,
// possibly nothing, and returns how many bytes it took. The caller holds
// wmu and has checked canWriteNow.
func (c *Conn) sockWriteNow(b []byte) (int, error) {
	r := c.rawIO()
	if r.wfn == nil {
		r.wfn = r.write
	}
	r.wp, r.wn, r.werr, r.wnow = b, 0, nil, true
	err := c.raw.Write(r.wfn)
	n := r.wn
	if err == nil {
		err = r.werr
	}
	r.wp, r.werr, r.wnow = nil, nil, false
	if err != nil {
		if _, ok := err.(syscall.Errno); ok {
			err = c.opError("write", os.NewSyscallError("write", err))
		}
		return n, err
	}
	return n, nil
}

// opError wraps err as the net package wraps the errors of socket reads
// and writes.
func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.nc.LocalAddr().Network(), Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(), Err: err}
}
