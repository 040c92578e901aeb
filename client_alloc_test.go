//go:build !js

package wsclient_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/race"
	"github.com/wsclient/wsclient/wstest"
)

// sinkServer reads and discards everything the client sends.
func sinkServer(t *testing.T) *wstest.Server {
	return wstest.NewServer(func(sc *wstest.Conn) error {
		io.Copy(io.Discard, sc.NetConn())
		return nil
	}, wstest.WithT(t))
}

// Cast (up to 4 KiB) and Send allocate nothing per message once warm: the
// outbox items and their copies are pooled, frames are masked into a
// pooled batch buffer, and the socket takes them at once.
func TestClientZeroAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	srv := sinkServer(t)
	c, _ := startConnected(t, srv.URL, &wsclient.Options{StopTimeout: 100 * time.Millisecond})
	for _, size := range []int{64, 1024, 4096} {
		f := wsclient.Frame{Type: wsclient.BinaryMessage, Data: make([]byte, size)}
		cast := func() {
			if err := c.Cast(f); err != nil {
				t.Fatal(err)
			}
		}
		for range 100 {
			cast()
		}
		if n := testing.AllocsPerRun(1000, cast); n > 0.05 {
			t.Errorf("Cast of %d bytes: %.2f allocations per message", size, n)
		}
	}
	ctx := context.Background()
	f := wsclient.TextFrame("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	send := func() {
		if err := c.Send(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		send()
	}
	if n := testing.AllocsPerRun(1000, send); n > 0.05 {
		t.Errorf("Send: %.2f allocations per message", n)
	}
}
