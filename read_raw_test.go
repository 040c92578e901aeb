//go:build unix

package wsclient

import (
	"context"
	"errors"
	"net"
	"testing"
)

// A reader parked in a raw socket read (see waitRaw) that CloseNow ends
// gets the socket's error as a socket Read gives it: one *net.OpError
// "read" around net.ErrClosed (not the raw read's "raw-read" error
// wrapped in another), as ErrConnectionLost.
func TestRawReadClosedError(t *testing.T) {
	srv := newEcho(t)
	c := dialT(t, srv.URL, nil)
	if c.raw == nil {
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
