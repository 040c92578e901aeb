//go:build js

package wsclient

import (
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"
)

// Conn is a client WebSocket connection. In the browser (GOOS=js) it is
// the browser's WebSocket object: the browser does the framing, masking,
// pings and the close handshake's wire part; the Conn gives it the same
// API as elsewhere. See docs/browser.md for what differs.
//
// Writes (WriteMessage, WriteBatch, NextWriter, Close) are safe to call
// from many goroutines at once; reads (NextReader, ReadMessage) must come
// from one goroutine at a time.
type Conn struct {
	ws  js.Value // the browser's WebSocket
	url *url.URL
	cfg connConfig

	subprotocol string
	extensions  string

	funcs [4]js.Func // onopen, onmessage, onerror, onclose: released by the close event

	mu     sync.Mutex
	opened bool
	// redirected is always false: the browser follows no redirect.
	redirected bool
	msgs       []jsMessage   // received, not yet read
	arrived    chan struct{} // cap 1: a message or the close arrived
	closed     chan struct{} // closed by the close event (or CloseNow)
	closeErr   error         // why the connection ended: *CloseError, ErrConnectionLost or ErrClosed
	tooBig     bool          // a message over MaxMessageSize arrived

	wmu       chan struct{} // cap 1: the write lock
	closeSent atomic.Bool
	closedNow atomic.Bool
	bytesIn   atomic.Uint64
	onCtl     atomic.Pointer[func(MessageType, []byte)]

	bigp *[]byte // unused in the browser: putBig (bigbuf.go) pools big message buffers

	trace *Trace // Dialer.Trace; only the hooks the browser lets us see are called
}

// jsMessage is a message the browser delivered.
type jsMessage struct {
	typ  MessageType
	data []byte
}

// connConfig holds the per-connection settings taken from the Dialer.
type connConfig struct {
	maxMessage   int64
	closeTimeout time.Duration
}

// SetControlHandler installs f to be called for the close frame received
// (its payload: the code, big-endian, then the reason). In the browser the
// pings and pongs never reach the page: the browser answers pings itself.
// A nil f removes the handler.
func (c *Conn) SetControlHandler(f func(typ MessageType, payload []byte)) {
	if f == nil {
		c.onCtl.Store(nil)
		return
	}
	c.onCtl.Store(&f)
}

// Info describes the connection: the URL dialled, the subprotocol and the
// extensions the server selected. In the browser the response header,
// the addresses and the TLS state are not visible to the page: Header,
// LocalAddr, RemoteAddr and TLS are nil.
func (c *Conn) Info() ConnInfo { return c.info("") }

// browserAddr is an address in the browser, which tells none: the
// server's is its URL, the page's is "browser".
type browserAddr string

func (a browserAddr) Network() string { return "websocket" }
func (a browserAddr) String() string  { return string(a) }

// localAddr and remoteAddr are what NetConn reports: the browser tells no
// socket addresses.
func (c *Conn) localAddr() net.Addr { return browserAddr("browser") }
func (c *Conn) remoteAddr() net.Addr {
	if c.url == nil {
		return browserAddr("")
	}
	return browserAddr(c.url.Redacted())
}

func (c *Conn) info(url string) ConnInfo {
	if url == "" && c.url != nil {
		url = c.url.Redacted()
	}
	return ConnInfo{URL: url, Subprotocol: c.subprotocol, Extensions: c.extensions}
}

// bytesRead counts the payload bytes received (the browser shows no
// frame bytes): the keepalive's sign of life.
func (c *Conn) bytesRead() uint64 { return c.bytesIn.Load() }

// writeFailure returns what a write that failed with err reports: in the
// browser the write's error already carries the server's close.
func (c *Conn) writeFailure(err error, _ bool) error { return err }

// wake tells a waiting reader that something arrived. c.mu is held.
func (c *Conn) wake() {
	select {
	case c.arrived <- struct{}{}:
	default:
	}
}
