//go:build !js

package wsclient_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/netfault"
	"github.com/wsclient/wsclient/wstest"
)

// closedURL returns a ws:// URL on which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	return "ws://" + netfault.ClosedAddr(t)
}

// onconnect/2 gets the websocket_req accessors: URL, subprotocol,
// extensions, response headers, addresses.
func TestClientConnInfo(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithSubprotocols("chat.v2"),
		wstest.WithResponseHeader(http.Header{"X-Server": {"wstest"}}))
	h := newTH()
	c := start(t, srv.URL+"/path?q=1", h, &wsclient.Options{Dialer: &wsclient.Dialer{Subprotocols: []string{"chat.v1", "chat.v2"}}})
	h.expect(t, "init")
	e := h.expect(t, "connect")
	info := e.info
	if info.URL != srv.URL+"/path?q=1" || info.Subprotocol != "chat.v2" || info.Header.Get("X-Server") != "wstest" {
		t.Fatalf("info %+v", info)
	}
	if info.RemoteAddr.String() != srv.Addr() || info.LocalAddr == nil {
		t.Fatalf("addrs %v %v", info.LocalAddr, info.RemoteAddr)
	}
	if e.state != wsclient.Connected {
		t.Fatalf("state in OnConnect %v", e.state)
	}
	got, ok := c.Info()
	if !ok || got.Subprotocol != "chat.v2" {
		t.Fatalf("ConnInfo() = %+v, %v", got, ok)
	}
}

// websocket_handle/3: text, binary, ping (already ponged) and pong reach
// HandleFrame; reply and close results work; combined actions go in order.
func TestClientHandleFrameActions(t *testing.T) {
	gotPong := make(chan []byte, 1)
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		sc.WriteMessage(wstest.OpText, []byte("hello"))
		sc.WriteMessage(wstest.OpBinary, []byte{1, 2, 3})
		sc.WriteFrame(true, 0, wstest.OpPing, []byte("srv-ping"))
		sc.WriteFrame(true, 0, wstest.OpPong, []byte("unsolicited"))
		for {
			op, p, err := sc.ReadMessage()
			if err != nil {
				return err
			}
			switch op {
			case wstest.OpPong:
				gotPong <- p
			case wstest.OpText:
				if string(p) == "r2" {
					code, reason, err := sc.ExpectClose()
					if err != nil {
						return err
					}
					sc.Close(code, reason)
					return nil
				}
			}
		}
	}, wstest.WithT(t))
	h := newTH()
	h.frame = func(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
		if f.Type == wsclient.PongMessage {
			// Cast, then close: the close is queued behind the frames.
			for _, m := range []string{"r1", "r2"} {
				if err := c.Cast(wsclient.TextFrame(m)); err != nil {
					t.Error(err)
				}
			}
			if err := c.CloseConn(4001, "after replies"); err != nil {
				t.Error(err)
			}
		}
		return wsclient.Action{}
	}
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	h.expect(t, "connect")
	want := []wsclient.Frame{
		{Type: wsclient.TextMessage, Data: []byte("hello")},
		{Type: wsclient.BinaryMessage, Data: []byte{1, 2, 3}},
		{Type: wsclient.PingMessage, Data: []byte("srv-ping")},
		{Type: wsclient.PongMessage, Data: []byte("unsolicited")},
	}
	for _, w := range want {
		e := h.expect(t, "frame")
		if e.f.Type != w.Type || string(e.f.Data) != string(w.Data) {
			t.Fatalf("frame %v, want %v", e.f, w)
		}
	}
	select {
	case p := <-gotPong:
		if string(p) != "srv-ping" {
			t.Fatalf("pong payload %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ping not ponged")
	}
	e := h.expect(t, "disconnect")
	var lc *wsclient.LocalCloseError
	if !errors.As(e.err, &lc) || lc.Code != 4001 || lc.Reason != "after replies" || lc.Err != nil {
		t.Fatalf("disconnect reason %v", e.err)
	}
	if !e.d.WasConnected || e.d.Attempt != 0 {
		t.Fatalf("disconnect %+v", e.d)
	}
	// ConnectOnce after a clean local close: a normal stop.
	h.expect(t, "terminate")
	if err := waitDone(t, c); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	var texts []string
	for _, f := range srv.Conns()[0].Frames() {
		if f.Opcode == wstest.OpText {
			texts = append(texts, string(f.Payload))
		}
	}
	if !slices.Equal(texts, []string{"r1", "r2"}) {
		t.Fatalf("server got %q", texts)
	}
}

