//go:build !js

package wsclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// The handler's callbacks and the actions they return (the Erlang
// semantics of issue 9), each as a user porting a handler would try it.

// {close, Payload} from websocket_handle or websocket_info ends the client:
// a close handshake with the code and reason, no OnDisconnect, no
// reconnect (even with KeepReconnecting), Terminate and Wait get the
// reason.
func TestClientCloseAndStop(t *testing.T) {
	for _, from := range []string{"HandleFrame", "HandleInfo"} {
		t.Run(from, func(t *testing.T) {
			closed := make(chan [2]any, 1)
			srv := wstest.NewServer(func(sc *wstest.Conn) error {
				sc.WriteMessage(wstest.OpText, []byte("hi"))
				code, reason, err := sc.ExpectClose()
				closed <- [2]any{code, reason}
				return err
			}, wstest.WithT(t))
			done := errors.New("done")
			h := newTH()
			h.mode = wsclient.KeepReconnecting
			stop := func(c *wsclient.Client) wsclient.Action {
				if err := c.Cast(wsclient.TextFrame("bye")); err != nil { // written before the close
					t.Error(err)
				}
				return wsclient.CloseAndStop(4001, "enough", done)
			}
			h.frame = func(c *wsclient.Client, _ wsclient.Frame) wsclient.Action {
				if from == "HandleFrame" {
					return stop(c)
				}
				return wsclient.Action{}
			}
			h.info = func(c *wsclient.Client, _ any) wsclient.Action { return stop(c) }
			c := start(t, srv.URL, h)
			h.expect(t, "init")
			h.expect(t, "connect")
			h.expect(t, "frame")
			if from == "HandleInfo" {
				c.Post("stop")
				h.expect(t, "info")
			}
			e := h.expect(t, "terminate") // no disconnect, no reconnect
			if e.err != done {
				t.Fatalf("Terminate reason %v", e.err)
			}
			if err := waitDone(t, c); err != done {
				t.Fatalf("Wait = %v", err)
			}
			if got := <-closed; got[0] != 4001 || got[1] != "enough" {
				t.Fatalf("server saw close %v", got)
			}
			if st := c.Stats(); st.Connects != 1 || st.MessagesOut != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// Stop called from a callback requests the stop and returns at once.
func TestClientStopInCallback(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	h := newTH()
	stopped := make(chan error, 1)
	h.info = func(c *wsclient.Client, _ any) wsclient.Action {
		stopped <- c.Stop(context.Background())
		return wsclient.Action{}
	}
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	h.expect(t, "connect")
	c.Post("stop")
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Stop in callback = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop in a callback deadlocked")
	}
	if err := waitDone(t, c); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	h.until(t, "terminate")
}

// Send from OnConnect never hangs (its frame could only be written after
// OnConnect returns): with a context that can never end it fails at once
// with ErrSendInCallback; with one that can end it returns the context's
// error when that ends. Send from HandleFrame while connected completes.
func TestClientSendInCallback(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	h := newTH()
	results := make(chan error, 3)
	h.connect = func(c *wsclient.Client, _ wsclient.ConnInfo) wsclient.Action {
		results <- c.Send(context.Background(), wsclient.TextFrame("from OnConnect"))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		results <- c.Send(ctx, wsclient.TextFrame("from OnConnect, bounded"))
		return wsclient.Reply(wsclient.TextFrame("first"))
	}
	h.frame = func(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
		if string(f.Data) == "first" {
			results <- c.Send(context.Background(), wsclient.TextFrame("from HandleFrame"))
		}
		return wsclient.Action{}
	}
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	h.expect(t, "connect")
	if err := recvT(t, results); !errors.Is(err, wsclient.ErrSendInCallback) {
		t.Fatalf("Send in OnConnect = %v", err)
	}
	if err := recvT(t, results); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send in OnConnect with a deadline = %v", err)
	}
	if e := h.expect(t, "frame"); string(e.f.Data) != "first" {
		t.Fatalf("frame %v", e.f)
	}
	if err := recvT(t, results); err != nil {
		t.Fatalf("Send in HandleFrame = %v", err)
	}
	if e := h.expect(t, "frame"); string(e.f.Data) != "from HandleFrame" {
		t.Fatalf("frame %v", e.f)
	}
	c.Stop(t.Context())
}

// Ping never waits for the network, even behind a writer stuck on a server
// that does not read.
func TestClientCastPingDoesNotBlock(t *testing.T) {
	stalled := make(chan struct{}, 1)
	srv := wstest.NewServer(readThenStall(1<<20, stalled), wstest.WithT(t))
	c, _ := startConnected(t, srv.URL, &wsclient.Options{StopTimeout: 200 * time.Millisecond})
	if err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: make([]byte, 32<<20)}); err != nil {
		t.Fatal(err)
	}
	recvT(t, stalled) // the writer is stuck in the frame now
	t0 := time.Now()
	for range 10 {
		if err := c.Cast(wsclient.Frame{Type: wsclient.PingMessage, Data: []byte("p")}); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(t0); el > time.Second {
		t.Fatalf("Cast of a ping blocked for %v", el)
	}
	if err := c.Cast(wsclient.Frame{Type: wsclient.PingMessage, Data: make([]byte, 126)}); !errors.Is(err, wsclient.ErrBadFrame) {
		t.Fatalf("Cast of a 126-byte ping = %v", err)
	}
}

// A reply HandleFrame returned for a message received just before a
// protocol error is written before the connection is failed (as an echo
// over the Conn would).
func TestClientReplyBeforeProtocolError(t *testing.T) {
	got := make(chan []wstest.Opcode, 1)
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		msg := wstest.Frame{Fin: true, Opcode: wstest.OpText, Payload: []byte("echo me")}.Bytes()
		bad := wstest.Frame{Fin: true, Opcode: 3}.Bytes() // reserved opcode
		sc.WriteRaw(append(msg, bad...))
		var ops []wstest.Opcode
		defer func() { got <- ops }()
		for {
			f, err := sc.ReadFrame()
			if err != nil {
				return nil
			}
			ops = append(ops, f.Opcode)
			if f.Opcode == wstest.OpClose {
				return nil
			}
		}
	}, wstest.WithT(t))
	h := newTH()
	h.frame = func(_ *wsclient.Client, f wsclient.Frame) wsclient.Action { return wsclient.Reply(f) }
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	h.expect(t, "connect")
	h.expect(t, "frame")
	e := h.expect(t, "disconnect")
	var pe *wsclient.ProtocolError
	if !errors.As(e.err, &pe) {
		t.Fatalf("disconnect reason %v", e.err)
	}
	if ops := <-got; len(ops) != 2 || ops[0] != wstest.OpText || ops[1] != wstest.OpClose {
		t.Fatalf("server got %v, want the echo then the close", ops)
	}
	waitDone(t, c)
}

// A nil handler or a URL that can never work is reported at once.
func TestClientBadArguments(t *testing.T) {
	if _, err := wsclient.Start(t.Context(), "ws://127.0.0.1:1/", nil, nil); !errors.Is(err, wsclient.ErrNilHandler) {
		t.Fatalf("Start(nil handler) = %v", err)
	}
	if err := wsclient.New("ws://127.0.0.1:1/", nil, nil).Serve(t.Context()); !errors.Is(err, wsclient.ErrNilHandler) {
		t.Fatalf("Serve(nil handler) = %v", err)
	}
	for _, u := range []string{"ftp://example.com/", "://", "ws://"} {
		h := newTH()
		h.mode = wsclient.KeepReconnecting
		t0 := time.Now()
		if _, err := wsclient.Start(t.Context(), u, h, nil); !errors.Is(err, wsclient.ErrBadURL) {
			t.Fatalf("Start(%q) = %v", u, err)
		}
		if el := time.Since(t0); el > time.Second {
			t.Fatalf("Start(%q) took %v", u, el)
		}
		select {
		case e := <-h.ev:
			t.Fatalf("callback %s for a bad URL", e.kind)
		default:
		}
	}
}
