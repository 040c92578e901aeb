//go:build !js

package wsclient

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/protocol"
)

// NextReader waits for the next data message and returns its type and a
// reader for its payload, which returns io.EOF at the end of the message.
// The reader is valid until the next call to NextReader or ReadMessage;
// an unread rest of the message is discarded then. ctx bounds
// the wait for the message to begin; if it ends first, the connection is
// closed and ctx's error is returned. A ctx that has ended before the call
// returns its error at once and leaves the connection as it is.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	c.stream.BeginRead(ctx)
	defer c.stream.EndRead()
	typ, err := c.beginMessage()
	if err != nil {
		return 0, nil, c.stream.CtxErr(ctx, err)
	}
	return typ, &c.reader, nil
}

// ReadMessage reads the next data message into a new slice. To read
// without allocating, use NextReader with a buffer of your own.
func (c *Conn) ReadMessage(ctx context.Context) (MessageType, []byte, error) {
	return c.appendMessage(ctx, nil, false)
}

// appendMessage reads the next data message and appends its payload to
// dst; with pooled set, a large uncompressed
// message is read into a big buffer from the pools (bigbuf.go) when one of
// its first frame's size is there, which the caller gives back with
// putBig (so a reader that waits for its next message holds no large
// buffer).
func (c *Conn) appendMessage(ctx context.Context, dst []byte, pooled bool) (MessageType, []byte, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, dst, err
	}
	c.stream.BeginRead(ctx)
	defer c.stream.EndRead()
	typ, err := c.beginMessage()
	if err != nil {
		return 0, dst, c.stream.CtxErr(ctx, err)
	}
	if pooled && !c.proto.Compressed() {
		dst = c.takeBig(c.proto.Remaining(), dst)
	}
	start := len(dst)
	for {
		// Grow as bytes arrive, never by the length a header announces
		// (a hostile server could claim 2^63 bytes). At the end of a frame
		// an empty read moves on to the next frame or reports the end.
		p, scratch := dst[len(dst):cap(dst)], false
		if len(p) == 0 {
			switch {
			case !c.proto.Compressed():
				if c.proto.Remaining() > 0 {
					dst = grow(dst, c.proto.Remaining(), !c.proto.Fin())
					p = dst[len(dst):cap(dst)]
				}
			case c.cfg.maxMessage > 0 && int64(len(dst)-start) >= c.cfg.maxMessage:
				// At the limit: any further byte fails the message, so
				// look for one in a scratch byte instead of growing.
				p, scratch = c.ctlBuf[:1], true
			default:
				dst = c.growInflated(dst, start)
				p = dst[len(dst):cap(dst)]
			}
		}
		n, err := c.readPayload(p)
		if !scratch { // (a byte read into scratch fails the message)
			dst = dst[:len(dst)+n]
		}
		if err == io.EOF {
			return typ, dst, nil
		}
		if err != nil {
			return 0, dst, c.stream.CtxErr(ctx, err)
		}
	}
}

// grow returns dst with spare capacity: doubling, at least 512 bytes, and no
// more than remain when remain is the rest of the message (the last frame of
// an uncompressed message), so that a reused buffer of the right size stays
// the right size. It never trusts a length more than doubling allows. A
// buffer over 64 KiB is rounded up to a big-buffer class (bigbuf.go), so
// that it can be pooled (see putBig).
func grow(dst []byte, remain int64, open bool) []byte {
	add := max(cap(dst), 512)
	if !open && remain < int64(add) {
		add = int(remain)
	}
	size := len(dst) + add
	if size > bigMin {
		_, size = bigClass(size)
	}
	nd := make([]byte, len(dst), size)
	copy(nd, dst)
	return nd
}

