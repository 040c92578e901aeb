//go:build !js

package wsclient

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The rules for Stop and Send made while a callback runs (see Client.Stop
// and Client.Send): the client knows whether a callback runs, not which
// goroutine calls it.

// ruleHandler runs hooks in HandleInfo and OnConnect and reports events.
type ruleHandler struct {
	BaseHandler
	mode    InitMode
	info    func(c *Client)
	connect func(c *Client)
	events  chan string
}

func (h *ruleHandler) Init(*Client) (InitMode, error) { return h.mode, nil }

func (h *ruleHandler) OnConnect(c *Client, _ ConnInfo) Action {
	if h.connect != nil {
		h.connect(c)
	}
	return Action{}
}

func (h *ruleHandler) HandleInfo(c *Client, _ any) Action {
	h.info(c)
	return Action{}
}

func (h *ruleHandler) Terminate(*Client, error) { h.events <- "terminate" }

// next returns the next event, failing the test if none comes in time
// (a deadlock shows as that failure, not as a hung test).
func (h *ruleHandler) next(t *testing.T) string {
	t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-time.After(waitLong):
		t.Fatal("no event: the client is stuck")
		return ""
	}
}

func newRuleHandler(mode InitMode) *ruleHandler {
	return &ruleHandler{mode: mode, events: make(chan string, 16)}
}

// Stop from a callback requests the stop and returns nil at once; the
// client ends after the callback has returned.
func TestStopFromCallbackReturnsAtOnce(t *testing.T) {
	h := newRuleHandler(StartDisconnected)
	h.info = func(c *Client) {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop in HandleInfo = %v", err)
		}
		h.events <- "stop returned in " + c.State().String()
	}
	c, err := Start(context.Background(), "ws://example.com/", h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Post(1); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stop returned in disconnected", "terminate"} {
		if got := h.next(t); got != want {
			t.Fatalf("event %q, want %q", got, want)
		}
	}
	if err := c.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
}

