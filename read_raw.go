//go:build unix

package wsclient

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// setupRawRead lets a Conn over a plain TCP or Unix socket wait for its next
// message with the read buffer it holds while data flows: the buffer goes
// back to the pool only when the socket has nothing to read and the reader
// parks (see waitRaw). Only these concrete types qualify: a wrapper around
// a socket (one that counts, throttles or records) keeps its own Read.
func (c *Conn) setupRawRead() {
	var sc syscall.Conn
	switch nc := c.nc.(type) {
	case *net.TCPConn:
		sc = nc
	case *net.UnixConn:
		sc = nc
	default:
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	c.raw = rc
	c.rawFn = c.rawRead
}

// rawRead is the callback of the raw read: it reads into the read buffer
// (taking one from the pool if it has none) and, when the socket would
// block, gives a pooled buffer back before reporting that the reader must
// wait.
func (c *Conn) rawRead(fd uintptr) bool {
	c.sizeReadBuf()
	for {
		n, err := syscall.Read(int(fd), c.rbuf)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			c.armRead() // about to wait (see ctxwatch.go)
			if c.rbufp != nil {
				c.putReadBuf()
			}
			return false
		}
		c.rawErrno = 0
		if err != nil {
			n = 0
			c.rawErrno, _ = err.(syscall.Errno)
			if c.rawErrno == 0 {
				c.rawErrno = syscall.EIO
			}
		}
		c.rw = n
		c.sawRead(n)
		return true
	}
}

// waitRaw reads the socket into the (empty) read buffer at a message
// boundary, waiting without a buffer when nothing has arrived. It is called
// with rr == rw.
func (c *Conn) waitRaw() error {
	c.rr, c.rw = 0, 0
	c.rawErrno = 0
	err := c.raw.Read(c.rawFn)
	if err == nil && c.rawErrno != 0 {
		err = os.NewSyscallError("read", c.rawErrno)
	}
	if err != nil {
		c.rw = 0
		oe, ok := err.(*net.OpError)
		if !ok {
			oe = &net.OpError{Net: c.nc.LocalAddr().Network(), Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(), Err: err}
		}
		// The raw read's own error (such as a closed socket's) is made
		// for this call: it becomes the read's, as a socket Read's is.
		oe.Op = "read"
		return c.readEnded(oe, errors.Is(oe.Err, net.ErrClosed))
	}
	if c.rw == 0 {
		return c.readFailed(io.EOF)
	}
	c.drained = c.rw < len(c.rbuf)
	c.bytesIn.Add(uint64(c.rw))
	return nil
}
