package sock

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Stream is the byte stream of one connection. Its reads belong to one
// goroutine at a time (the reader), its writes to another (the writer);
// the two may run at once. The zero Stream is not usable: Init it. A
// Stream must not be copied after Init.
type Stream struct {
	nc  net.Conn
	raw syscall.RawConn // set for plain sockets (see Init)
	// rio is made by the first raw read, or raw write with a context
	// (raw_unix.go); atomic, as the reader and the writer may make it at
	// once.
	rio   atomic.Pointer[rawIO]
	lowat lowat // the receive low-water mark (lowat_linux.go)

	// The context of the read (owned by the reader) and of the write
	// (owned by the writer) under way, until it is watched or the call
	// ends (see BeginRead).
	rctx, wctx     context.Context
	rwatch, wwatch *watch // made on the first watched read, write

	dlMu     sync.Mutex
	rdl, wdl time.Time // deadlines set by the user, restored after a watch
}

// Init makes s the stream of nc.
func (s *Stream) Init(nc net.Conn) {
	s.nc = nc
	s.setupRaw()
	s.setupLowat()
}

// Conn returns the net.Conn s reads and writes.
func (s *Stream) Conn() net.Conn { return s.nc }

// Raw reports whether s is a plain socket read and written through
// syscall.RawConn: ReadBuffered and WriteNow may be used.
func (s *Stream) Raw() bool { return s.raw != nil }

// SetReadDeadline sets the user's read deadline, which a read's context
// watch puts back after it moved it.
func (s *Stream) SetReadDeadline(t time.Time) error {
	s.dlMu.Lock()
	s.rdl = t
	s.dlMu.Unlock()
	return s.nc.SetReadDeadline(t)
}

// SetWriteDeadline is SetReadDeadline for writes.
func (s *Stream) SetWriteDeadline(t time.Time) error {
	s.dlMu.Lock()
	s.wdl = t
	s.dlMu.Unlock()
	return s.nc.SetWriteDeadline(t)
}

// userDeadline returns the deadline the user set for one direction.
func (s *Stream) userDeadline(read bool) time.Time {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	if read {
		return s.rdl
	}
	return s.wdl
}

// BeginBoundedWrite gives the writes until EndBoundedWrite a deadline of
// their own: timeout from now, or the user's write deadline if that is
// sooner. byReader says the reader writes (a pong it answers itself): the
// read's context, watched from here on, ends the write too, so that a peer
// that never reads cannot hold the reader in a write past it. The caller
// is the writer.
func (s *Stream) BeginBoundedWrite(timeout time.Duration, byReader bool) {
	dl := time.Now().Add(timeout)
	if wdl := s.userDeadline(false); !wdl.IsZero() && wdl.Before(dl) {
		dl = wdl
	}
	if byReader {
		s.ArmRead()
		if w := s.rwatch; w != nil && w.armed {
			w.mu.Lock()
			w.readerWrite = true
			if w.moved {
				dl = aLongTimeAgo
			}
			s.nc.SetWriteDeadline(dl)
			w.mu.Unlock()
			return
		}
	}
	s.nc.SetWriteDeadline(dl)
}

// EndBoundedWrite puts the user's write deadline back after
// BeginBoundedWrite and reports whether err is the bounded write's own
// deadline expiring (not the read's context ending it).
func (s *Stream) EndBoundedWrite(err error, byReader bool) (timedOut bool) {
	ne, ok := err.(net.Error)
	timedOut = ok && ne.Timeout()
	wdl := s.userDeadline(false)
	if w := s.rwatch; byReader && w != nil && w.armed {
		w.mu.Lock()
		timedOut = timedOut && !w.moved
		w.readerWrite = false
		s.nc.SetWriteDeadline(wdl)
		w.mu.Unlock()
		return timedOut
	}
	s.nc.SetWriteDeadline(wdl)
	return timedOut
}

// aLongTimeAgo is the deadline that interrupts a call at once.
var aLongTimeAgo = time.Unix(1, 0)

// opError wraps err as the net package wraps the errors of socket reads
// and writes.
func (s *Stream) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: s.nc.LocalAddr().Network(), Source: s.nc.LocalAddr(), Addr: s.nc.RemoteAddr(), Err: err}
}

// Buffer is the read buffer ReadBuffered fills, lent by its caller, which
// keeps its pooling: the buffer can go back to a pool while the reader
// waits, so a waiting reader holds none.
type Buffer interface {
	// Take returns the buffer to read into (not empty), taking one from
	// a pool if the caller holds none.
	Take() []byte
	// Park says that the socket has nothing to read and the reader is
	// about to wait: the caller may give the buffer back meanwhile.
	Park()
}

// WriteBuffers writes nb, consuming it, for the write under way (which
// may wait, watching its context), and returns how many bytes it wrote.
func (s *Stream) WriteBuffers(nb *net.Buffers) (int64, error) {
	s.armWrite()
	return nb.WriteTo(s.nc)
}
