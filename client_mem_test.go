//go:build !js

package wsclient

import (
	"context"
	"errors"
	"testing"
	"unsafe"

	"github.com/wsclient/wsclient/internal/test/race"
)

// An idle client is a 528-byte Client (16 of them for the outbox's byte
// bound) with its own configuration and parsed URL, and a connection adds
// a 96-byte clientConn to the Conn.
func TestClientSize(t *testing.T) {
	if n := unsafe.Sizeof(Client{}); n > 528 {
		t.Errorf("Client is %d bytes, want at most 528", n)
	}
	if n := unsafe.Sizeof(clientConn{}); n > 96 {
		t.Errorf("clientConn is %d bytes, want at most 96", n)
	}
	a := New("ws://example.com/", BaseHandler{}, &Options{OutboxSize: 7})
	b := New("ws://example.com/", BaseHandler{}, &Options{OutboxSize: 7})
	if a.cfg == b.cfg || a.dst == b.dst || a.dst.u == b.dst.u {
		t.Error("two clients share their configuration or parsed URL")
	}
	d := New("ws://example.com/", BaseHandler{}, &Options{OutboxSize: 8})
	if d.cfg.outboxSize != 8 || b.cfg.outboxSize != 7 {
		t.Errorf("configurations mixed up: %d, %d", d.cfg.outboxSize, b.cfg.outboxSize)
	}
}

// A connection's whole life through the Client (Start, dial, OnConnect,
// Stop with an ended context, Terminate) allocates at most 20 times more
// than the same life through a Conn (Dial, a reading goroutine, CloseNow).
func TestClientConnectAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	d := memDialer()
	ctx := context.Background()
	ended, cancel := context.WithCancel(ctx)
	cancel()
	conn := testing.AllocsPerRun(200, func() {
		cn, done, err := dialConnReading(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		cn.CloseNow()
		<-done
	})
	h := &connectHandler{connected: make(chan struct{}, 1)}
	client := testing.AllocsPerRun(200, func() {
		c, err := startClient(ctx, d, h)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Stop(ended); err != context.Canceled {
			t.Fatalf("Stop with an ended context: %v, want context.Canceled", err)
		}
		<-clientDone(c)
	})
	t.Logf("allocations per connection: Conn %.1f, Client %.1f", conn, client)
	if client-conn > 20 {
		t.Errorf("Client allocates %.1f times per connection, %.1f more than the Conn (want at most 20 more)", client, client-conn)
	}
}

// ConnInfo's Header is the response's, built without building (and
// keeping) the Conn's Response, which stays available.
func TestConnInfoHeaderLazyResponse(t *testing.T) {
	var got ConnInfo
	var cn *Conn
	h := &infoHandler{connected: make(chan struct{}, 1)}
	h.onConnect = func(c *Client, info ConnInfo) {
		got = info
		cn = c.cur.Load().cn
	}
	c, err := Start(context.Background(), "ws://example.com/chat", h, &Options{Dialer: memDialer()})
	if err != nil {
		t.Fatal(err)
	}
	<-h.connected
	defer func() {
		ended, cancel := context.WithCancel(context.Background())
		cancel()
		_ = c.Stop(ended) // memConn never answers a close
		<-clientDone(c)
	}()
	if got.Header.Get("Upgrade") != "websocket" || got.Header.Get("Server") != "bench" || len(got.Header.Get("Sec-WebSocket-Accept")) != 28 {
		t.Errorf("ConnInfo.Header = %v", got.Header)
	}
	if got.LocalAddr != memLocal || got.RemoteAddr != memRemote || got.URL != "ws://example.com/chat" {
		t.Errorf("ConnInfo = %+v", got)
	}
	if h := cn.Info().Header; h.Get("Sec-WebSocket-Accept") != got.Header.Get("Sec-WebSocket-Accept") {
		t.Errorf("Info().Header = %v after ConnInfo", h)
	}
}

type infoHandler struct {
	BaseHandler
	connected chan struct{}
	onConnect func(*Client, ConnInfo)
}

func (h *infoHandler) OnConnect(c *Client, info ConnInfo) Action {
	h.onConnect(c, info)
	h.connected <- struct{}{}
	return Action{}
}

// New refuses an unusable URL and a nil handler, whatever came before:
// Serve reports them at once.
func TestClientNewRefuses(t *testing.T) {
	h := &BaseHandler{}
	New("ws://example.com/good", h, nil)
	if err := New("ftp://example.com/", h, nil).Serve(t.Context()); !errors.Is(err, ErrBadURL) {
		t.Fatalf("Serve after a usable URL, with ftp: %v, want ErrBadURL", err)
	}
	if err := New("ws://example.com/good", nil, nil).Serve(t.Context()); !errors.Is(err, ErrNilHandler) {
		t.Fatalf("Serve with a nil handler: %v, want ErrNilHandler", err)
	}
}

// A Conn fits the runtime's 1024-byte size class: an object with pointers
// over 512 bytes carries an 8-byte allocation header, so the struct may
// take 1016 bytes. One word more and every connection costs 1152 bytes (128
// more per idle connection, as one string field did).
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 1016 {
		t.Errorf("Conn is %d bytes, want at most 1016 (the 1024-byte size class with its header)", n)
	}
}
