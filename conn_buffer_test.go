//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// wrappedConn hides the socket's type, so the Conn cannot read it raw.
type wrappedConn struct{ net.Conn }

func wrappingDialer() *Dialer {
	return &Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return wrappedConn{nc}, nil
	}}
}

// A connection that waits for its next message holds no read buffer,
// whether it reads the socket raw (plain TCP) or through net.Conn.Read (any
// other connection).
func TestConnIdleHoldsNoReadBuffer(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *Dialer
		raw  bool
	}{{"tcp", nil, true}, {"wrapped", wrappingDialer(), false}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(c *wstest.Conn) error {
				if err := c.WriteMessage(wstest.OpBinary, bytes.Repeat([]byte("x"), 1000)); err != nil {
					return err
				}
				<-c.Context().Done()
				return nil
			})
			conn := dialT(t, srv.URL, tc.d)
			if conn.stream.Raw() != tc.raw {
				t.Fatalf("raw reads: %v, want %v", conn.stream.Raw(), tc.raw)
			}
			if _, _, err := conn.ReadMessage(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			// Wait for a message that does not come; the deadline ends
			// the wait (and the connection).
			conn.setReadDeadline(time.Now().Add(100 * time.Millisecond))
			_, _, err := conn.ReadMessage(context.Background())
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("read ended with %v, want a timeout", err)
			}
			conn.readMu.Lock()
			held := conn.rbuf != nil
			conn.readMu.Unlock()
			if held {
				t.Fatal("the waiting reader held a read buffer")
			}
		})
	}
}

// readSyscallsNow returns the process's read system calls (Linux), or -1.
func readSyscallsNow() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("syscr: ")); ok {
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}

// While data flows the reader keeps its buffer: a message that is already
// in the socket when the previous one ends takes one read, not a small read
// into the control buffer and then another.
func TestConnKeepsReadBufferWhileDataFlows(t *testing.T) {
	if readSyscallsNow() < 0 {
		t.Skip("no /proc/self/io")
	}
	next := make(chan struct{})
	written := make(chan struct{})
	msg := bytes.Repeat([]byte("y"), 1000)
	srv := newServer(t, func(c *wstest.Conn) error {
		for range 5 {
			<-next
			if err := c.WriteMessage(wstest.OpBinary, msg); err != nil {
				return err
			}
			written <- struct{}{}
		}
		<-c.Context().Done()
		return nil
	})
	conn := dialT(t, srv.URL, nil)
	ctx := testCtx(t)
	var buf []byte
	for i := range 5 {
		next <- struct{}{}
		<-written
		// The message is in the client's socket now: loopback delivers
		// on write.
		// (Reading /proc/self/io costs reads too: subtract them.)
		r0 := readSyscallsNow()
		r1 := readSyscallsNow()
		_, p, err := conn.appendMessage(ctx, buf[:0], false)
		reads := readSyscallsNow() - r1 - (r1 - r0)
		if err != nil || !bytes.Equal(p, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
		buf = p
		if i > 0 && reads > 1 {
			t.Errorf("message %d took %d read system calls, want 1", i, reads)
		}
	}
}
