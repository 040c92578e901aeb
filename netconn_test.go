//go:build !js

package wsclient

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/nettest"

	"github.com/wsclient/wsclient/wstest"
)

// relayPair starts a wstest server that relays the frames of the first two
// connections to each other, as they are (closes and pings included), and
// dials it twice: each Conn talks to the other through it. After a close
// frame has passed each way, the relay drops both TCP connections, as a
// server ends a close handshake.
func relayPair(t testing.TB) (*Conn, *Conn, *wstest.Server) {
	t.Helper()
	var (
		mu     sync.Mutex
		first  *wstest.Conn
		second = make(chan *wstest.Conn, 1)
		closes atomic.Int32
	)
	pump := func(from, to *wstest.Conn) error {
		for {
			f, err := from.ReadFrame()
			if err != nil {
				to.Drop()
				return nil
			}
			if err := to.WriteFrame(f.Fin, f.RSV, f.Opcode, f.Payload); err != nil {
				from.Drop()
				return nil
			}
			if f.Opcode == wstest.OpClose && closes.Add(1) == 2 {
				from.Drop()
				to.Drop()
				return nil
			}
		}
	}
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		mu.Lock()
		if first == nil {
			first = c
			mu.Unlock()
			select {
			case peer := <-second:
				return pump(c, peer)
			case <-c.Done():
				return nil
			}
		}
		peer := first
		mu.Unlock()
		second <- c
		return pump(c, peer)
	}, wstest.WithRecordLimit(0))
	t.Cleanup(srv.Close)
	// A close the other side never reads (a test left it writing) waits
	// this long.
	d := func() *Dialer { return &Dialer{CloseTimeout: time.Second} }
	c1 := dialT(t, srv.URL, d())
	c2 := dialT(t, srv.URL, d())
	return c1, c2, srv
}

// NetConn passes the net.Conn conformance tests of golang.org/x/net/nettest
// between two Conns relayed through a WebSocket server on loopback.
func TestNetConnConformance(t *testing.T) {
	nettest.TestConn(t, func() (net.Conn, net.Conn, func(), error) {
		c1, c2, srv := relayPair(t)
		n1, n2 := NetConn(c1, BinaryMessage), NetConn(c2, BinaryMessage)
		stop := func() {
			n1.Close()
			n2.Close()
			srv.Close()
		}
		return n1, n2, stop, nil
	})
}

// A Write over the chunk size goes out as messages of at most 32 KiB, and
// the reader gets the bytes back as one stream.
func TestNetConnChunks(t *testing.T) {
	want := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80000 bytes
	got := make(chan []wstest.Frame, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		var fs []wstest.Frame
		for n := 0; n < len(want); {
			f, err := c.ReadFrame()
			if err != nil {
				return err
			}
			fs = append(fs, f)
			n += len(f.Payload)
		}
		got <- fs
		return c.Echo()
	})
	n := NetConn(dialT(t, srv.URL, nil), TextMessage)
	defer n.Close()
	if k, err := n.Write(want); err != nil || k != len(want) {
		t.Fatalf("Write: %d, %v", k, err)
	}
	fs := recv(t, got)
	var sizes []int
	for _, f := range fs {
		if !f.Fin || f.Opcode != wstest.OpText {
			t.Errorf("frame %+v: want a whole text message", f)
		}
		sizes = append(sizes, len(f.Payload))
	}
	if len(sizes) != 3 || sizes[0] != netConnChunk || sizes[1] != netConnChunk {
		t.Errorf("message sizes %v, want 32768, 32768, 14464", sizes)
	}
	n.Write([]byte("x")) // the echo server now echoes: read it back across messages
	back := make([]byte, 1)
	if _, err := io.ReadFull(n, back); err != nil || back[0] != 'x' {
		t.Fatalf("read back %q, %v", back, err)
	}
}

// A message of the other type fails the read and closes with 1003; a
// normal close reads as io.EOF.
func TestNetConnTypeAndEOF(t *testing.T) {
	closed := make(chan closeResult, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.WriteMessage(wstest.OpBinary, []byte("ab")); err != nil {
			return err
		}
		if err := c.WriteMessage(wstest.OpText, []byte("no")); err != nil {
			return err
		}
		expectClose(c, closed)
		return nil
	})
	n := NetConn(dialT(t, srv.URL, nil), BinaryMessage)
	defer n.Close()
	b := make([]byte, 8)
	if k, err := n.Read(b); err != nil || string(b[:k]) != "ab" {
		t.Fatalf("Read: %q, %v", b[:k], err)
	}
	if _, err := n.Read(b); !errors.Is(err, errNetConnType) {
		t.Fatalf("Read of a text message: %v, want errNetConnType", err)
	}
	if r := recv(t, closed); r.code != CloseUnsupportedData {
		t.Errorf("close code %d, want 1003", r.code)
	}

	srv2 := newServer(t, func(c *wstest.Conn) error {
		c.WriteMessage(wstest.OpBinary, []byte("last"))
		return c.Close(CloseNormalClosure, "")
	})
	n2 := NetConn(dialT(t, srv2.URL, nil), BinaryMessage)
	all, err := io.ReadAll(n2)
	if err != nil || string(all) != "last" {
		t.Fatalf("ReadAll: %q, %v", all, err)
	}
	if err := n2.Close(); err != nil {
		t.Errorf("Close after the server's close: %v", err)
	}
	if err := n2.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
}

// A deadline extended while a Read waits holds the Read until the new
// deadline; moved into the past, it ends the Read at once; the bytes that
// arrive later are the next Read's.
func TestNetConnDeadlineMoved(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(c *wstest.Conn) error {
		<-release
		if err := c.WriteMessage(wstest.OpBinary, []byte("late")); err != nil {
			return err
		}
		return c.Echo()
	})
	n := NetConn(dialT(t, srv.URL, nil), BinaryMessage)
	defer n.Close()
	n.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	res := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := n.Read(make([]byte, 8))
		res <- err
	}()
	n.SetReadDeadline(time.Now().Add(time.Hour)) // extended while blocked
	select {
	case err := <-res:
		t.Fatalf("Read returned %v after %v; the deadline was extended", err, time.Since(start))
	case <-time.After(200 * time.Millisecond): // past the first deadline: nothing to await
	}
	n.SetReadDeadline(aLongTimeAgo)
	if err := recv(t, res); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read: %v, want a timeout", err)
	}
	close(release)
	n.SetReadDeadline(time.Time{})
	b := make([]byte, 8)
	k, err := n.Read(b)
	if err != nil || string(b[:k]) != "late" {
		t.Fatalf("Read after the timeout: %q, %v", b[:k], err)
	}
}
