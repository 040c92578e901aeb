package h2

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/wsclient/wsclient/internal/deadline"
)

// Stream is a net.Conn over one HTTP/2 stream opened with an extended
// CONNECT (RFC 8441): Read reads the server's DATA, Write sends ours.
// Deadlines interrupt a blocked Read or Write without harming the stream, as
// they do on a TCP connection; CloseWrite ends our side (END_STREAM); Close
// ends the stream (END_STREAM when the server has ended its side, RST_STREAM
// otherwise) and gives its slot back to the connection.
//
// A Stream has no goroutine and no buffer of its own while it is idle: the
// connection's read loop files the server's DATA into a pooled buffer that
// is given back once Read has drained it, and Write frames the caller's
// bytes itself, under the connection's write lock, as flow control allows.
type Stream struct {
	c        *Conn
	id       uint32 // 0 until the CONNECT is sent
	rdl, wdl deadline.Deadline
	wsem     chan struct{} // one Write at a time
	readable chan struct{} // something changed for Read (see wake)
	writable chan struct{} // something changed for Write
	release  func()        // the Pool's: gives the stream's slot back

	// Guarded by c.mu.
	resp       *http.Response // the server's answer, once it came
	sendWindow int64          // how much DATA the server's window allows
	recv       []byte         // DATA received and not read yet
	recvBuf    *[]byte        // recv's memory: a pooled buffer, or a grown one
	recvPooled bool
	recvd      int       // DATA received (padding included) and not yet refunded
	consumed   int       // of it, read and not yet refunded
	rerr       error     // what Read returns once recv is empty: io.EOF after END_STREAM
	werr       error     // why Write can no longer send
	peerEnded  bool      // the server sent END_STREAM
	ended      bool      // the stream is no longer in c.streams
	closed     bool      // Close was called
	wdeadline  time.Time // the write deadline, for nc while this stream writes
	connWait   bool      // in c.connWaiters

	// Guarded by c.wmu.
	sentEnd bool // END_STREAM sent
}

// bufPool holds the buffers DATA waits in until it is read.
var bufPool = sync.Pool{New: func() any { b := make([]byte, maxDataFrame); return &b }}

// refundAt is how much of a stream's window is read before it is given
// back to the server (WINDOW_UPDATE): a quarter, so that the server never
// runs dry while the WebSocket keeps reading.
const refundAt = streamWindow / 4

// wake tells a waiting Read and Write that something changed. The caller
// holds c.mu.
func (s *Stream) wake() {
	s.wakeReader()
	s.wakeWriter()
}

// wakeReader tells a waiting Read that DATA came or the stream ended.
func (s *Stream) wakeReader() {
	select {
	case s.readable <- struct{}{}:
	default:
	}
}

// wakeWriter tells a waiting Write that a window opened.
func (s *Stream) wakeWriter() {
	select {
	case s.writable <- struct{}{}:
	default:
	}
}

// appendLocked files DATA for Read.
func (s *Stream) appendLocked(data []byte) {
	if len(data) == 0 {
		return
	}
	if s.recvBuf == nil {
		s.recvBuf, s.recvPooled = bufPool.Get().(*[]byte), true
		s.recv = (*s.recvBuf)[:0]
	}
	if need := len(s.recv) + len(data); need > cap(s.recv) {
		buf := *s.recvBuf
		if need <= len(buf) {
			s.recv = buf[:copy(buf, s.recv)] // move the unread bytes to the front
		} else {
			nb := make([]byte, len(s.recv), max(need, 2*len(buf)))
			copy(nb, s.recv)
			s.putRecvLocked()
			s.recvBuf, s.recv = &nb, nb
		}
	}
	s.recv = append(s.recv, data...)
}

// putRecvLocked gives the buffer back once it is drained.
func (s *Stream) putRecvLocked() {
	if s.recvPooled {
		bufPool.Put(s.recvBuf)
	}
	s.recvBuf, s.recv, s.recvPooled = nil, nil, false
}

// consumedLocked counts n bytes as read and returns how much window to
// give back now (0 for not yet).
func (s *Stream) consumedLocked(n int) int {
	s.consumed += n
	if s.consumed < refundAt || s.peerEnded || s.ended {
		return 0
	}
	r := s.consumed
	s.recvd -= r
	s.consumed = 0
	return r
}