// growInflated returns dst, full with a compressed message's output from
// start on, with spare capacity. A deflate bomb must not make the reader
// hold much more than the size limit, and growing by copying holds the old
// buffer and the new one at once: so the buffer doubles while it stays
// within a sixteenth of the limit, then goes to the limit in one step (a
// peak of 1.0625× the limit, and at most 1.125× allocated in all). A
// message that reaches the limit is not grown past it (see AppendMessage).
func (c *Conn) growInflated(dst []byte, start int) []byte {
	limit := c.cfg.maxMessage
	have := int64(len(dst) - start)
	add := int64(max(cap(dst), 512))
	if limit > 0 && have+add > limit/16 {
		add = limit - have
	}
	nd := make([]byte, len(dst), int64(len(dst))+add)
	copy(nd, dst)
	return nd
}

var discardPool = sync.Pool{New: func() any { b := make([]byte, 2048); return &b }}

// messageReader is the io.Reader NextReader returns; one per Conn, reused.
type messageReader struct{ c *Conn }

func (r *messageReader) Read(p []byte) (int, error) {
	c := r.c
	c.readMu.Lock()
	defer c.readMu.Unlock()
	return c.readPayload(p)
}

// beginMessage discards the rest of any message being read, then reads frames
// until the first frame of a data message, handling control frames.
func (c *Conn) beginMessage() (MessageType, error) {
	if c.rerr != nil {
		return 0, c.rerr
	}
	if c.proto.InMessage() {
		// Discard the rest of the previous message (still validated).
		scratch := discardPool.Get().(*[]byte)
		for c.proto.InMessage() {
			if _, err := c.readPayload(*scratch); err != nil && err != io.EOF {
				discardPool.Put(scratch)
				return 0, err
			}
		}
		discardPool.Put(scratch)
	}
	// Wait for the next message here, high on the stack, so that an idle
	// reader's goroutine keeps a small stack.
	if c.stream.Raw() {
		// A plain socket: keep the buffer while data flows; it goes back
		// to the pool only when the reader parks.
		if c.rr == c.rw {
			if err := c.waitRaw(); err != nil {
				return 0, err
			}
		}
	} else {
		c.releaseReadBuf()
		if c.rbuf == nil {
			if err := c.fill(1); err != nil {
				return 0, err
			}
		}
	}
	if err := c.nextDataFrame(); err != nil {
		return 0, err
	}
	if c.proto.Compressed() {
		c.inflater.begin(c.cfg.maxMessage)
	}
	return MessageType(c.proto.Opcode()), nil
}

// readPayload reads message payload into p; io.EOF marks the end of the
// message. The engine validates UTF-8 of text messages and enforces the size
// limit.
func (c *Conn) readPayload(p []byte) (int, error) {
	if c.rerr != nil {
		return 0, c.rerr
	}
	if !c.proto.InMessage() {
		return 0, io.EOF
	}
	var n int
	var err error
	if c.proto.Compressed() {
		n, err = c.inflater.read(c, p)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if perr := c.proto.Inflated(p[:n]); perr != nil {
			return 0, c.failProto(perr)
		}
	} else {
		n, err = c.readRaw(p)
		if err != nil && err != io.EOF {
			return 0, err
		}
	}
	if err == io.EOF {
		if perr := c.proto.EndMessage(); perr != nil {
			return n, c.failProto(perr)
		}
		if c.trace != nil {
			c.traceRead()
		}
		if n > 0 {
			// Deliver the bytes now; the next call reports io.EOF.
			return n, nil
		}
		return 0, io.EOF
	}
	return n, nil
}

