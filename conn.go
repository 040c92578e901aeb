package wsclient

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/utf8v"
)

// MessageType is the type of a message or control frame. Its values are the
// RFC 6455 opcodes.
type MessageType int

// Message and control frame types.
const (
	TextMessage   MessageType = 1
	BinaryMessage MessageType = 2
	CloseMessage  MessageType = 8
	PingMessage   MessageType = 9
	PongMessage   MessageType = 10
)

// String returns the name of the MessageType.
func (t MessageType) String() string { return frame.Opcode(t).String() }

// Conn is a client WebSocket connection.
//
// Writes (WriteMessage, NextWriter, Ping, Pong, Close) are safe to call from
// many goroutines at once: the frames of one message never interleave with
// those of another, while control frames may go out between the fragments of
// a message being streamed. Reads (NextReader, ReadMessage, AppendMessage and
// the reader NextReader returns) must come from one goroutine at a time.
//
// Pings are answered with pongs automatically while the connection is read;
// SetControlHandler lets the application see every ping, pong and close.
//
// WebSocket has no acknowledgements: a message that WriteMessage has written
// to the socket can still be lost if the connection dies before the peer
// reads it.
type Conn struct {
	nc  net.Conn
	cfg connConfig

	subprotocol string
	extensions  string
	resp        *http.Response

	// Read side, owned by the single reader (readMu).
	readMu   sync.Mutex
	rbuf     []byte  // nil while idle (see fill)
	rbufp    *[]byte // rbuf's pool entry, if it came from readBufPool
	rbufSize int
	drained  bool // the last socket read returned less than it could hold
	rr, rw   int
	rerr     error        // sticky read error
	fh       frame.Header // current data frame
	fremain  int64        // unread payload bytes of the current data frame
	inMsg    bool         // a message is being read
	msgType  MessageType
	msgSize  int64
	msgDefl  bool // the message being read is compressed
	utf8     utf8v.Validator
	reader   messageReader
	ctlBuf   [frame.MaxControlPayload]byte
	onCtl    atomic.Pointer[func(MessageType, []byte)]
	inflater *inflater

	// Write side.
	msgMu      ctxLock // held for a whole message (WriteMessage, NextWriter … Close)
	wmu        ctxLock // held for one frame
	wbuf       []byte
	closeSent  bool  // guarded by wmu
	werr       error // sticky write error, guarded by wmu
	deflater   *deflater
	noCompress atomic.Bool

	dlMu     sync.Mutex
	rdl, wdl time.Time // deadlines set by the user, restored after a context watch

	pongMu      sync.Mutex
	pong        [frame.MaxControlPayload]byte // latest unanswered ping's payload
	pongLen     int
	pongPending atomic.Bool

	bytesIn atomic.Uint64 // bytes read from the socket, for keepalive

	closeRecv chan struct{} // closed when the close handshake or the connection has ended
	closeOnce sync.Once
	closeErr  *CloseError // the peer's close, set before closeRecv is closed
}

// connConfig holds the per-connection settings taken from the Dialer.
type connConfig struct {
	maxMessage   int64
	fragmentSize int
	closeTimeout time.Duration
	writeBufSize int
}

var aLongTimeAgo = time.Unix(1, 0)

// newConn wraps an upgraded connection. leftover holds bytes read past the
// handshake response.
func newConn(nc net.Conn, leftover []byte, cfg connConfig, readBufSize int) *Conn {
	if readBufSize < 256 {
		readBufSize = 256
	}
	if len(leftover) > readBufSize {
		readBufSize = len(leftover)
	}
	c := &Conn{nc: nc, cfg: cfg, closeRecv: make(chan struct{}), msgMu: make(ctxLock, 1), wmu: make(ctxLock, 1)}
	c.rbufSize = readBufSize
	if len(leftover) > 0 {
		c.acquireReadBuf()
		c.rw = copy(c.rbuf, leftover)
	}
	c.reader.c = c
	return c
}

// Subprotocol returns the subprotocol the server selected, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns the negotiated Sec-WebSocket-Extensions, or "".
func (c *Conn) Extensions() string { return c.extensions }

