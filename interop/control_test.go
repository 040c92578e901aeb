package interop

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/peertest"
)

// control is one control frame seen by a Conn's control handler.
type control struct {
	typ     wsclient.MessageType
	payload []byte
}

// recordControls installs a control handler that sends copies of every
// control frame to the returned channel (which never blocks the reader).
func recordControls(c *wsclient.Conn) <-chan control {
	ch := make(chan control, 64)
	c.SetControlHandler(func(typ wsclient.MessageType, p []byte) {
		select {
		case ch <- control{typ, bytes.Clone(p)}:
		default:
		}
	})
	return ch
}

// TestPingPong pings the server and checks that the control handler sees
// the pong with the same payload, before the echo of a message sent after
// the ping.
func TestPingPong(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		for _, pl := range [][]byte{
			[]byte("ping-payload-1"),
			{},
			bytes.Repeat([]byte{0x00, 0xff, 'x', 0x80, 0x7f}, 25), // 125 bytes, not UTF-8
		} {
			t.Run("len"+strconv.Itoa(len(pl)), func(t *testing.T) {
				ctx := ctxFor(t)
				target := "/pingpong/" + strconv.Itoa(len(pl))
				c := dial(t, ctx, newDialer(), p.URL+target)
				ctl := recordControls(c)
				// The server answers the ping before it echoes this message.
				pingThenEcho(t, ctx, c, pl, []byte("after ping"))
				select {
				case got := <-ctl:
					if got.typ != wsclient.PongMessage {
						t.Fatalf("control handler saw %v, want a pong", got.typ)
					}
					checkSame(t, "pong payload", got.payload, pl)
				default:
					t.Fatal("no pong reached the control handler before the echo of the next message")
				}
				if s.reportsPing {
					ev, ok := p.WaitEvent(eventTimeout, func(e peertest.Event) bool { return e.Kind == "ping" && e.URL == target })
					if !ok {
						t.Fatalf("%s reported no ping", p.Name)
					}
					if ev.Data != latin1(pl) {
						t.Fatalf("%s received ping payload %q, want %q", p.Name, ev.Data, pl)
					}
				}
				closeClean(t, c, p, target)
			})
		}
	})
}

// TestServerPing has the server ping (the /ping path): the control handler
// sees the ping, wsclient answers with a pong carrying the same payload,
// and the server reports the pong (and says so in a message).
func TestServerPing(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		ctx := ctxFor(t)
		const pl = "server-ping-42"
		target := "/ping?payload=" + pl
		c := dial(t, ctx, newDialer(), p.URL+target)
		ctl := recordControls(c)
		typ, msg, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if typ != wsclient.TextMessage || string(msg) != "pong:"+pl {
			t.Fatalf("got %v %q, want text %q", typ, msg, "pong:"+pl)
		}
		select {
		case got := <-ctl:
			if got.typ != wsclient.PingMessage || string(got.payload) != pl {
				t.Fatalf("control handler saw %v %q, want ping %q", got.typ, got.payload, pl)
			}
		default:
			t.Fatal("the control handler did not see the server's ping")
		}
		ev, ok := p.WaitEvent(eventTimeout, func(e peertest.Event) bool { return e.Kind == "pong" && e.URL == target })
		if !ok {
			t.Fatalf("%s reported no pong", p.Name)
		}
		if ev.Data != pl {
			t.Fatalf("%s received pong payload %q, want %q", p.Name, ev.Data, pl)
		}
		// The connection still echoes after the exchange.
		echo(t, ctx, c, wsclient.BinaryMessage, []byte{1, 2, 3})
		closeClean(t, c, p, target)
	})
}

