//go:build !js

package wsclient

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// streamConn is a net.Conn over one HTTP/2 stream opened with an extended
// CONNECT (RFC 8441): Read reads the response body (the server's DATA
// frames), Write feeds the request body (our DATA frames). Deadlines
// interrupt a blocked Read or Write without harming the stream, as they do
// on a TCP connection; Close ends the stream (END_STREAM when the server has
// ended its side, RST_STREAM otherwise) and gives its slot back to the
// HTTP/2 connection.
//
// golang.org/x/net/http2 reads the request body on its own goroutine and
// offers no deadline on the response body, so both directions go through
// hand-offs that a deadline can abandon:
//
//   - Write hands its slice to the transport's body reader (bodyReader.Read)
//     and waits until that has copied it; a deadline stops the wait, and the
//     slice is never touched after Write returns.
//   - A pump goroutine reads the response body into a buffer and offers it
//     to Read; a deadline stops Read's wait, and the bytes stay for the next
//     Read.
type streamConn struct {
	body    io.ReadCloser // the response body
	reset   func()        // cancels the request: the transport resets the stream
	release func()        // gives the stream's slot back to its connection
	local   net.Addr
	remote  net.Addr

	rdl, wdl deadline

	// Write side: Write sends on wrTx, bodyReader answers on wrRx.
	wrTx       chan []byte
	wrRx       chan int
	wrEOF      chan struct{} // closed by CloseWrite: the body ends (END_STREAM)
	wrEOFOnce  sync.Once
	bodyDone   chan struct{} // closed when the transport closed the request body
	bodyOnce   sync.Once
	closed     chan struct{} // closed by Close
	closeOnce  sync.Once
	closeErr   error
	pumpDone   chan struct{}
	sawEOF     chan struct{} // closed when the response body ended cleanly
	sawEOFOnce sync.Once

	// Read side: the pump offers chunks on chunks and gets the buffer
	// back on free once Read has consumed it.
	chunks chan chunk
	free   chan struct{}
	rmu    sync.Mutex
	cur    []byte
	have   bool  // cur belongs to a chunk not yet given back
	rerr   error // sticky error from the body
	small  [512]byte
}

type chunk struct {
	b   []byte
	err error
}

// streamCloseWait bounds how long Close waits for the transport to send
// END_STREAM and finish the stream before the connection slot is released.
const streamCloseWait = time.Second

func newStreamConn(local, remote net.Addr) *streamConn {
	s := &streamConn{
		local:    local,
		remote:   remote,
		wrTx:     make(chan []byte),
		wrRx:     make(chan int),
		wrEOF:    make(chan struct{}),
		bodyDone: make(chan struct{}),
		closed:   make(chan struct{}),
		pumpDone: make(chan struct{}),
		sawEOF:   make(chan struct{}),
		chunks:   make(chan chunk),
		free:     make(chan struct{}, 1),
	}
	s.rdl.init()
	s.wdl.init()
	return s
}

// start begins reading the response body.
func (s *streamConn) start(body io.ReadCloser) {
	s.body = body
	go s.pump()
}

// bodyReader is the request body handed to the transport.
type bodyReader struct{ s *streamConn }

// Read gives the transport the bytes of a pending Write.
func (b bodyReader) Read(p []byte) (int, error) {
	s := b.s
	select {
	case w := <-s.wrTx:
		n := copy(p, w)
		s.wrRx <- n
		return n, nil
	case <-s.wrEOF:
		return 0, io.EOF
	case <-s.closed:
		return 0, net.ErrClosed
	case <-s.bodyDone:
		// The transport closes the body to stop a Read (stream reset,
		// connection lost).
		return 0, errStreamEnded
	}
}

// Close is called by the transport when it is done with the request body:
// the stream has ended or been reset.
func (b bodyReader) Close() error {
	b.s.bodyOnce.Do(func() { close(b.s.bodyDone) })
	return nil
}

// h2BufPool holds the pump's buffers for bursts of data.
var h2BufPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// pump reads the response body. While the stream is quiet it waits with
// a small buffer, so an idle WebSocket holds no large one; a full small
// read switches to a pooled 16 KiB buffer until a read comes back short.
func (s *streamConn) pump() {
	defer close(s.pumpDone)
	var big *[]byte
	defer func() {
		if big != nil {
			h2BufPool.Put(big)
		}
	}()
	for {
		buf := s.small[:]
		if big != nil {
			buf = *big
		}
		n, err := s.body.Read(buf)
		if errors.Is(err, io.EOF) {
			s.sawEOFOnce.Do(func() { close(s.sawEOF) })
		}
		select {
		case s.chunks <- chunk{buf[:n], err}:
		case <-s.closed:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-s.free:
		case <-s.closed:
			return
		}
		switch {
		case big == nil && n == len(buf):
			big = h2BufPool.Get().(*[]byte)
		case big != nil && n < len(buf):
			h2BufPool.Put(big)
			big = nil
		}
	}
}