// Response returns the server's handshake response. Its body is empty.
func (c *Conn) Response() *http.Response { return c.resp }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// NetConn returns the underlying connection. Reading from or writing to it
// corrupts the WebSocket stream; it is meant for socket options and stats.
func (c *Conn) NetConn() net.Conn { return c.nc }

// SetReadDeadline sets the deadline for reads on the underlying connection.
// A read that times out leaves the connection unusable.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.dlMu.Lock()
	c.rdl = t
	c.dlMu.Unlock()
	return c.nc.SetReadDeadline(t)
}

// SetWriteDeadline sets the deadline for writes on the underlying connection.
// A write that times out leaves the connection unusable.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.dlMu.Lock()
	c.wdl = t
	c.dlMu.Unlock()
	return c.nc.SetWriteDeadline(t)
}

// SetControlHandler installs f to be called, on the reading goroutine, for
// every ping, pong and close frame received. The payload is only valid during
// the call. Pings are answered and closes handled whether or not f is set.
// A nil f removes the handler.
func (c *Conn) SetControlHandler(f func(typ MessageType, payload []byte)) {
	if f == nil {
		c.onCtl.Store(nil)
		return
	}
	c.onCtl.Store(&f)
}

// SetCompression turns compression of outgoing messages on or off when
// permessage-deflate was negotiated (it is on by default then). It applies to
// messages started after the call.
func (c *Conn) SetCompression(on bool) { c.noCompress.Store(!on) }

// ---------------------------------------------------------------------------
// Reading

// watchCtx arranges for blocking I/O on the connection to be interrupted when
// ctx is done, by moving the read or write deadline into the past. The
// returned function ends the watch; if the context fired anyway (racing with
// an operation that completed), it puts the deadline back. A context that is
// never done costs nothing.
func (c *Conn) watchCtx(ctx context.Context, read bool) func() {
	if ctx.Done() == nil {
		return nil
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.setDeadline(read, aLongTimeAgo)
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
			c.dlMu.Lock()
			dl := c.wdl
			if read {
				dl = c.rdl
			}
			c.dlMu.Unlock()
			c.setDeadline(read, dl)
		}
	}
}

func (c *Conn) setDeadline(read bool, t time.Time) {
	if read {
		c.nc.SetReadDeadline(t)
	} else {
		c.nc.SetWriteDeadline(t)
	}
}

// ctxErr turns an I/O error caused by a done context into the context's
// error, closing the connection (its stream is now in an unknown state).
func (c *Conn) ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		c.nc.Close()
		return ctx.Err()
	}
	return err
}

// NextReader waits for the next data message and returns its type and a
// reader for its payload, which returns io.EOF at the end of the message.
// The reader is valid until the next call to NextReader, ReadMessage or
// AppendMessage; an unread rest of the message is discarded then. ctx bounds
// the wait for the message to begin; if it ends first, the connection is
// closed and ctx's error is returned.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if stop := c.watchCtx(ctx, true); stop != nil {
		defer stop()
	}
	typ, err := c.beginMessage()
	if err != nil {
		return 0, nil, c.ctxErr(ctx, err)
	}
	return typ, &c.reader, nil
}

// ReadMessage reads the next data message into a new slice.
func (c *Conn) ReadMessage(ctx context.Context) (MessageType, []byte, error) {
	return c.AppendMessage(ctx, nil)
}

// AppendMessage reads the next data message and appends its payload to dst,
// returning the extended slice. Passing the previous result sliced to zero
// length reads without allocating once the buffer is large enough.
func (c *Conn) AppendMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if stop := c.watchCtx(ctx, true); stop != nil {
		defer stop()
	}
	typ, err := c.beginMessage()
	if err != nil {
		return 0, dst, c.ctxErr(ctx, err)
	}
	for {
		// Grow as bytes arrive, never by the length a header announces
		// (a hostile server could claim 2^63 bytes). At the end of a frame
		// an empty read moves on to the next frame or reports the end.
		if len(dst) == cap(dst) && (c.msgDefl || c.fremain > 0) {
			dst = grow(dst, c.fremain, c.msgDefl || !c.fh.Fin)
		}
		n, err := c.readPayload(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return typ, dst, nil
		}
		if err != nil {
			return 0, dst, c.ctxErr(ctx, err)
		}
	}
}