// readRaw reads the (possibly compressed) payload of the current message's
// frames, crossing frame boundaries, and returns io.EOF after the last frame.
func (c *Conn) readRaw(p []byte) (int, error) {
	for c.proto.Remaining() == 0 {
		if c.proto.FramesDone() {
			return 0, io.EOF
		}
		if err := c.nextDataFrame(); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if rem := c.proto.Remaining(); int64(len(p)) > rem {
		p = p[:rem]
	}
	var n int
	if c.rr < c.rw {
		n = copy(p, c.rbuf[c.rr:c.rw])
		c.rr += n
	} else if len(p) >= max(len(c.rbuf), len(c.ctlBuf)) {
		// Large reads go straight into p; a very large one waits for
		// much of it to arrive (see sock.Stream.RaiseLowat).
		c.stream.RaiseLowat(len(p))
		var err error
		n, err = c.stream.Read(p)
		if n == 0 && err != nil {
			return 0, c.readFailed(err)
		}
		c.drained = n < len(p)
		c.bytesIn.Add(uint64(n))
	} else {
		c.sizeReadBuf()
		c.rr, c.rw = 0, 0
		m, err := c.stream.Read(c.rbuf)
		if m == 0 && err != nil {
			return 0, c.readFailed(err)
		}
		c.sawRead(m)
		c.drained = m < len(c.rbuf)
		c.bytesIn.Add(uint64(m))
		c.rw = m
		n = copy(p, c.rbuf[:m])
		c.rr = n
	}
	if err := c.proto.Payload(p[:n]); err != nil {
		return 0, c.failProto(err)
	}
	// Whichever way the bytes came (a direct read, or through the read
	// buffer when the caller reads in small pieces), the mark must not
	// outlast what the frame still owes the socket.
	c.stream.LowerLowat(c.proto.Remaining() - int64(c.rw-c.rr))
	return n, nil
}

// readBufPool holds the read buffers of default size. A connection gives
// its buffer back whenever it has read everything the socket had at a
// message boundary, and waits for the next message without one: an idle
// connection costs no read buffer.
var readBufPool = sync.Pool{New: func() any { b := make([]byte, defaultBufSize); return &b }}

// bigReadBuf is the read buffer of a connection (of the default buffer
// size) whose reads keep finding more than a default buffer holds: while
// it streams messages of a few KiB, one read takes in many of them instead
// of one read (or two) each. It comes from its own pool and goes back like
// the small one, so an idle connection holds neither.
const bigReadBuf = 64 << 10

var bigReadBufPool = sync.Pool{New: func() any { b := make([]byte, bigReadBuf); return &b }}

func (c *Conn) acquireReadBuf() {
	switch {
	case c.rbufSize != defaultBufSize:
		c.rbuf = make([]byte, c.rbufSize)
		return
	case c.rbig:
		c.rbufp = bigReadBufPool.Get().(*[]byte)
	default:
		c.rbufp = readBufPool.Get().(*[]byte)
	}
	c.rbuf = *c.rbufp
}

// putReadBuf gives the pooled read buffer back.
func (c *Conn) putReadBuf() {
	if len(*c.rbufp) == bigReadBuf {
		bigReadBufPool.Put(c.rbufp)
	} else {
		readBufPool.Put(c.rbufp)
	}
	c.rbufp, c.rbuf = nil, nil
}

// sizeReadBuf makes sure the connection has a read buffer of the size its
// recent reads asked for, before a read into the whole (empty) buffer.
func (c *Conn) sizeReadBuf() {
	if c.rbuf == nil {
		c.acquireReadBuf()
		return
	}
	if c.rbufp != nil && (len(c.rbuf) == bigReadBuf) != c.rbig {
		c.putReadBuf()
		c.acquireReadBuf()
	}
}

// sawRead records how much a read into the whole read buffer brought: a
// full default buffer, or more than a default buffer holds, asks for the
// big buffer; less asks for the default one.
func (c *Conn) sawRead(m int) {
	if c.rbufSize == defaultBufSize {
		c.rbig = m >= defaultBufSize
	}
}

// waitRaw reads the socket into the (empty) read buffer at a message
// boundary, waiting without a buffer when nothing has arrived (see
// sock.Stream.ReadBuffered). It is called with rr == rw.
func (c *Conn) waitRaw() error {
	c.rr, c.rw = 0, 0
	n, err := c.stream.ReadBuffered((*readBuffer)(c))
	if err != nil {
		// A closed socket's error needs no second Close.
		return c.readEnded(err, errors.Is(err, net.ErrClosed))
	}
	c.rw = n
	c.sawRead(n)
	c.drained = c.rw < len(c.rbuf)
	c.bytesIn.Add(uint64(c.rw))
	return nil
}

// readBuffer lends the Conn's read buffer to waitRaw's raw read.
type readBuffer Conn

// Take returns the read buffer, sized as recent reads asked for.
func (b *readBuffer) Take() []byte {
	c := (*Conn)(b)
	c.sizeReadBuf()
	return c.rbuf
}

// Park gives a pooled read buffer back while the reader waits.
func (b *readBuffer) Park() {
	if c := (*Conn)(b); c.rbufp != nil {
		c.putReadBuf()
	}
}

// releaseReadBuf gives an empty pooled read buffer back while the
// connection waits for its next message.
func (c *Conn) releaseReadBuf() {
	if c.rbufp != nil && c.rr == c.rw && c.drained {
		c.putReadBuf()
		c.rr, c.rw = 0, 0
	}
}

// fill makes at least n bytes (n <= the read buffer size) available in
// rbuf[rr:rw]. Without a buffer (idle), it waits for the first bytes in the
// small control buffer, then takes a buffer from the pool.
func (c *Conn) fill(n int) error {
	if c.rw-c.rr >= n {
		return nil
	}
	for c.rbuf == nil {
		m, err := c.stream.Read(c.ctlBuf[:])
		if m == 0 {
			if err != nil {
				return c.readFailed(err)
			}
			continue
		}
		c.bytesIn.Add(uint64(m))
		c.acquireReadBuf()
		c.rr, c.rw = 0, copy(c.rbuf, c.ctlBuf[:m])
		c.drained = m < len(c.ctlBuf)
		if c.rw >= n {
			return nil
		}
	}
	if c.rr+n > len(c.rbuf) {
		c.rw = copy(c.rbuf, c.rbuf[c.rr:c.rw])
		c.rr = 0
	}
	for c.rw-c.rr < n {
		m, err := c.stream.Read(c.rbuf[c.rw:])
		c.drained = m < len(c.rbuf)-c.rw
		c.rw += m
		c.bytesIn.Add(uint64(m))
		if err != nil && c.rw-c.rr < n {
			return c.readFailed(err)
		}
	}
	return nil
}

// readFailed records a network read error as the sticky read error.
func (c *Conn) readFailed(err error) error {
	return c.readEnded(err, false)
}

// readEnded is readFailed; closed says that the socket is known to be
// closed already (a raw read found it closed), which a second Close
// would only report again, in an error made for nothing.
func (c *Conn) readEnded(err error, closed bool) error {
	if c.rerr != nil {
		return c.rerr
	}
	c.rerr = lostErr(err)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		// A deadline (or cancelled context) interrupted the read.
		c.rerr = err
	} else if c.pongWasBlocked() {
		// The read failed on the socket a pong's write closed.
		c.rerr = lostErr(errPongBlocked)
	}
	if !closed {
		c.nc.Close()
	}
	c.endClose()
	if c.trace != nil {
		c.traceLost(c.rerr)
	}
	return c.rerr
}

