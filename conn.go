//go:build !js

package wsclient

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/handshake"
	"github.com/wsclient/wsclient/internal/protocol"
	"github.com/wsclient/wsclient/internal/sock"
)

// Conn is a client WebSocket connection.
//
// Writes (WriteMessage, WriteBatch, NextWriter, Ping, Close) are safe to call from
// many goroutines at once: the frames of one message never interleave with
// those of another, while control frames may go out between the fragments of
// a message being streamed. Reads (NextReader, ReadMessage and
// the reader NextReader returns) must come from one goroutine at a time.
//
// Pings are answered with pongs automatically while the connection is read;
// SetControlHandler lets the application see every ping, pong and close.
//
// WebSocket has no acknowledgements: a message that WriteMessage has written
// to the socket can still be lost if the connection dies before the peer
// reads it.
type Conn struct {
	nc  net.Conn // the connection; reads and writes go through stream
	cfg connConfig

	// rawURL is the URL dialled, kept as a string and parsed again by
	// Info (an idle connection keeps no parsed URL): as given, or the last
	// hop of a followed redirect chain (redirected).
	rawURL      string
	subprotocol string
	extensions  string
	respHead    string               // the handshake response's head, as received (HTTP/1.1)
	respHeader  http.Header          // the response's header, over HTTP/2
	h2TLS       *tls.ConnectionState // the HTTP/2 connection's TLS, if any

	// Read side, owned by the single reader (readMu).
	readMu   sync.Mutex
	rbuf     []byte  // nil while idle (see fill)
	rbufp    *[]byte // rbuf's pool entry, if it came from readBufPool
	bigp     *[]byte // the big buffer a message is read into (takeBig), until putBig
	rbufSize int
	rr, rw   int
	rerr     error // sticky read error
	reader   messageReader
	ctlBuf   [frame.MaxControlPayload]byte
	drained  bool // the last socket read returned less than it could hold
	rbig     bool // reads ask for the big read buffer (see bigReadBuf)
	// redirected: the dial followed a redirect (rawURL is its last hop).
	redirected bool
	onCtl      atomic.Pointer[func(MessageType, []byte)]
	inflater   *inflater

	// proto is the protocol engine: message, frame-rule and close state,
	// and the bytes of every frame sent. Its receive side belongs to the
	// reader (readMu); its send side (frames, the close sent) is guarded
	// by wmu; what reads both (CloseReply) runs on the reader holding wmu.
	proto protocol.Engine

	// Write side.
	msgMu      writeLock // held for a streamed or compressed message (NextWriter … Close)
	wmu        writeLock // held while writing frames (see writeLock)
	wbuf       []byte
	werr       error // sticky write error, guarded by wmu
	deflater   *deflater
	noCompress atomic.Bool
	held       bool       // a send that did not wait left its batch in sendSt, holding the write locks
	sendSt     *sendState // made by the first such send

	pongBlocked atomic.Bool // a pong's write timed out and dropped the connection (errPongBlocked)

	// stream is nc's byte stream: every socket read and write, the
	// contexts of the calls under way and the deadlines. Its read side
	// belongs to the reader (readMu), its write side to wmu's holder.
	stream sock.Stream

	trace *Trace // Dialer.Trace (trace.go); nil when none

	pongMu      sync.Mutex
	pong        [frame.MaxControlPayload]byte // latest unanswered ping's payload
	pongLen     uint8                         // ≤ 125: fits in the padding after pong
	pongPending atomic.Bool

	bytesIn atomic.Uint64 // bytes read from the socket, for keepalive

	closedNow  atomic.Bool // a CloseNow has finished
	closeMu    sync.Mutex
	closeEnded bool          // the close handshake or the connection has ended (endClose)
	closeRecv  chan struct{} // made by closeDone, closed by endClose
	closeErr   *CloseError   // the peer's close, once parsed (setPeerClose)

	pingWaits pingWaiters // PingWait's callers (control.go)
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
	c := &Conn{nc: nc, cfg: cfg}
	c.rbufSize = readBufSize
	c.proto.Reset(protocol.Config{MaxMessage: cfg.maxMessage})
	c.wmu.conn = c
	if len(leftover) > 0 {
		c.acquireReadBuf()
		c.rw = copy(c.rbuf, leftover)
		// Treat the socket as drained, so that the buffer can go back to
		// the pool once these bytes are read.
		c.drained = true
	}
	c.reader.c = c
	c.stream.Init(nc)
	return c
}

// setReadDeadline sets the deadline for reads on the underlying connection
// (kept, so that a read's context watch puts it back). A read that times
// out leaves the connection unusable.
func (c *Conn) setReadDeadline(t time.Time) error { return c.stream.SetReadDeadline(t) }

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

// Info describes the connection: the URL dialled (the last hop of a
// followed redirect chain), the subprotocol and extensions the server
// selected, its handshake response header and the addresses. It is built
// on each call from what the connection keeps (the response's head is
// parsed again), so a connection that never asks holds less.
func (c *Conn) Info() ConnInfo { return c.info("") }

// localAddr and remoteAddr are the addresses of the connection's stream.
func (c *Conn) localAddr() net.Addr  { return c.nc.LocalAddr() }
func (c *Conn) remoteAddr() net.Addr { return c.nc.RemoteAddr() }

// info is Info with the URL given as dialled when it is known (the
// Client's own URL string, which spares the string building).
func (c *Conn) info(url string) ConnInfo {
	ci := ConnInfo{
		URL:         url,
		Subprotocol: c.subprotocol,
		Extensions:  c.extensions,
		Header:      c.responseHeader(),
		LocalAddr:   c.nc.LocalAddr(),
		RemoteAddr:  c.nc.RemoteAddr(),
		HTTP2:       c.respHeader != nil,
		TLS:         c.h2TLS,
	}
	if tc, ok := c.nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		ci.TLS = &st
	}
	if url == "" {
		ci.URL = c.urlString()
	}
	return ci
}

// setURL records the URL a dial of t reached: u, t's own or a redirect's.
func (c *Conn) setURL(t *dialTarget, u *url.URL) {
	if u == t.u && t.raw != "" {
		c.rawURL = t.raw // the caller's string: nothing more is kept
		return
	}
	c.rawURL, c.redirected = u.String(), u != t.u
}

// urlString is ConnInfo.URL: the URL dialled, any password redacted.
func (c *Conn) urlString() string {
	if u, _, _, err := parseURL(c.rawURL); err == nil {
		return u.Redacted()
	}
	return ""
}

// responseHeader returns the handshake response's header: the Response's
// when it has been built, else one built from the response's head alone,
// without building (or keeping) a Response.
func (c *Conn) responseHeader() http.Header {
	if c.respHeader != nil {
		return c.respHeader
	}
	if c.respHead == "" {
		return nil
	}
	var fields [8]handshake.Field // on this stack: only the header is kept
	r, err := handshake.ParseInto(c.respHead, fields[:0])
	if err != nil {
		return nil // cannot happen: the head was parsed during the handshake
	}
	return r.Header()
}