// grow returns dst with spare capacity: doubling, at least 512 bytes, and no
// more than remain when remain is the rest of the message (the last frame of
// an uncompressed message), so that a reused buffer of the right size stays
// the right size. It never trusts a length more than doubling allows.
func grow(dst []byte, remain int64, open bool) []byte {
	add := max(cap(dst), 512)
	if !open && remain < int64(add) {
		add = int(remain)
	}
	nd := make([]byte, len(dst), len(dst)+add)
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
	if c.inMsg {
		// Discard the rest of the previous message (still validated).
		scratch := discardPool.Get().(*[]byte)
		for c.inMsg {
			if _, err := c.readPayload(*scratch); err != nil && err != io.EOF {
				discardPool.Put(scratch)
				return 0, err
			}
		}
		discardPool.Put(scratch)
	}
	c.releaseReadBuf()
	if c.rbuf == nil {
		// Wait for the next message here, high on the stack, so that an
		// idle reader's goroutine keeps a small stack.
		if err := c.fill(1); err != nil {
			return 0, err
		}
	}
	h, err := c.nextDataFrame()
	if err != nil {
		return 0, err
	}
	if h.Opcode == frame.OpContinuation {
		return 0, c.fail(protoErr(CloseProtocolError, ErrProtocol, "continuation frame with no message to continue"))
	}
	c.msgDefl = false
	if h.RSV&frame.RSV1 != 0 {
		if c.inflater == nil {
			return 0, c.fail(protoErr(CloseProtocolError, ErrProtocol, "RSV1 set without a negotiated extension"))
		}
		c.msgDefl = true
		c.inflater.begin(c.cfg.maxMessage)
	}
	c.inMsg = true
	c.msgType = MessageType(h.Opcode)
	c.msgSize = 0
	c.utf8.Reset()
	if err := c.acceptDataFrame(h); err != nil {
		return 0, err
	}
	return c.msgType, nil
}

// acceptDataFrame makes h the current frame after the size check.
func (c *Conn) acceptDataFrame(h frame.Header) error {
	c.fh = h
	c.fremain = h.Length
	// The limit applies to the frames' payload (compressed or not) here and
	// to the decompressed bytes in the inflater.
	if c.cfg.maxMessage > 0 {
		c.msgSize += h.Length
		if c.msgSize > c.cfg.maxMessage {
			return c.fail(protoErr(CloseMessageTooBig, ErrMessageTooBig, "message of at least %d bytes is over the %d-byte limit", c.msgSize, c.cfg.maxMessage))
		}
	}
	return nil
}

