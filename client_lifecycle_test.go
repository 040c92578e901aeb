//go:build !js

package wsclient_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thejerf/suture/v4"
	"go.uber.org/goleak"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// init/1 -> {ok, State}: start disconnected, connect later with Connect;
// a Stay decision keeps the client alive and disconnected.
func TestClientStartDisconnected(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	h := newTH()
	h.mode = wsclient.StartDisconnected
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	h.noMore(t, 50*time.Millisecond)
	if c.State() != wsclient.Disconnected || len(srv.Conns()) != 0 {
		t.Fatalf("state %v, %d server conns", c.State(), len(srv.Conns()))
	}
	c.Connect()
	h.expect(t, "connect")
	c.CloseConn(wsclient.CloseNormalClosure, "later")
	e := h.expect(t, "disconnect")
	var lc *wsclient.LocalCloseError
	if !errors.As(e.err, &lc) || lc.Reason != "later" {
		t.Fatalf("reason %v", e.err)
	}
	// StartDisconnected's default: stay.
	h.noMore(t, 50*time.Millisecond)
	if c.State() != wsclient.Disconnected {
		t.Fatalf("state %v", c.State())
	}
	c.Connect()
	h.expect(t, "connect")
	if n := len(srv.Conns()); n != 2 {
		t.Fatalf("%d server conns", n)
	}
}

// init/1 -> {reconnect, State}: the default decision reconnects with the
// backoff after a lost connection.
func TestClientKeepReconnecting(t *testing.T) {
	var n atomic.Int32
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		if n.Add(1) <= 2 {
			return sc.Drop()
		}
		return sc.Echo()
	}, wstest.WithT(t))
	h := newTH()
	h.mode = wsclient.KeepReconnecting
	c := start(t, srv.URL, h, &wsclient.Options{Backoff: wsclient.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	h.expect(t, "init")
	for range 2 {
		h.expect(t, "connect")
		if e := h.expect(t, "disconnect"); !errors.Is(e.err, wsclient.ErrConnectionLost) {
			t.Fatalf("reason %v", e.err)
		}
	}
	h.expect(t, "connect")
	if st := c.Stats(); st.Connects != 3 || st.Reconnects != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// Init's error ends the client: Start returns it after Terminate ran.
func TestClientInitError(t *testing.T) {
	h := newTH()
	boom := errors.New("no config")
	h.initErr = boom
	c, err := wsclient.Start(t.Context(), "ws://127.0.0.1:1", h, nil)
	if err != boom || c != nil {
		t.Fatalf("Start = %v, %v", c, err)
	}
	h.expect(t, "init")
	if e := h.expect(t, "terminate"); e.err != boom {
		t.Fatalf("terminate %v", e.err)
	}
	h.noMore(t, 20*time.Millisecond)
}

// Stop: close handshake with 1000, Terminate(nil) exactly once, Wait nil,
// then every sending method reports ErrTerminated.
func TestClientStop(t *testing.T) {
	got := make(chan int, 1)
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		code, _, err := sc.ExpectClose()
		got <- code
		sc.Close(code, "")
		return err
	}, wstest.WithT(t))
	c, h := startConnected(t, srv.URL)
	if err := c.Stop(t.Context()); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if code := <-got; code != wsclient.CloseNormalClosure {
		t.Fatalf("server got close %d", code)
	}
	if e := h.expect(t, "terminate"); e.err != nil {
		t.Fatalf("terminate %v", e.err)
	}
	h.noMore(t, 20*time.Millisecond) // no OnDisconnect while stopping, Terminate once
	if err := c.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if c.State() != wsclient.Terminated {
		t.Fatalf("state %v", c.State())
	}
	for name, err := range map[string]error{
		"Cast": c.Cast(wsclient.TextFrame("x")),
		"Send": c.Send(t.Context(), wsclient.TextFrame("x")),
		"Post": c.Post(1),
	} {
		if !errors.Is(err, wsclient.ErrClosed) {
			t.Errorf("%s after stop = %v", name, err)
		}
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatalf("second Stop = %v", err)
	}
}