// Stop from another goroutine while a callback runs returns nil at once
// too (the client cannot tell it from the callback's); Wait then waits
// for the end, which comes once the callback returns. With no callback
// running, Stop waits for the end.
func TestStopFromOtherGoroutine(t *testing.T) {
	h := newRuleHandler(StartDisconnected)
	release := make(chan struct{})
	h.info = func(*Client) {
		h.events <- "in callback"
		<-release
	}
	c, err := Start(context.Background(), "ws://example.com/", h, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Post(1)
	if got := h.next(t); got != "in callback" {
		t.Fatalf("event %q", got)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatalf("Stop while a callback runs = %v", err)
	}
	select {
	case <-clientDone(c):
		t.Fatal("the client ended while its callback ran")
	default:
	}
	close(release)
	if err := c.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if got := h.next(t); got != "terminate" {
		t.Fatalf("event %q", got)
	}

	// No callback runs: Stop returns once the client has ended, over a
	// connection (close handshake) as well as disconnected.
	for _, mode := range []InitMode{StartDisconnected, ConnectOnce} {
		h := newRuleHandler(mode)
		connected := make(chan struct{})
		h.connect = func(*Client) { close(connected) }
		c, err := Start(context.Background(), newEcho(t).URL, h, nil)
		if err != nil {
			t.Fatal(err)
		}
		if mode == ConnectOnce {
			<-connected
			// connected is closed inside OnConnect: wait until it has
			// returned (no event marks that), so that Stop finds no
			// callback running.
			for _, running := c.inCallback(); running; _, running = c.inCallback() {
				runtime.Gosched()
			}
		}
		if err := c.Stop(t.Context()); err != nil {
			t.Fatalf("%v: Stop = %v", mode, err)
		}
		select {
		case <-clientDone(c):
		default:
			t.Fatalf("%v: Stop returned before the client ended", mode)
		}
		if e := <-h.events; e != "terminate" {
			t.Fatalf("%v: event %q", mode, e)
		}
	}
}

// While OnConnect runs, a Send from another goroutine with a context that
// can end waits and is written once OnConnect has returned; with a context
// that can never end it fails with ErrSendInCallback (the client cannot
// tell it from OnConnect's own, which would wait for itself).
func TestSendFromOtherGoroutineDuringOnConnect(t *testing.T) {
	h := newRuleHandler(ConnectOnce)
	release := make(chan struct{})
	h.connect = func(*Client) {
		h.events <- "in OnConnect"
		<-release
	}
	c, err := Start(context.Background(), newEcho(t).URL, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.next(t); got != "in OnConnect" {
		t.Fatalf("event %q", got)
	}
	if err := c.Send(context.Background(), TextFrame("x")); !errors.Is(err, ErrSendInCallback) {
		t.Fatalf("Send with context.Background during OnConnect = %v, want ErrSendInCallback", err)
	}
	sent := make(chan error, 1)
	go func() { sent <- c.Send(t.Context(), TextFrame("y")) }()
	close(release)
	select {
	case err := <-sent:
		if err != nil {
			t.Fatalf("Send with a context that can end = %v", err)
		}
	case <-time.After(waitLong):
		t.Fatal("Send never completed")
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// gateConn holds writes, once armed, until gate closes, and fails them;
// entered receives when a write is held.
type gateConn struct {
	net.Conn
	armed   atomic.Bool
	gate    chan struct{}
	entered chan struct{}
}

func (g *gateConn) Write(p []byte) (int, error) {
	if g.armed.Load() {
		g.entered <- struct{}{}
		<-g.gate
		return 0, errors.New("gateConn: write cut")
	}
	return g.Conn.Write(p)
}

// A Send from a callback of a connected client, with a context that can
// never end, whose frame waits behind a write that fails (the connection
// is lost) returns ErrSendInCallback instead of waiting for a connection
// that cannot come before the callback returns.
func TestSendInCallbackConnectionLost(t *testing.T) {
	srv := newEcho(t)
	gc := &gateConn{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	d := &Dialer{Proxy: NoProxy, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		gc.Conn = nc
		return gc, err
	}}
	h := newRuleHandler(ConnectOnce)
	h.connect = func(*Client) { h.events <- "connected" }
	result := make(chan error, 1)
	h.info = func(c *Client) {
		gc.armed.Store(true)
		if err := c.Cast(TextFrame("first")); err != nil {
			t.Error(err)
		}
		<-gc.entered // the writer goroutine holds "first" in a write
		result <- c.Send(context.Background(), TextFrame("second"))
	}
	c, err := Start(context.Background(), srv.URL, h, &Options{Dialer: d})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.next(t); got != "connected" {
		t.Fatalf("event %q", got)
	}
	c.Post(1)
	// Let the write fail once Send's frame waits in the outbox.
	for deadline := time.Now().Add(waitLong); ; runtime.Gosched() {
		c.ob.mu.Lock()
		waiting := c.ob.stall != nil
		c.ob.mu.Unlock()
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Send's frame never waited in the outbox")
		}
	}
	close(gc.gate)
	select {
	case err := <-result:
		if !errors.Is(err, ErrSendInCallback) {
			t.Fatalf("Send = %v, want ErrSendInCallback", err)
		}
	case <-time.After(waitLong):
		t.Fatal("Send from the callback hung after the connection was lost")
	}
	if got := h.next(t); got != "terminate" {
		t.Fatalf("event %q", got)
	}
}

// A connection attempt runs on a goroutine of its own, which ends with the
// attempt or, after a success, with the connection: once clients have
// stopped, none of their goroutines is left, not even for a while.
func TestClientNoGoroutineLeftAfterStop(t *testing.T) {
	before := goleak.IgnoreCurrent()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	h := &connectHandler{connected: make(chan struct{}, 1)}
	for range 5 {
		c, err := startClient(context.Background(), memDialer(), h)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Stop(ended)
		<-clientDone(c)
	}
	goleak.VerifyNone(t, before)
}