// readPayload reads message payload into p; io.EOF marks the end of the
// message. It validates UTF-8 of text messages and enforces the size limit.
func (c *Conn) readPayload(p []byte) (int, error) {
	if c.rerr != nil {
		return 0, c.rerr
	}
	if !c.inMsg {
		return 0, io.EOF
	}
	var n int
	var err error
	if c.msgDefl {
		n, err = c.inflater.read(c, p)
		if err != nil && err != io.EOF {
			return 0, err
		}
	} else {
		n, err = c.readRaw(p)
		if err != nil && err != io.EOF {
			return 0, err
		}
	}
	if c.msgType == TextMessage && n > 0 && !c.utf8.Write(p[:n]) {
		return 0, c.fail(protoErr(CloseInvalidFramePayloadData, ErrInvalidUTF8, "text message is not valid UTF-8"))
	}
	if err == io.EOF {
		c.inMsg = false
		if c.msgType == TextMessage && !c.utf8.Done() {
			return n, c.fail(protoErr(CloseInvalidFramePayloadData, ErrInvalidUTF8, "text message ends inside a UTF-8 sequence"))
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
	for c.fremain == 0 {
		if c.fh.Fin {
			return 0, io.EOF
		}
		h, err := c.nextDataFrame()
		if err != nil {
			return 0, err
		}
		if h.Opcode != frame.OpContinuation {
			return 0, c.fail(protoErr(CloseProtocolError, ErrProtocol, "new %s message while a fragmented message is unfinished", h.Opcode))
		}
		if h.RSV != 0 {
			return 0, c.fail(protoErr(CloseProtocolError, ErrProtocol, "RSV bits set on a continuation frame"))
		}
		if err := c.acceptDataFrame(h); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > c.fremain {
		p = p[:c.fremain]
	}
	var n int
	if c.rr < c.rw {
		n = copy(p, c.rbuf[c.rr:c.rw])
		c.rr += n
	} else if len(p) >= max(len(c.rbuf), len(c.ctlBuf)) {
		// Large reads go straight into p.
		var err error
		n, err = c.nc.Read(p)
		if n == 0 && err != nil {
			return 0, c.readFailed(err)
		}
		c.drained = n < len(p)
		c.bytesIn.Add(uint64(n))
	} else {
		if c.rbuf == nil {
			c.acquireReadBuf()
		}
		c.rr, c.rw = 0, 0
		m, err := c.nc.Read(c.rbuf)
		if m == 0 && err != nil {
			return 0, c.readFailed(err)
		}
		c.drained = m < len(c.rbuf)
		c.bytesIn.Add(uint64(m))
		c.rw = m
		n = copy(p, c.rbuf[:m])
		c.rr = n
	}
	c.fremain -= int64(n)
	return n, nil
}

// readBufPool holds the read buffers of default size. A connection gives
// its buffer back whenever it has read everything the socket had at a
// message boundary, and waits for the next message without one: an idle
// connection costs no read buffer.
var readBufPool = sync.Pool{New: func() any { b := make([]byte, defaultBufSize); return &b }}

func (c *Conn) acquireReadBuf() {
	if c.rbufSize == defaultBufSize {
		c.rbufp = readBufPool.Get().(*[]byte)
		c.rbuf = *c.rbufp
	} else {
		c.rbuf = make([]byte, c.rbufSize)
	}
}

// releaseReadBuf gives an empty pooled read buffer back while the
// connection waits for its next message.
func (c *Conn) releaseReadBuf() {
	if c.rbufp != nil && c.rr == c.rw && c.drained {
		readBufPool.Put(c.rbufp)
		c.rbufp, c.rbuf = nil, nil
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
		m, err := c.nc.Read(c.ctlBuf[:])
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
		m, err := c.nc.Read(c.rbuf[c.rw:])
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
	if c.rerr != nil {
		return c.rerr
	}
	c.rerr = lostErr(err)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		// A deadline (or cancelled context) interrupted the read.
		c.rerr = err
	}
	c.nc.Close()
	c.endClose()
	return c.rerr
}

// nextDataFrame reads frame headers, handling control frames, until the
// header of a data frame.
func (c *Conn) nextDataFrame() (frame.Header, error) {
	for {
		if err := c.fill(2); err != nil {
			return frame.Header{}, err
		}
		if err := c.fill(frame.HeaderLen(c.rbuf[c.rr], c.rbuf[c.rr+1])); err != nil {
			return frame.Header{}, err
		}
		h, n, err := frame.Parse(c.rbuf[c.rr:c.rw])
		if err != nil {
			return h, c.fail(protoErr(CloseProtocolError, ErrProtocol, "%v", err))
		}
		c.rr += n
		if h.Masked {
			return h, c.fail(protoErr(CloseProtocolError, ErrProtocol, "server sent a masked frame"))
		}
		if h.RSV&^c.allowedRSV(h) != 0 {
			return h, c.fail(protoErr(CloseProtocolError, ErrProtocol, "reserved bits %#x set without a negotiated extension", h.RSV))
		}
		if !h.Opcode.IsControl() {
			return h, nil
		}
		if err := c.handleControl(h); err != nil {
			return h, err
		}
	}
}

// allowedRSV returns the RSV bits a frame may carry: RSV1 on the first frame
// of a data message when permessage-deflate is on; checked again by callers
// for continuation frames.
func (c *Conn) allowedRSV(h frame.Header) byte {
	if c.inflater != nil && (h.Opcode == frame.OpText || h.Opcode == frame.OpBinary) {
		return frame.RSV1
	}
	return 0
}

// handleControl reads and acts on a control frame's payload.
func (c *Conn) handleControl(h frame.Header) error {
	n := int(h.Length)
	if err := c.fill(n); err != nil {
		return err
	}
	p := c.ctlBuf[:n]
	copy(p, c.rbuf[c.rr:c.rr+n])
	c.rr += n
	typ := MessageType(h.Opcode)
	switch h.Opcode {
	case frame.OpPing:
		// Answer first, then show the ping: the handler sees it ponged.
		c.queuePong(p)
		c.controlHandler(typ, p)
		return nil
	case frame.OpPong:
		c.controlHandler(typ, p)
		return nil
	}
	c.controlHandler(typ, p)
	// Close frame.
	code, reason, err := frame.ParseClose(p)
	if err != nil {
		// A bad close payload, including a reason that is not UTF-8, is a
		// protocol error (1002).
		return c.fail(protoErr(CloseProtocolError, ErrProtocol, "bad close frame: %v", err))
	}
	ce := &CloseError{Code: code, Reason: reason}
	// Echo the close, unless ours went out already. A writer stuck on a
	// peer that does not read holds the lock: wait for it only so long
	// (awaitTCPClose closes the socket, which unblocks it).
	if c.wmu.lockTimeout(c.cfg.closeTimeout) {
		if !c.closeSent && c.werr == nil {
			reply := code
			if reply == CloseNoStatusReceived {
				reply = CloseNormalClosure
			}
			c.nc.SetWriteDeadline(time.Now().Add(c.cfg.closeTimeout))
			c.writeCloseLocked(reply, "")
		}
		c.unlockWrite()
	}
	c.rerr = ce
	c.closeErr = ce
	c.awaitTCPClose()
	c.endClose()
	return ce
}

// awaitTCPClose gives the server a short time to close the TCP connection
// first, as RFC 6455 section 7.1.1 asks, then closes it.
func (c *Conn) awaitTCPClose() {
	wait := min(c.cfg.closeTimeout, time.Second)
	c.nc.SetReadDeadline(time.Now().Add(wait))
	var scratch [256]byte
	for {
		if _, err := c.nc.Read(scratch[:]); err != nil {
			break
		}
	}
	c.nc.Close()
}

// fail ends the connection after a protocol error found while reading: it
// sends a close frame with the error's code (if none was sent yet), closes
// the TCP connection and makes err the sticky read error.
func (c *Conn) fail(err *ProtocolError) error {
	if c.rerr != nil {
		return c.rerr
	}
	c.rerr = err
	if c.wmu.lockTimeout(c.cfg.closeTimeout) {
		if !c.closeSent && c.werr == nil {
			c.nc.SetWriteDeadline(time.Now().Add(c.cfg.closeTimeout))
			c.writeCloseLocked(err.Code, "")
		}
		c.unlockWrite()
	}
	c.nc.Close()
	c.endClose()
	return err
}

// controlHandler calls the application's control handler, if any.
func (c *Conn) controlHandler(typ MessageType, p []byte) {
	if f := c.onCtl.Load(); f != nil {
		(*f)(typ, p)
	}
}

// queuePong arranges for a pong with payload p to be sent. The reader never
// waits for the write lock (a writer may be stuck on a peer that does not
// read, and that peer may wait for our pong): the pong goes out now if the
// lock is free, otherwise the writer holding it sends it after its frame.
// Only the latest ping is answered when several arrive meanwhile, as RFC
// 6455 section 5.5.3 allows.
func (c *Conn) queuePong(p []byte) {
	c.pongMu.Lock()
	c.pongLen = copy(c.pong[:], p)
	c.pongMu.Unlock()
	c.pongPending.Store(true)
	if c.wmu.tryLock() {
		c.unlockWrite()
	}
}

// unlockWrite releases the write lock after sending any pong queued by the
// reader while the lock was held.
func (c *Conn) unlockWrite() {
	for {
		if c.pongPending.Load() {
			c.sendPendingPongLocked()
		}
		c.wmu.unlock()
		if !c.pongPending.Load() || !c.wmu.tryLock() {
			return
		}
	}
}

func (c *Conn) sendPendingPongLocked() {
	if !c.pongPending.Swap(false) {
		return
	}
	var p [frame.MaxControlPayload]byte
	c.pongMu.Lock()
	n := copy(p[:], c.pong[:c.pongLen])
	c.pongMu.Unlock()
	if !c.closeSent && c.werr == nil {
		c.writeFrameLocked(true, 0, frame.OpPong, p[:n])
	}
}

func (c *Conn) endClose() {
	c.closeOnce.Do(func() { close(c.closeRecv) })
}

// ---------------------------------------------------------------------------
// Writing

// writeFrameLocked masks and writes one frame. The caller holds wmu.
func (c *Conn) writeFrameLocked(fin bool, rsv byte, op frame.Opcode, payload []byte) error {
	if c.werr != nil {
		return c.werr
	}
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Masked: true, Length: int64(len(payload))}
	binary.LittleEndian.PutUint32(h.Mask[:], maskKey())
	total := frame.MaxHeaderLen + len(payload)
	// Write buffers come from pools, so an idle connection holds none; a
	// custom WriteBufferSize gets a buffer of its own.
	var buf []byte
	var pooled *[]byte
	var pool *sync.Pool
	switch {
	case total <= cap(c.wbuf):
		buf = c.wbuf
	case total <= defaultWriteBuf && c.cfg.writeBufSize == defaultWriteBuf:
		pool = &writeBufPool
	case total <= c.cfg.writeBufSize:
		c.wbuf = make([]byte, c.cfg.writeBufSize)
		buf = c.wbuf
	default:
		pool = &largeBufPool
	}
	if pool != nil {
		pooled = pool.Get().(*[]byte)
		buf = *pooled
	}
	buf = buf[:cap(buf)]
	n := frame.Put(buf, h)
	pos := 0
	var err error
	for {
		m := min(len(payload), len(buf)-n)
		pos = frame.MaskCopy(buf[n:n+m], payload[:m], h.Mask, pos)
		payload = payload[m:]
		if _, err = c.nc.Write(buf[:n+m]); err != nil || len(payload) == 0 {
			break
		}
		n = 0
	}
	if pooled != nil {
		pool.Put(pooled)
	}
	if err != nil {
		c.werr = lostErr(err)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			c.werr = err
		}
		c.nc.Close()
		return c.werr
	}
	return nil
}

const (
	defaultBufSize  = 4096
	defaultWriteBuf = defaultBufSize + frame.MaxHeaderLen
	largeWriteBuf   = 64 << 10
)

var writeBufPool = sync.Pool{New: func() any { b := make([]byte, defaultWriteBuf); return &b }}

var largeBufPool = sync.Pool{New: func() any { b := make([]byte, largeWriteBuf); return &b }}

// writeCloseLocked sends a close frame and marks the close as sent.
func (c *Conn) writeCloseLocked(code int, reason string) error {
	var p [frame.MaxControlPayload]byte
	payload := frame.AppendClose(p[:0], code, reason)
	c.closeSent = true
	return c.writeFrameLocked(true, 0, frame.OpClose, payload)
}

// writeData writes one data frame under wmu, honouring ctx: while waiting
// for the lock (returning ctx's error without touching the socket) and during
// the write (closing the connection, whose stream is then broken).
func (c *Conn) writeData(ctx context.Context, fin bool, rsv byte, op frame.Opcode, p []byte) error {
	if err := c.wmu.lockCtx(ctx); err != nil {
		return err
	}
	defer c.unlockWrite()
	if c.closeSent {
		return ErrClosed
	}
	if stop := c.watchCtx(ctx, false); stop != nil {
		defer stop()
	}
	return c.ctxErr(ctx, c.writeFrameLocked(fin, rsv, op, p))
}

// ctxLock is a mutex whose Lock can give up when a context ends.
type ctxLock chan struct{}

func (l ctxLock) lock() { l <- struct{}{} }

func (l ctxLock) tryLock() bool {
	select {
	case l <- struct{}{}:
		return true
	default:
		return false
	}
}

// lockTimeout waits at most d for the lock.
func (l ctxLock) lockTimeout(d time.Duration) bool {
	if l.tryLock() {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case l <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (l ctxLock) unlock() { <-l }

func (l ctxLock) lockCtx(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	default:
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func dataOpcode(typ MessageType) (frame.Opcode, error) {
	switch typ {
	case TextMessage, BinaryMessage:
		return frame.Opcode(typ), nil
	}
	return 0, errors.New("wsclient: message type must be TextMessage or BinaryMessage")
}

// WriteMessage sends data as one message of type typ (TextMessage or
// BinaryMessage) in a single frame, compressed when permessage-deflate is on
// and the message is not shorter than the compression threshold. ctx bounds
// the write; if it ends first the connection is closed.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, data []byte) error {
	op, err := dataOpcode(typ)
	if err != nil {
		return err
	}
	if err := c.msgMu.lockCtx(ctx); err != nil {
		return err
	}
	defer c.msgMu.unlock()
	if c.deflater != nil && !c.noCompress.Load() && c.deflater.worth(len(data)) {
		out, err := c.deflater.compress(data)
		if err != nil {
			return err
		}
		return c.writeData(ctx, true, frame.RSV1, op, out)
	}
	return c.writeData(ctx, true, 0, op, data)
}

// NextWriter starts a message of type typ and returns a writer for its
// payload. Data is sent in frames of the Dialer's FragmentSize as it
// accumulates; Close sends the final frame. Other messages wait until the
// writer is closed; pings, pongs and close frames do not.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	op, err := dataOpcode(typ)
	if err != nil {
		return nil, err
	}
	if err := c.msgMu.lockCtx(ctx); err != nil {
		return nil, err
	}
	w := &messageWriter{c: c, ctx: ctx, op: op}
	if c.deflater != nil && !c.noCompress.Load() {
		w.defl = true
		w.rsv = frame.RSV1
		c.deflater.beginStream(w.emit)
	}
	return w, nil
}

// messageWriter streams one message as a sequence of frames.
type messageWriter struct {
	c      *Conn
	ctx    context.Context
	op     frame.Opcode
	rsv    byte
	buf    []byte
	defl   bool
	closed bool
	err    error
}

func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("wsclient: write to closed message writer")
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.defl {
		if err := w.c.deflater.streamWrite(p); err != nil {
			w.err = err
			return 0, err
		}
		return len(p), nil
	}
	if err := w.emit(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// emit buffers payload bytes and sends full fragments.
func (w *messageWriter) emit(p []byte) error {
	size := w.c.cfg.fragmentSize
	for len(w.buf)+len(p) >= size && w.err == nil {
		if len(w.buf) == 0 {
			// Send straight from p without copying.
			w.err = w.frame(false, p[:size])
			p = p[size:]
			continue
		}
		k := size - len(w.buf)
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		w.err = w.frame(false, w.buf)
		w.buf = w.buf[:0]
	}
	if w.err != nil {
		return w.err
	}
	w.buf = append(w.buf, p...)
	return nil
}

func (w *messageWriter) frame(fin bool, p []byte) error {
	err := w.c.writeData(w.ctx, fin, w.rsv, w.op, p)
	if err != nil && w.op == frame.OpContinuation {
		// Part of the message is on the wire and the rest never will be:
		// the stream cannot go on.
		w.c.CloseNow()
	}
	w.op = frame.OpContinuation
	w.rsv = 0
	return err
}

// Close sends the final frame of the message and lets other messages go.
func (w *messageWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	defer w.c.msgMu.unlock()
	if w.err != nil {
		return w.err
	}
	if w.defl {
		if err := w.c.deflater.streamClose(); err != nil {
			return err
		}
	}
	return w.frame(true, w.buf)
}

// Ping sends a ping with payload (at most 125 bytes).
func (c *Conn) Ping(ctx context.Context, payload []byte) error {
	return c.writeControl(ctx, frame.OpPing, payload)
}

// Pong sends an unsolicited pong with payload (at most 125 bytes).
func (c *Conn) Pong(ctx context.Context, payload []byte) error {
	return c.writeControl(ctx, frame.OpPong, payload)
}

// ErrControlTooLong is returned for a ping or pong payload over 125 bytes.
var ErrControlTooLong = errors.New("wsclient: control frame payload over 125 bytes")

func (c *Conn) writeControl(ctx context.Context, op frame.Opcode, payload []byte) error {
	if len(payload) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	return c.writeData(ctx, true, 0, op, payload)
}

// SendClose starts the close handshake by sending a close frame with code
// and reason, and returns without waiting. The goroutine reading the
// connection goes on receiving the messages the server sent before it saw
// the close, and then the server's close as a *CloseError, after which the
// connection is closed. Use it instead of Close when a reader should not
// miss those messages; bound the wait with a read deadline or context.
func (c *Conn) SendClose(code int, reason string) error {
	if code != CloseNoStatusReceived && !frame.ValidCloseCode(code) {
		return errors.New("wsclient: invalid close code")
	}
	if !c.wmu.lockTimeout(c.cfg.closeTimeout) {
		c.CloseNow()
		return errCloseBlocked
	}
	defer c.unlockWrite()
	if c.werr != nil || c.closeSent {
		return ErrClosed
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.cfg.closeTimeout))
	return c.writeCloseLocked(code, reason)
}

// Close performs the close handshake: it sends a close frame with code and
// reason (a reason longer than 123 bytes is cut), waits up to the close
// timeout for the server's close frame, gives the server a moment to close
// the TCP connection, and closes it. If another goroutine is reading, that
// reader receives the server's close (as a *CloseError); otherwise Close
// reads and discards incoming messages itself (see SendClose to receive
// them instead). Close returns nil after a complete handshake.
func (c *Conn) Close(code int, reason string) error {
	if code != CloseNoStatusReceived && !frame.ValidCloseCode(code) {
		return errors.New("wsclient: invalid close code")
	}
	if !c.wmu.lockTimeout(c.cfg.closeTimeout) {
		c.CloseNow()
		return errCloseBlocked
	}
	if c.werr != nil {
		// Writing already failed: there is no handshake to be had.
		c.wmu.unlock()
		c.nc.Close()
		c.endClose()
		return ErrClosed
	}
	if c.closeSent {
		// A close is under way (ours or an answer to the server's): wait
		// for it to finish, within the close timeout.
		c.wmu.unlock()
		t := time.NewTimer(c.cfg.closeTimeout)
		defer t.Stop()
		select {
		case <-c.closeRecv:
		case <-t.C:
			c.nc.Close()
		}
		return ErrClosed
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.cfg.closeTimeout))
	err := c.writeCloseLocked(code, reason)
	c.unlockWrite()
	if err != nil {
		c.nc.Close()
		c.endClose()
		return err
	}
	deadline := time.Now().Add(c.cfg.closeTimeout)
	if c.readMu.TryLock() {
		c.nc.SetReadDeadline(deadline)
		for c.rerr == nil {
			if _, err := c.beginMessage(); err != nil {
				break
			}
		}
		rerr := c.rerr
		c.readMu.Unlock()
		c.nc.Close()
		c.endClose()
		var ce *CloseError
		if errors.As(rerr, &ce) {
			return nil
		}
		return rerr
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-c.closeRecv:
		c.nc.Close()
		if c.closeErr == nil {
			return ErrConnectionLost
		}
		return nil
	case <-t.C:
		c.nc.Close()
		return errors.New("wsclient: close handshake timed out")
	}
}

// errCloseBlocked: a write held the connection longer than the close
// timeout, so the close frame could not be sent.
var errCloseBlocked = errors.New("wsclient: close frame not sent: a write blocked for the whole close timeout; connection dropped")

// CloseNow closes the TCP connection without a close handshake.
func (c *Conn) CloseNow() error {
	// Close the socket first: it unblocks a writer stuck on a peer that
	// does not read, which holds the write lock.
	err := c.nc.Close()
	c.wmu.lock()
	c.closeSent = true
	if c.werr == nil {
		c.werr = ErrClosed
	}
	c.wmu.unlock()
	c.endClose()
	return err
}

// maskRNGs holds ChaCha8 generators, each seeded from crypto/rand: a
// cryptographically secure source of masking keys that costs no memory per
// connection and about 20 ns per frame (crypto/rand.Read itself costs four
// times that).
var maskRNGs = sync.Pool{New: func() any {
	var seed [32]byte
	fillRandom(seed[:])
	return rand.NewChaCha8(seed)
}}

// maskKey returns a fresh, unpredictable masking key.
func maskKey() uint32 {
	r := maskRNGs.Get().(*rand.ChaCha8)
	k := uint32(r.Uint64())
	maskRNGs.Put(r)
	return k
}

// fillRandom fills b from the operating system's CSPRNG.
// Since Go 1.24, crypto/rand.Read never returns an error (it crashes the
// program irrecoverably if the OS fails to supply randomness).
func fillRandom(b []byte) {
	cryptorand.Read(b)
}
