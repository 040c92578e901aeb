//go:build !js

package wsclient

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/wsclient/wsclient/wstest"
)

// Dial allocates at most 40 times (network aside).
func TestDialAllocs(t *testing.T) {
	d := &Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) {
		return &handshakeConn{}, nil
	}}
	ctx := context.Background()
	a := testing.AllocsPerRun(50, func() {
		if _, err := Dial(ctx, "ws://example.com/chat", d); err != nil {
			t.Fatal(err)
		}
	})
	if a > 40 {
		t.Errorf("%v allocations per Dial, want at most 40", a)
	}
}

// Info describes the connection from the kept response head, the same for
// concurrent callers, with the server's fields.
func TestConnInfoConcurrent(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		for {
			if _, err := c.ReadFrame(); err != nil {
				return nil
			}
		}
	})
	conn := dialT(t, srv.URL, nil)
	const n = 8
	got := make([]ConnInfo, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = conn.Info()
		}()
	}
	wg.Wait()
	for i := range n {
		h := got[i].Header
		if h.Get("Upgrade") == "" || h.Get("Sec-Websocket-Accept") != got[0].Header.Get("Sec-Websocket-Accept") || got[i].URL != srv.URL || got[i].HTTP2 || got[i].TLS != nil {
			t.Fatalf("Info() = %+v", got[i])
		}
	}
}