// {remote, Code, Reason}: the server's close code and reason reach
// OnDisconnect; ConnectOnce then stops with that reason.
func TestClientRemoteClose(t *testing.T) {
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		sc.Close(4321, "server says bye")
		_, _, err := sc.ExpectClose()
		return err
	}, wstest.WithT(t))
	h := newTH()
	c := start(t, srv.URL, h)
	h.until(t, "connect")
	e := h.expect(t, "disconnect")
	var ce *wsclient.CloseError
	if !errors.As(e.err, &ce) || ce.Code != 4321 || ce.Reason != "server says bye" {
		t.Fatalf("reason %v", e.err)
	}
	h.expect(t, "terminate")
	if err := waitDone(t, c); !errors.As(err, &ce) {
		t.Fatalf("Wait = %v", err)
	}
}

// {remote, closed}: a connection lost without a close frame.
func TestClientConnectionLost(t *testing.T) {
	srv := wstest.NewServer(func(sc *wstest.Conn) error { return sc.Drop() }, wstest.WithT(t))
	h := newTH()
	c := start(t, srv.URL, h)
	h.until(t, "connect")
	e := h.expect(t, "disconnect")
	if !errors.Is(e.err, wsclient.ErrConnectionLost) {
		t.Fatalf("reason %v", e.err)
	}
	if err := waitDone(t, c); !errors.Is(err, wsclient.ErrConnectionLost) {
		t.Fatalf("Wait = %v", err)
	}
}

// exit {error, {400, <<"Bad Request">>}}: a refused handshake reaches
// OnDisconnect with status code and text.
func TestClientHandshakeRefused(t *testing.T) {
	srv := wstest.NewServer(nil, wstest.WithT(t), wstest.WithStatus(http.StatusForbidden, "go away"))
	h := newTH()
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	e := h.expect(t, "disconnect")
	var he *wsclient.HandshakeError
	if !errors.As(e.err, &he) || he.StatusCode != 403 || he.Status != "403 Forbidden" || string(he.Body) != "go away" {
		t.Fatalf("reason %#v", e.err)
	}
	if e.d.WasConnected || e.d.Attempt != 1 {
		t.Fatalf("disconnect %+v", e.d)
	}
	h.expect(t, "terminate")
	if err := waitDone(t, c); !errors.As(err, &he) {
		t.Fatalf("Wait = %v", err)
	}
	if st := c.Stats(); st.DialFailures != 1 || st.Connects != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A dial error, with the attempt number counting consecutive failures, and
// a Stop decision whose reason Wait returns.
func TestClientDialErrorAttempts(t *testing.T) {
	url := closedURL(t)
	h := newTH()
	giveUp := errors.New("gave up")
	h.disc = func(c *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
		if d.Attempt < 3 {
			return wsclient.ReconnectAfter(0)
		}
		return wsclient.StopWith(giveUp)
	}
	c := start(t, url, h)
	h.expect(t, "init")
	for i := 1; i <= 3; i++ {
		e := h.expect(t, "disconnect")
		var de *wsclient.DialError
		if !errors.As(e.err, &de) || de.Op != "dial" {
			t.Fatalf("reason %v", e.err)
		}
		if e.d.Attempt != i || e.d.WasConnected {
			t.Fatalf("disconnect %+v, want attempt %d", e.d, i)
		}
	}
	if e := h.expect(t, "terminate"); e.err != giveUp {
		t.Fatalf("terminate reason %v", e.err)
	}
	if err := waitDone(t, c); err != giveUp {
		t.Fatalf("Wait = %v", err)
	}
}
