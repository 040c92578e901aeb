//go:build js

package wsclient_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
)

// jsHandler records what a Client in the browser reports.
type jsHandler struct {
	wsclient.BaseHandler
	mode     wsclient.InitMode
	onConn   func(c *wsclient.Client, n int) wsclient.Action
	onFrame  func(c *wsclient.Client, f wsclient.Frame) wsclient.Action
	onDisc   func(c *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction
	mu       sync.Mutex
	connects int
	discs    []wsclient.Disconnect
	undeliv  []string
}

func (h *jsHandler) Init(*wsclient.Client) (wsclient.InitMode, error) { return h.mode, nil }

func (h *jsHandler) OnConnect(c *wsclient.Client, _ wsclient.ConnInfo) wsclient.Action {
	h.mu.Lock()
	h.connects++
	n := h.connects
	h.mu.Unlock()
	if h.onConn != nil {
		return h.onConn(c, n)
	}
	return wsclient.Action{}
}

func (h *jsHandler) HandleFrame(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
	if h.onFrame != nil {
		return h.onFrame(c, f)
	}
	return wsclient.Action{}
}

func (h *jsHandler) OnDisconnect(c *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	h.mu.Lock()
	h.discs = append(h.discs, d)
	h.mu.Unlock()
	if h.onDisc != nil {
		return h.onDisc(c, d)
	}
	return wsclient.DisconnectAction{}
}

func (h *jsHandler) OnUndelivered(_ *wsclient.Client, f wsclient.Frame, _ error) {
	h.mu.Lock()
	h.undeliv = append(h.undeliv, string(f.Data))
	h.mu.Unlock()
}

// wait waits for c's end, bounded.
func wait(t *testing.T, c *wsclient.Client) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		c.Stop(context.Background())
		t.Fatal("the client did not end")
		return nil
	}
}

func TestJSClientEcho(t *testing.T) {
	var got []wsclient.Frame
	h := &jsHandler{
		onConn: func(*wsclient.Client, int) wsclient.Action {
			return wsclient.Reply(wsclient.TextFrame("one"), wsclient.Frame{Type: wsclient.BinaryMessage, Data: []byte{2}})
		},
		onFrame: func(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
			got = append(got, wsclient.Frame{Type: f.Type, Data: append([]byte(nil), f.Data...)})
			if len(got) == 2 {
				c.Cast(wsclient.TextFrame("three"))
			}
			if len(got) == 3 {
				return wsclient.CloseAndStop(wsclient.CloseNormalClosure, "bye", nil)
			}
			return wsclient.Action{}
		},
	}
	c, err := wsclient.Start(testCtx(t), wstestURL(t, "/echo"), h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, c); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if len(got) != 3 || string(got[0].Data) != "one" || got[0].Type != wsclient.TextMessage ||
		got[1].Type != wsclient.BinaryMessage || string(got[2].Data) != "three" {
		t.Fatalf("frames = %v", got)
	}
}

func TestJSClientReconnect(t *testing.T) {
	stop := errors.New("enough")
	h := &jsHandler{mode: wsclient.KeepReconnecting}
	h.onDisc = func(_ *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.connects < 3 {
			return wsclient.ReconnectAfter(d.Backoff)
		}
		return wsclient.StopWith(stop)
	}
	opts := &wsclient.Options{Backoff: wsclient.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}}
	c, err := wsclient.Start(testCtx(t), wstestURL(t, "/drop"), h, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, c); !errors.Is(err, stop) {
		t.Fatalf("Wait = %v, want the StopWith reason", err)
	}
	for _, d := range h.discs {
		if !d.WasConnected || !errors.Is(d.Reason, wsclient.ErrConnectionLost) {
			t.Errorf("disconnect %+v, want a connection lost", d)
		}
	}
	if h.connects != 3 {
		t.Errorf("%d connections, want 3", h.connects)
	}
}

func TestJSClientServerClose(t *testing.T) {
	c, err := wsclient.Start(testCtx(t), nodeURL(t, "/close?code=4001&reason=bye"), &jsHandler{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ce *wsclient.CloseError
	if err := wait(t, c); !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye" {
		t.Fatalf("Wait = %v, want the server's close 4001 bye", err)
	}
}

func TestJSClientUndelivered(t *testing.T) {
	h := &jsHandler{mode: wsclient.StartDisconnected}
	c, err := wsclient.Start(testCtx(t), wstestURL(t, "/echo"), h, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a", "b", "c"} {
		if err := c.Cast(wsclient.TextFrame(s)); err != nil {
			t.Fatal(err)
		}
	}
	c.Stop(testCtx(t))
	if err := wait(t, c); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if len(h.undeliv) != 3 || h.undeliv[0] != "a" || h.undeliv[2] != "c" {
		t.Fatalf("undelivered = %q, want a b c", h.undeliv)
	}
}

// TestJSClientKeepalive: the browser sends no pings for a page, so a
// Client's keepalive ends the connection with an error that says so.
func TestJSClientKeepalive(t *testing.T) {
	c, err := wsclient.Start(testCtx(t), wstestURL(t, "/echo"), &jsHandler{}, &wsclient.Options{Keepalive: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, c); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Wait = %v, want errors.ErrUnsupported", err)
	}
}

// TestJSClientBackpressure casts to a server that reads nothing: the
// writer waits on the browser's buffer, the outbox fills, and Cast says so
// instead of the browser buffering without bound.
func TestJSClientBackpressure(t *testing.T) {
	connected := make(chan struct{})
	h := &jsHandler{onConn: func(*wsclient.Client, int) wsclient.Action {
		close(connected)
		return wsclient.Action{}
	}}
	c, err := wsclient.Start(testCtx(t), wstestURL(t, "/stall"), h, &wsclient.Options{OutboxSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	<-connected
	big := wsclient.Frame{Type: wsclient.BinaryMessage, Data: make([]byte, 1<<20)}
	deadline := time.Now().Add(10 * time.Second)
	n := 0
	for ; time.Now().Before(deadline); n++ {
		if err = c.Cast(big); err != nil {
			break
		}
		// Cast never waits; in wasm the browser (and so the writer's
		// socket) runs only while every goroutine waits.
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(err, wsclient.ErrOutboxFull) {
		t.Fatalf("after %d MiB cast to a server that does not read: %v, want ErrOutboxFull", n, err)
	}
	t.Logf("the outbox filled after %d MiB", n)
}