// Read reads the server's DATA.
func (s *streamConn) Read(p []byte) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.rerr != nil && len(s.cur) == 0 {
		return 0, s.rerr
	}
	if !s.have {
		if s.rdl.expired() {
			return 0, os.ErrDeadlineExceeded
		}
		select {
		case ch := <-s.chunks:
			s.cur, s.have = ch.b, true
			if ch.err != nil {
				s.rerr = streamReadErr(ch.err)
			}
		case <-s.rdl.wait():
			return 0, os.ErrDeadlineExceeded
		case <-s.closed:
			return 0, net.ErrClosed
		}
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	if len(s.cur) == 0 && s.rerr == nil {
		s.have = false
		s.free <- struct{}{}
	}
	if n == 0 && s.rerr != nil {
		return 0, s.rerr
	}
	return n, nil
}

// streamReadErr describes a response body error: io.EOF is the server's
// END_STREAM; anything else (RST_STREAM, a lost connection) is wrapped.
func streamReadErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return fmt.Errorf("wsclient: HTTP/2 stream: %w", err)
}

// Write sends p as DATA on the stream.
func (s *streamConn) Write(p []byte) (int, error) {
	n := 0
	for first := true; first || len(p) > 0; first = false {
		if s.wdl.expired() {
			return n, os.ErrDeadlineExceeded
		}
		select {
		case s.wrTx <- p:
			m := <-s.wrRx
			p = p[m:]
			n += m
		case <-s.wdl.wait():
			return n, os.ErrDeadlineExceeded
		case <-s.closed:
			return n, net.ErrClosed
		case <-s.wrEOF:
			return n, net.ErrClosed
		case <-s.bodyDone:
			return n, errStreamEnded
		}
	}
	return n, nil
}

// errStreamEnded: the transport stopped reading the request body because
// the stream was reset or its connection lost.
var errStreamEnded = errors.New("wsclient: HTTP/2 stream ended")

// closeHandshakeDone is called by the Conn once the close handshake is
// complete: the client ends its side of the stream right away (RFC 8441
// section 5), whereas over TCP it waits for the server to close first.
func (s *streamConn) closeHandshakeDone() { s.CloseWrite() }

// CloseWrite ends our side of the stream (END_STREAM).
func (s *streamConn) CloseWrite() error {
	s.wrEOFOnce.Do(func() { close(s.wrEOF) })
	return nil
}

// Close ends the stream and releases its slot on the connection. When the
// server has already ended its side (the close handshake is over), the
// stream ends cleanly with END_STREAM; otherwise it is reset (CANCEL), the
// HTTP/2 counterpart of closing a TCP connection with unread data.
func (s *streamConn) Close() error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		s.CloseWrite()
		select {
		case <-s.sawEOF:
			// Let the transport send END_STREAM and retire the stream.
			t := time.NewTimer(streamCloseWait)
			select {
			case <-s.bodyDone:
			case <-t.C:
			}
			t.Stop()
		default:
		}
		close(s.closed)
		if s.body != nil {
			s.body.Close()
			<-s.pumpDone
		}
		s.reset()
		s.rdl.stop()
		s.wdl.stop()
		if s.release != nil {
			s.release()
		}
	})
	if !first {
		return net.ErrClosed
	}
	return s.closeErr
}

// LocalAddr returns the local address of the HTTP/2 connection.
func (s *streamConn) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the remote address of the HTTP/2 connection.
func (s *streamConn) RemoteAddr() net.Addr { return s.remote }

// SetDeadline sets both deadlines.
func (s *streamConn) SetDeadline(t time.Time) error {
	s.rdl.set(t)
	s.wdl.set(t)
	return nil
}

// SetReadDeadline sets the read deadline.
func (s *streamConn) SetReadDeadline(t time.Time) error { s.rdl.set(t); return nil }

// SetWriteDeadline sets the write deadline.
func (s *streamConn) SetWriteDeadline(t time.Time) error { s.wdl.set(t); return nil }

// deadline is a settable point in time with a channel that is closed when it
// passes. Setting a new time re-arms it; a timer of an earlier setting never
// fires into a later one.
type deadline struct {
	mu    sync.Mutex
	gen   uint64
	timer *time.Timer
	ch    chan struct{}
	fired bool
}

func (d *deadline) init() { d.ch = make(chan struct{}) }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.fired {
		d.ch = make(chan struct{})
		d.fired = false
	}
	if t.IsZero() {
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		close(d.ch)
		d.fired = true
		return
	}
	gen := d.gen
	d.timer = time.AfterFunc(dur, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.gen == gen && !d.fired {
			close(d.ch)
			d.fired = true
		}
	})
}

// wait returns a channel closed when the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

// expired reports whether the deadline has passed.
func (d *deadline) expired() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fired
}

// stop cancels a pending timer.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}
