package wsclient

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/wsclient/wsclient/wstest"
)

// Dial allocates at most 40 times (network aside), and the connection
// keeps no parsed response until Response is called.
func TestDialAllocs(t *testing.T) {
	d := &Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) {
		return &handshakeConn{}, nil
	}}
	ctx := context.Background()
	var c *Conn
	a := testing.AllocsPerRun(50, func() {
		var err error
		if c, err = d.Dial(ctx, "ws://example.com/chat"); err != nil {
			t.Fatal(err)
		}
	})
	if a > 40 {
		t.Errorf("%v allocations per Dial, want at most 40", a)
	}
	if c.resp.Load() != nil {
		t.Error("the *http.Response was built before anyone asked for it")
	}
}

// Response is built once, on demand, from the kept head, the same for
// concurrent callers, with the server's fields.
func TestConnResponseLazy(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		for {
			if _, err := c.ReadFrame(); err != nil {
				return nil
			}
		}
	})
	conn := dialT(t, srv.URL, nil)
	const n = 8
	got := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = conn.Response()
		}()
	}
	wg.Wait()
	r := conn.Response()
	for i := range n {
		if got[i] != any(r) {
			t.Fatal("Response returned different values")
		}
	}
	if r.StatusCode != 101 || r.Header.Get("Upgrade") == "" || r.Header.Get("Sec-Websocket-Accept") == "" || r.Body == nil {
		t.Fatalf("response %+v", r)
	}
}
