//go:build !js

package wsclient

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
)

// Tests of the Conn over its byte stream (internal/sock) on a plain socket.

// The first raw read and the first raw write with cancellable contexts
// may run at once (readMu and wmu are different locks): making the shared
// raw I/O state must not race (go test -race).
func TestConnRawIOFirstReadAndWriteConcurrent(t *testing.T) {
	for range 20 {
		conn, s := rawConnPair(t)
		ctx, cancel := context.WithCancel(context.Background())
		msg := append(serverFrameHead(0x2, 64), make([]byte, 64)...)
		s.Write(msg[:1]) // the reader finds half a header: its next read is a sock.Stream.Read
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, _, err := conn.ReadMessage(ctx); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := conn.WriteMessage(ctx, BinaryMessage, []byte("x")); err != nil {
				t.Error(err)
			}
		}()
		s.Write(msg[1:])
		wg.Wait()
		cancel()
	}
}

// A reader parked in a raw socket read (see waitRaw) that CloseNow ends
// gets the socket's error as a socket Read gives it: one *net.OpError
// "read" around net.ErrClosed (not the raw read's "raw-read" error
// wrapped in another), as ErrConnectionLost.
func TestRawReadClosedError(t *testing.T) {
	srv := newEcho(t)
	c := dialT(t, srv.URL, nil)
	if !c.stream.Raw() {
		t.Skip("not a raw socket read")
	}
	// A read after CloseNow takes the same path as one parked in the raw
	// read when CloseNow comes: the raw read reports the closed socket.
	if err := c.CloseNow(); err != nil {
		t.Fatalf("CloseNow: %v", err)
	}
	_, _, err := c.ReadMessage(context.Background())
	if !errors.Is(err, ErrConnectionLost) || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read error %v: want ErrConnectionLost and net.ErrClosed", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "read" || oe.Source == nil || oe.Addr == nil {
		t.Fatalf("read error %v: want a *net.OpError read with addresses", err)
	}
	var inner *net.OpError
	if errors.As(oe.Err, &inner) {
		t.Errorf("read error %v wraps another *net.OpError (%q)", err, inner.Op)
	}
}