// Stop with a server that never answers the close: the stop timeout (or
// Stop's context) bounds it.
func TestClientStopTimeout(t *testing.T) {
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		<-sc.Context().Done()
		return nil
	}, wstest.WithT(t))
	c, _ := startConnected(t, srv.URL, &wsclient.Options{StopTimeout: 100 * time.Millisecond})
	t0 := time.Now()
	if err := c.Stop(t.Context()); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if el := time.Since(t0); el > 2*time.Second {
		t.Fatalf("Stop took %v", el)
	}
	// Stop's own context cuts it shorter still.
	h2 := newTH()
	c2 := start(t, srv.URL, h2)
	h2.expect(t, "init")
	h2.expect(t, "connect")
	waitNoCallback(t, c2) // OnConnect has returned: Stop waits
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if err := c2.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v", err)
	}
	if err := waitDone(t, c2); err != nil {
		t.Fatalf("Wait = %v", err)
	}
}

// Cancelling Start's context stops the client; Wait returns ctx's error.
func TestClientContextCancel(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	h := newTH()
	ctx, cancel := context.WithCancel(t.Context())
	c, err := wsclient.Start(ctx, srv.URL, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.expect(t, "init")
	h.expect(t, "connect")
	cancel()
	if e := h.expect(t, "terminate"); !errors.Is(e.err, context.Canceled) {
		t.Fatalf("terminate %v", e.err)
	}
	if err := waitDone(t, c); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v", err)
	}
	// Cancelling during a reconnect delay stops too.
	h2 := newTH()
	h2.disc = func(*wsclient.Client, wsclient.Disconnect) wsclient.DisconnectAction {
		return wsclient.ReconnectAfter(time.Hour)
	}
	ctx2, cancel2 := context.WithCancel(t.Context())
	c2, _ := wsclient.Start(ctx2, closedURL(t), h2, nil)
	h2.expect(t, "init")
	h2.expect(t, "disconnect")
	cancel2()
	if err := waitDone(t, c2); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v", err)
	}
}

// States: connecting while the server holds the handshake (the whole
// attempt), then connected, closing, disconnected, terminated.
func TestClientStates(t *testing.T) {
	// The server holds the handshake until the test has seen the state
	// (or, should the test fail first, for 10 s).
	handshaking, answer := make(chan struct{}, 1), make(chan struct{})
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithSubprotocolFunc(func([]string) string {
		select {
		case handshaking <- struct{}{}:
		default:
		}
		select {
		case <-answer:
		case <-time.After(10 * time.Second):
		}
		return ""
	}))
	h := newTH()
	h.mode = wsclient.StartDisconnected
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	if s := c.State(); s != wsclient.Disconnected {
		t.Fatalf("state %v", s)
	}
	c.Connect()
	recvT(t, handshaking)
	s := c.State()
	close(answer)
	if s != wsclient.Connecting {
		t.Fatalf("state %v during the handshake", s)
	}
	h.expect(t, "connect")
	if s := c.State(); s != wsclient.Connected {
		t.Fatalf("state %v", s)
	}
	h.info = func(c *wsclient.Client, _ any) wsclient.Action {
		c.CloseConn(1000, "")
		return wsclient.Action{}
	}
	c.Post("close")
	h.expect(t, "info")
	if e := h.expect(t, "disconnect"); e.state != wsclient.Disconnected {
		t.Fatalf("state in OnDisconnect %v", e.state)
	}
	for name, s := range map[string]wsclient.State{"disconnected": wsclient.Disconnected, "connecting": wsclient.Connecting, "connected": wsclient.Connected, "closing": wsclient.Closing, "stopping": wsclient.Stopping, "terminated": wsclient.Terminated} {
		if s.String() != name {
			t.Errorf("%d.String() = %q", s, s.String())
		}
	}
}

// Posted values arrive at HandleInfo in order; its replies are sent.
func TestClientPostHandleInfo(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	h := newTH()
	h.info = func(c *wsclient.Client, msg any) wsclient.Action {
		return wsclient.Reply(wsclient.TextFrame(msg.(string)))
	}
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	h.expect(t, "connect")
	for _, m := range []string{"a", "b", "c"} {
		c.Post(m)
	}
	var infos, echoes []string
	for len(echoes) < 3 {
		switch e := h.next(t); e.kind {
		case "info":
			infos = append(infos, e.msg.(string))
		case "frame":
			echoes = append(echoes, string(e.f.Data))
		}
	}
	if strings.Join(infos, "") != "abc" || strings.Join(echoes, "") != "abc" {
		t.Fatalf("infos %q echoes %q", infos, echoes)
	}
}