// pongWasBlocked reports whether a pong's write timed out, closing the
// connection.
func (c *Conn) pongWasBlocked() bool {
	return c.pongBlocked.Load()
}

// nextDataFrame reads frame headers, handling control frames, until the
// header of a data frame, which the engine has checked and made current: the
// first frame of a message at a message boundary, a continuation frame
// inside one.
func (c *Conn) nextDataFrame() error {
	for {
		if c.rw-c.rr < frame.MaxHeaderLen { // (else a whole header is there)
			if err := c.fill(2); err != nil {
				return err
			}
			if err := c.fill(frame.HeaderLen(c.rbuf[c.rr], c.rbuf[c.rr+1])); err != nil {
				return err
			}
		}
		ev, n, err := c.proto.Receive(c.rbuf[c.rr:c.rw])
		if err != nil {
			return c.failProto(err)
		}
		c.rr += n
		if ev.Kind != protocol.Control {
			return nil
		}
		if err := c.handleControl(ev); err != nil {
			return err
		}
	}
}

// bytesRead returns how many bytes have arrived so far: read from the
// socket, plus those the kernel holds for a read that waits for more of a
// large frame (see sock.Stream.Unread). It changes whenever bytes arrive.
func (c *Conn) bytesRead() uint64 { return c.bytesIn.Load() + c.stream.Unread() }