// TestCloseFromClient closes with a private code and a reason and checks
// what the server received, and that the handshake completed.
func TestCloseFromClient(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		cases := []struct {
			code   int
			reason string
		}{
			{4001, "bye"},
			{wsclient.CloseGoingAway, "going away, ünïcödé"},
			{wsclient.CloseNormalClosure, ""},
			{3000, strings.Repeat("r", 123)}, // the longest reason that fits
		}
		for _, tc := range cases {
			t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
				ctx := ctxFor(t)
				target := "/client-close/" + strconv.Itoa(tc.code)
				c := dial(t, ctx, newDialer(), p.URL+target)
				echo(t, ctx, c, wsclient.TextMessage, []byte("hello"))
				start := time.Now()
				if err := c.Close(tc.code, tc.reason); err != nil {
					t.Fatalf("Close(%d, %q): %v", tc.code, tc.reason, err)
				}
				// A server that answers promptly must not leave Close waiting
				// for the close timeout.
				if el := time.Since(start); el > 3*time.Second {
					t.Errorf("Close took %v", el)
				}
				ev := waitCloseEvent(t, p, target)
				if ev.Code != tc.code || ev.Reason != tc.reason {
					t.Fatalf("%s received close %d %q, want %d %q", p.Name, ev.Code, ev.Reason, tc.code, tc.reason)
				}
				if err := c.WriteMessage(ctx, wsclient.TextMessage, []byte("late")); err == nil {
					t.Fatal("WriteMessage after Close succeeded")
				}
				if _, _, err := c.ReadMessage(ctx); err == nil {
					t.Fatal("ReadMessage after Close succeeded")
				}
			})
		}
	})
}

// TestCloseFromServer has the server close with a code and reason (after
// echoing one message) and checks the *CloseError and the code the server
// got back.
func TestCloseFromServer(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		cases := []struct {
			name       string
			query      string
			wantCode   int
			wantReason string
			replyCode  int // what the server must receive back
		}{
			{"4002", "code=4002&reason=server+says+bye&after=1", 4002, "server says bye", 4002},
			{"1001", "code=1001&reason=restart&after=1", 1001, "restart", 1001},
			{"1011-empty-reason", "code=1011&after=1", 1011, "", 1011},
			{"no-code", "after=1", s.emptyCloseCode, "", wsclient.CloseNormalClosure},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := ctxFor(t)
				target := "/close?" + tc.query
				c := dial(t, ctx, newDialer(), p.URL+target)
				ctl := recordControls(c)
				echo(t, ctx, c, wsclient.TextMessage, []byte("one"))
				_, _, err := c.ReadMessage(ctx)
				var ce *wsclient.CloseError
				if !errors.As(err, &ce) {
					t.Fatalf("ReadMessage: %v, want *CloseError", err)
				}
				if ce.Code != tc.wantCode || ce.Reason != tc.wantReason {
					t.Fatalf("CloseError{%d, %q}, want {%d, %q}", ce.Code, ce.Reason, tc.wantCode, tc.wantReason)
				}
				select {
				case got := <-ctl:
					if got.typ != wsclient.CloseMessage {
						t.Fatalf("control handler saw %v, want close", got.typ)
					}
				default:
					t.Fatal("the control handler did not see the close frame")
				}
				// The error is sticky.
				if _, _, err2 := c.ReadMessage(ctx); !isCloseError(err2, tc.wantCode, tc.wantReason) {
					t.Fatalf("second ReadMessage: %v, want the same CloseError", err2)
				}
				ev := waitCloseEvent(t, p, target)
				if ev.Code != tc.replyCode {
					t.Fatalf("%s received close code %d in reply, want %d", p.Name, ev.Code, tc.replyCode)
				}
				if err := c.WriteMessage(ctx, wsclient.TextMessage, []byte("late")); err == nil {
					t.Fatal("WriteMessage after the server's close succeeded")
				}
			})
		}
	})
}

// TestServerDrop checks that a connection whose server process dies
// reports ErrConnectionLost, not a CloseError.
func TestServerDrop(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		ctx := ctxFor(t)
		c := dial(t, ctx, newDialer(), p.URL+"/drop")
		echo(t, ctx, c, wsclient.TextMessage, []byte("x"))
		p.Kill()
		_, _, err := c.ReadMessage(ctx)
		if !errors.Is(err, wsclient.ErrConnectionLost) {
			t.Fatalf("ReadMessage after the server was killed: %v, want ErrConnectionLost", err)
		}
		var ce *wsclient.CloseError
		if errors.As(err, &ce) {
			t.Fatalf("got a CloseError %v for a dropped connection", ce)
		}
	})
}

// latin1 returns b decoded as ISO 8859-1 (as node reports ping payloads).
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