// peerEndedLocked records the server's END_STREAM.
func (s *Stream) peerEndedLocked() {
	s.peerEnded = true
	if s.rerr == nil {
		s.rerr = io.EOF
	}
}

// endLocked records that the stream is over for err (a reset, a lost
// connection); the caller has removed it from c.streams.
func (s *Stream) endLocked(err error) {
	s.ended = true
	if s.rerr == nil {
		s.rerr = err
	}
	if s.werr == nil {
		s.werr = err
	}
	s.wake()
}

// Read reads the server's DATA.
func (s *Stream) Read(p []byte) (int, error) {
	c := s.c
	for {
		c.mu.Lock()
		if len(s.recv) > 0 {
			n := copy(p, s.recv)
			s.recv = s.recv[n:]
			if len(s.recv) == 0 {
				s.putRecvLocked()
			}
			refund := s.consumedLocked(n)
			c.mu.Unlock()
			if refund > 0 {
				c.writeWindowUpdate(s.id, refund)
			}
			return n, nil
		}
		err := s.rerr
		if s.closed {
			err = net.ErrClosed
		}
		c.mu.Unlock()
		if err != nil {
			s.rewake()
			return 0, err
		}
		if s.rdl.Expired() {
			return 0, os.ErrDeadlineExceeded
		}
		select {
		case <-s.readable:
		case <-s.rdl.Wait():
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// rewake passes a signal on, for another goroutine waiting on the same
// final state.
func (s *Stream) rewake() {
	s.c.mu.Lock()
	s.wake()
	s.c.mu.Unlock()
}

// Write sends p as DATA on the stream, in frames as large as flow control
// and the frame size allow.
func (s *Stream) Write(p []byte) (int, error) {
	if s.wdl.Expired() {
		return 0, os.ErrDeadlineExceeded
	}
	select {
	case s.wsem <- struct{}{}:
	case <-s.wdl.Wait():
		return 0, os.ErrDeadlineExceeded
	}
	defer func() { <-s.wsem }()
	n := 0
	for first := true; first || len(p) > 0; first = false {
		k, err := s.awaitWindow(len(p))
		if err != nil {
			return n, err
		}
		if err := s.writeData(p[:k], false); err != nil {
			if err == os.ErrDeadlineExceeded { // not sent: the window is still ours
				s.c.mu.Lock()
				s.sendWindow += int64(k)
				s.c.sendWindow += int64(k)
				s.c.wakeConnWaitersLocked()
				s.c.mu.Unlock()
			}
			return n, err
		}
		p, n = p[k:], n+k
	}
	return n, nil
}

// awaitWindow waits until flow control allows some of want bytes, and
// takes up to want of it (0 if want is 0).
func (s *Stream) awaitWindow(want int) (int, error) {
	c := s.c
	for {
		c.mu.Lock()
		err := s.werr
		if s.closed {
			err = net.ErrClosed
		}
		if err == nil && want == 0 {
			c.mu.Unlock()
			return 0, nil
		}
		if avail := min(s.sendWindow, c.sendWindow, int64(c.maxFrame)); err == nil && avail > 0 {
			k := int(min(avail, int64(want)))
			s.sendWindow -= int64(k)
			c.sendWindow -= int64(k)
			c.mu.Unlock()
			return k, nil
		}
		if err == nil && c.sendWindow <= 0 && !s.connWait {
			// Woken by the connection's next WINDOW_UPDATE.
			s.connWait = true
			c.connWaiters = append(c.connWaiters, s)
		}
		c.mu.Unlock()
		if err != nil {
			s.rewake()
			return 0, err
		}
		if s.wdl.Expired() {
			return 0, os.ErrDeadlineExceeded
		}
		select {
		case <-s.writable:
		case <-s.wdl.Wait():
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// writeData sends one DATA frame, unless our side has ended. The stream's
// write deadline, and Close, interrupt a write blocked on a server that
// does not read; as the frame is then cut short, that ends the connection.
func (s *Stream) writeData(b []byte, end bool) error {
	c := s.c
	c.wmu.Lock()
	defer c.unlockW()
	if s.sentEnd {
		return net.ErrClosed
	}
	if c.werr != nil {
		return c.werr
	}
	if len(b) == 0 && !end {
		return nil
	}
	c.mu.Lock()
	if s.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	if !s.wdeadline.IsZero() && !time.Now().Before(s.wdeadline) {
		// Expired since the window was taken: nothing is written, and
		// the connection is not harmed.
		c.mu.Unlock()
		return os.ErrDeadlineExceeded
	}
	c.writer = s
	if !s.wdeadline.IsZero() {
		c.nc.SetWriteDeadline(s.wdeadline)
		c.wdlSet = true
	}
	c.mu.Unlock()
	s.sentEnd = end
	err := c.fr.WriteData(s.id, end, b)
	c.mu.Lock()
	c.writer = nil
	if c.wdlSet {
		c.nc.SetWriteDeadline(c.baseWDL)
		c.wdlSet = false
	}
	closed := s.closed
	c.mu.Unlock()
	if err != nil {
		c.werr = fmt.Errorf("wsclient: HTTP/2 connection: %w", err)
		c.nc.Close() // the read loop ends every stream
		if closed {
			return net.ErrClosed
		}
		return c.werr
	}
	return nil
}

// CloseHandshakeDone is called by the Conn once the close handshake is
// complete: the client ends its side of the stream right away (RFC 8441
// section 5), whereas over TCP it waits for the server to close first.
func (s *Stream) CloseHandshakeDone() { s.CloseWrite() }

// CloseWrite ends our side of the stream (END_STREAM).
func (s *Stream) CloseWrite() error {
	s.c.mu.Lock()
	ended := s.ended
	s.c.mu.Unlock()
	if ended {
		return nil
	}
	if err := s.writeData(nil, true); err != net.ErrClosed {
		return err
	}
	return nil
}

// Close ends the stream and releases its slot on the connection. When the
// server has already ended its side (the close handshake is over), the
// stream ends cleanly with END_STREAM; otherwise it is reset (CANCEL), the
// HTTP/2 counterpart of closing a TCP connection with unread data.
func (s *Stream) Close() error {
	c := s.c
	c.mu.Lock()
	if s.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	s.closed = true
	opened, ended, peerEnded := s.id != 0, s.ended, s.peerEnded
	if !opened {
		c.reserved--
	} else if !ended {
		delete(c.streams, s.id)
		s.ended = true
	}
	if c.writer == s {
		// Its own Write is blocked on a server that does not read.
		c.nc.SetWriteDeadline(time.Unix(1, 0))
		c.wdlSet = true
	}
	if opened && !ended {
		// Written now, or by the goroutine that holds the write lock:
		// Close never waits for a server that does not read.
		c.pendingEnds = append(c.pendingEnds, pendingEnd{s: s, reset: !peerEnded})
	}
	s.putRecvLocked()
	s.wake()
	c.mu.Unlock()
	if opened && !ended && c.wmu.TryLock() {
		c.unlockW()
	}
	s.rdl.Stop()
	s.wdl.Stop()
	if s.release != nil {
		s.release()
	}
	return nil
}

// LocalAddr returns the local address of the HTTP/2 connection.
func (s *Stream) LocalAddr() net.Addr { return s.c.nc.LocalAddr() }

// RemoteAddr returns the remote address of the HTTP/2 connection.
func (s *Stream) RemoteAddr() net.Addr { return s.c.nc.RemoteAddr() }

// SetDeadline sets both deadlines.
func (s *Stream) SetDeadline(t time.Time) error {
	s.rdl.Set(t)
	return s.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline.
func (s *Stream) SetReadDeadline(t time.Time) error { s.rdl.Set(t); return nil }

// SetWriteDeadline sets the write deadline. It also interrupts a write
// blocked on a server that does not read, which ends the connection (a
// frame cut short cannot be resumed).
func (s *Stream) SetWriteDeadline(t time.Time) error {
	s.wdl.Set(t)
	c := s.c
	c.mu.Lock()
	s.wdeadline = t
	if c.writer == s {
		c.nc.SetWriteDeadline(t)
		c.wdlSet = true
	}
	c.mu.Unlock()
	return nil
}
