// Package netfault provides network faults for tests: an address where
// nothing listens, a server that accepts and never answers, a connection whose writes fail at a chosen byte, and one
// that tells when a read begins, so that a test can wait for that event
// instead of sleeping.
//
// A wrapper is not a *net.TCPConn: a Conn over it uses plain Read and
// Write calls rather than the raw socket paths it takes on a bare socket.
package netfault

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// ClosedAddr returns a loopback address (host:port) where nothing
// listens: a port that was just free, so that dialling it is refused.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Dial returns a dial function for a Dialer's NetDialContext: it dials
// with a zero net.Dialer and returns wrap's wrapper of the connection.
func Dial(wrap func(net.Conn) net.Conn) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return wrap(nc), nil
	}
}

// ErrCut is the error of the writes a CutConn fails.
var ErrCut = errors.New("netfault: write cut")

// CutConn is a net.Conn whose first write of WebSocket frames (the first
// write that does not start with the handshake's "GET") reaches the peer
// except its last Cut bytes and then fails with ErrCut; every write after
// it fails with ErrCut at once.
type CutConn struct {
	net.Conn
	Cut  int
	done atomic.Bool
}

// Write implements net.Conn.
func (c *CutConn) Write(b []byte) (int, error) {
	if c.done.Load() {
		return 0, ErrCut
	}
	if len(b) == 0 || b[0] == 'G' { // the handshake's GET
		return c.Conn.Write(b)
	}
	c.done.Store(true)
	n, _ := c.Conn.Write(b[:max(len(b)-c.Cut, 0)])
	return n, ErrCut
}

// ReadWatch is a net.Conn that tells when a Read call begins: the channel
// Arm returns is closed by the first Read called after Arm, just before it
// reads. A reader that finds no data buffered calls Read and blocks in it,
// so the channel says that the reader is waiting on the connection.
type ReadWatch struct {
	net.Conn
	mu    sync.Mutex
	armed chan struct{}
}

// Arm returns a channel that the next Read call closes.
func (c *ReadWatch) Arm() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = make(chan struct{})
	return c.armed
}

// Read implements net.Conn.
func (c *ReadWatch) Read(p []byte) (int, error) {
	c.mu.Lock()
	ch := c.armed
	c.armed = nil
	c.mu.Unlock()
	if ch != nil {
		close(ch)
	}
	return c.Conn.Read(p)
}

// SilentServer returns the address of a loopback listener that accepts one
// connection and never writes to it (a server that takes TCP and then
// never answers a TLS ClientHello or an upgrade request). The listener and
// the held connection are closed when the test ends.
func SilentServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			held <- c
		}
		close(held)
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range held {
			c.Close()
		}
	})
	return ln.Addr().String()
}