// A panic in any callback is recovered: the connection is closed (1011),
// Terminate runs once, Wait returns a *PanicError with value and stack.
func TestClientPanics(t *testing.T) {
	type setup func(h *th, c **wsclient.Client)
	cases := map[string]setup{
		"OnConnect": func(h *th, _ **wsclient.Client) {
			h.connect = func(*wsclient.Client, wsclient.ConnInfo) wsclient.Action { panic("boom") }
		},
		"HandleFrame": func(h *th, _ **wsclient.Client) {
			h.connect = func(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
				return wsclient.Reply(wsclient.TextFrame("x"))
			}
			h.frame = func(*wsclient.Client, wsclient.Frame) wsclient.Action { panic("boom") }
		},
		"HandleInfo": func(h *th, _ **wsclient.Client) {
			h.connect = func(c *wsclient.Client, _ wsclient.ConnInfo) wsclient.Action {
				c.Post(1)
				return wsclient.Action{}
			}
			h.info = func(*wsclient.Client, any) wsclient.Action { panic("boom") }
		},
		"OnDisconnect": func(h *th, _ **wsclient.Client) {
			h.connect = func(c *wsclient.Client, _ wsclient.ConnInfo) wsclient.Action {
				c.CloseConn(1000, "")
				return wsclient.Action{}
			}
			h.disc = func(*wsclient.Client, wsclient.Disconnect) wsclient.DisconnectAction { panic("boom") }
		},
		"OnUndelivered": func(h *th, _ **wsclient.Client) {
			h.connect = func(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
				return wsclient.Reply(wsclient.Frame{Type: wsclient.CloseMessage})
			}
			h.undeliver = func(*wsclient.Client, wsclient.Frame, error) { panic("boom") }
		},
	}
	for cb, set := range cases {
		t.Run(cb, func(t *testing.T) {
			srv := wstest.NewEchoServer(wstest.WithT(t))
			h := newTH()
			var c *wsclient.Client
			set(h, &c)
			terms := 0
			h.term = func(*wsclient.Client, error) { terms++ }
			c = start(t, srv.URL, h)
			err := waitDone(t, c)
			var pe *wsclient.PanicError
			if !errors.As(err, &pe) || pe.Callback != cb || pe.Value != "boom" || !strings.Contains(string(pe.Stack), "client_lifecycle_test.go") {
				t.Fatalf("Wait = %v", err)
			}
			if e := h.until(t, "terminate"); e.err != err {
				t.Fatalf("terminate %v", e.err)
			}
			if terms != 1 {
				t.Fatalf("Terminate ran %d times", terms)
			}
			if cb != "OnDisconnect" {
				// The server saw close 1011.
				code := 0
				for _, f := range srv.Conns()[0].Frames() {
					if f.Opcode == wstest.OpClose {
						code = int(f.Payload[0])<<8 | int(f.Payload[1])
					}
				}
				if code != wsclient.CloseInternalServerErr {
					t.Fatalf("server saw close code %d", code)
				}
			}
		})
	}
	t.Run("Init", func(t *testing.T) {
		h := &panicInit{}
		_, err := wsclient.Start(t.Context(), "ws://127.0.0.1:1", h, nil)
		var pe *wsclient.PanicError
		if !errors.As(err, &pe) || pe.Callback != "Init" || h.terminated != err {
			t.Fatalf("Start = %v, terminate %v", err, h.terminated)
		}
	})
	t.Run("Terminate", func(t *testing.T) {
		srv := wstest.NewEchoServer(wstest.WithT(t))
		h := newTH()
		h.term = func(*wsclient.Client, error) { panic("in terminate") }
		c := start(t, srv.URL, h)
		h.expect(t, "init")
		h.expect(t, "connect")
		if err := c.Stop(t.Context()); err != nil {
			t.Fatalf("Stop = %v", err)
		}
		var pe *wsclient.PanicError
		if err := c.Wait(); !errors.As(err, &pe) || pe.Callback != "Terminate" {
			t.Fatalf("Wait = %v", err)
		}
	})
}

type panicInit struct {
	wsclient.BaseHandler
	terminated error
}

func (*panicInit) Init(*wsclient.Client) (wsclient.InitMode, error) { panic("init boom") }
func (p *panicInit) Terminate(_ *wsclient.Client, err error)        { p.terminated = err }

// A suture supervisor restarts a client whose handler panics: Serve
// returns the *PanicError, suture calls Serve again, Init runs again.
func TestClientSuture(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	h := &crashy{inits: make(chan int, 16)}
	c := wsclient.New(srv.URL, h, nil)
	sup := suture.New("test", suture.Spec{
		FailureBackoff:   time.Millisecond,
		FailureThreshold: 100,
		EventHook:        func(suture.Event) {},
	})
	sup.Add(c)
	ctx, cancel := context.WithCancel(t.Context())
	done := sup.ServeBackground(ctx)
	for want := 1; want <= 3; want++ {
		select {
		case n := <-h.inits:
			if n != want {
				t.Fatalf("init #%d, want %d", n, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no restart %d", want)
		}
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("supervisor: %v", err)
	}
	if h.panics.Load() < 2 {
		t.Fatalf("panics %d", h.panics.Load())
	}
	if err := c.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		var pe *wsclient.PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("last Wait = %v", err)
		}
	}
}

// crashy panics on the echo of its first message, twice; the third run
// stays up.
type crashy struct {
	wsclient.BaseHandler
	n      int
	inits  chan int
	panics atomic.Int32
}

func (h *crashy) Init(*wsclient.Client) (wsclient.InitMode, error) {
	h.n++
	h.inits <- h.n
	return wsclient.KeepReconnecting, nil
}

func (h *crashy) OnConnect(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
	return wsclient.Reply(wsclient.TextFrame("hi"))
}

func (h *crashy) HandleFrame(*wsclient.Client, wsclient.Frame) wsclient.Action {
	if h.n < 3 {
		h.panics.Add(1)
		panic("crash")
	}
	return wsclient.Action{}
}

// No goroutine is left after a stop, after a failed dial, or across 1,000
// connect/disconnect cycles.
func TestClientNoLeaks(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithRecordLimit(0))
	opts := []goleak.Option{goleak.IgnoreCurrent()}
	t.Run("stop", func(t *testing.T) {
		h := newTH()
		c, _ := wsclient.Start(t.Context(), srv.URL, h, nil)
		h.expect(t, "init")
		h.expect(t, "connect")
		c.Stop(t.Context())
		goleak.VerifyNone(t, opts...)
	})
	t.Run("failed dial", func(t *testing.T) {
		h := newTH()
		c, _ := wsclient.Start(t.Context(), closedURL(t), h, nil)
		waitDone(t, c)
		goleak.VerifyNone(t, opts...)
	})
	t.Run("1000 cycles", func(t *testing.T) {
		const cycles = 1000
		h := &cycler{left: cycles}
		c, _ := wsclient.Start(t.Context(), srv.URL, h, nil)
		if err := waitDone(t, c); err != nil {
			t.Fatalf("Wait = %v", err)
		}
		if st := c.Stats(); st.Connects != cycles || st.MessagesIn != cycles {
			t.Fatalf("stats %+v", st)
		}
		goleak.VerifyNone(t, opts...)
	})
}

// cycler connects, exchanges one message, closes, reconnects, left times.
type cycler struct {
	wsclient.BaseHandler
	left int
}

func (h *cycler) OnConnect(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
	return wsclient.Reply(wsclient.TextFrame("ping"))
}

func (h *cycler) HandleFrame(c *wsclient.Client, _ wsclient.Frame) wsclient.Action {
	c.CloseConn(1000, "")
	return wsclient.Action{}
}

func (h *cycler) OnDisconnect(_ *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	h.left--
	if h.left == 0 {
		return wsclient.StopWith(nil)
	}
	if _, ok := d.Reason.(*wsclient.LocalCloseError); !ok {
		return wsclient.StopWith(d.Reason)
	}
	return wsclient.ReconnectAfter(0)
}

// Client.CloseConn takes CloseNoStatusReceived as Conn.Close does: a close
// frame without a code (the server reports 1005); a code that may not be
// sent is refused with ErrBadFrame.
func TestClientCloseConnWithoutCode(t *testing.T) {
	codes := make(chan int, 1)
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		code, _, err := sc.ExpectClose()
		codes <- code
		return err
	}, wstest.WithT(t))
	c, h := startConnected(t, srv.URL)
	if err := c.CloseConn(1006, ""); !errors.Is(err, wsclient.ErrBadFrame) {
		t.Fatalf("CloseConn(1006) = %v, want ErrBadFrame", err)
	}
	if err := c.CloseConn(wsclient.CloseNoStatusReceived, ""); err != nil {
		t.Fatalf("CloseConn(1005) = %v", err)
	}
	if code := recvT(t, codes); code != wsclient.CloseNoStatusReceived {
		t.Fatalf("the server saw close code %d, want none (1005)", code)
	}
	var lc *wsclient.LocalCloseError
	if e := h.until(t, "disconnect"); !errors.As(e.err, &lc) || lc.Code != wsclient.CloseNoStatusReceived {
		t.Fatalf("disconnect reason %v", e.err)
	}
}
