package wsclient

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// dialHandshakeError dials srv and returns the *HandshakeError it must fail
// with.
func dialHandshakeError(t *testing.T, srv *wstest.Server, d *Dialer) *HandshakeError {
	t.Helper()
	conn, err := dialE(t, srv.URL, d)
	if err == nil {
		conn.CloseNow()
		t.Fatal("Dial succeeded, want a HandshakeError")
	}
	var he *HandshakeError
	if !errors.As(err, &he) {
		t.Fatalf("Dial: %v (%T), want *HandshakeError", err, err)
	}
	if he.Reason == "" || !strings.Contains(err.Error(), he.Reason) {
		t.Fatalf("HandshakeError without a reason in its message: %q", err)
	}
	return he
}

// A refused upgrade gives a HandshakeError with the status code, status
// text, headers and body.
func TestConnHandshakeRefused(t *testing.T) {
	for _, tc := range []struct {
		code int
		body string
	}{
		{http.StatusForbidden, "you shall not pass\n"},
		{http.StatusUnauthorized, ""},
		{http.StatusOK, "<html>not a websocket server</html>"},
		{http.StatusServiceUnavailable, "later"},
		{http.StatusMovedPermanently, ""},
	} {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			srv := newServer(t, nil, wstest.WithStatus(tc.code, tc.body),
				wstest.WithResponseHeader(http.Header{"X-Reason": {"because"}, "Retry-After": {"7"}}))
			he := dialHandshakeError(t, srv, nil)
			if he.StatusCode != tc.code {
				t.Fatalf("StatusCode %d, want %d", he.StatusCode, tc.code)
			}
			if want := http.StatusText(tc.code); !strings.Contains(he.Status, want) || !strings.HasPrefix(he.Status, strconv.Itoa(tc.code)) {
				t.Fatalf("Status %q, want %d %s", he.Status, tc.code, want)
			}
			if he.Header.Get("X-Reason") != "because" || he.Header.Get("Retry-After") != "7" {
				t.Fatalf("Header %v", he.Header)
			}
			if string(he.Body) != tc.body {
				t.Fatalf("Body %q, want %q", he.Body, tc.body)
			}
		})
	}
}

// The body kept in a HandshakeError is bounded, also when the server sends
// a huge body or one without a length that never ends.
func TestConnHandshakeBodyBounded(t *testing.T) {
	t.Run("large body", func(t *testing.T) {
		srv := newServer(t, nil, wstest.WithStatus(http.StatusBadRequest, strings.Repeat("e", 1<<20)))
		he := dialHandshakeError(t, srv, nil)
		if len(he.Body) != MaxHandshakeErrorBody {
			t.Fatalf("Body of %d bytes, want the %d-byte bound", len(he.Body), MaxHandshakeErrorBody)
		}
	})
	t.Run("endless body", func(t *testing.T) {
		srv := newServer(t, func(c *wstest.Conn) error {
			for range 1000 {
				if err := c.WriteRaw([]byte(strings.Repeat("z", 1024))); err != nil {
					return nil
				}
			}
			<-c.Context().Done()
			return nil
		}, wstest.WithRawResponse(func(*http.Request) []byte {
			return []byte("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n")
		}))
		start := time.Now()
		he := dialHandshakeError(t, srv, nil)
		if he.StatusCode != 500 || len(he.Body) > MaxHandshakeErrorBody {
			t.Fatalf("status %d, body %d bytes", he.StatusCode, len(he.Body))
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("Dial took %v with an endless body", d)
		}
	})
}

// 101 responses that do not complete the upgrade correctly are refused with
// a HandshakeError carrying StatusCode 101 and the headers.
func TestConnHandshakeInvalid101(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []wstest.Option
		d    *Dialer
	}{
		{"wrong accept", []wstest.Option{wstest.WithAccept("dGhlIHNhbXBsZSBub25jZQ==")}, nil},
		{"empty accept", []wstest.Option{wstest.WithAccept("")}, nil},
		{"two accepts", []wstest.Option{wstest.WithResponseHeader(http.Header{"Sec-WebSocket-Accept": {"a", "b"}})}, nil},
		{"no accept", []wstest.Option{wstest.WithResponseHeader(http.Header{"Sec-WebSocket-Accept": nil})}, nil},
		{"no upgrade", []wstest.Option{wstest.WithResponseHeader(http.Header{"Upgrade": nil})}, nil},
		{"upgrade to something else", []wstest.Option{wstest.WithResponseHeader(http.Header{"Upgrade": {"h2c"}})}, nil},
		{"no connection", []wstest.Option{wstest.WithResponseHeader(http.Header{"Connection": nil})}, nil},
		{"connection keep-alive", []wstest.Option{wstest.WithResponseHeader(http.Header{"Connection": {"keep-alive"}})}, nil},
		{"subprotocol not offered", []wstest.Option{wstest.WithSubprotocolFunc(func([]string) string { return "evil" })}, &Dialer{Subprotocols: []string{"chat"}}},
		{"subprotocol when none offered", []wstest.Option{wstest.WithSubprotocolFunc(func([]string) string { return "chat" })}, nil},
		{"two subprotocols", []wstest.Option{wstest.WithResponseHeader(http.Header{"Sec-WebSocket-Protocol": {"a", "b"}})}, &Dialer{Subprotocols: []string{"a", "b"}}},
		{"extension not offered", []wstest.Option{wstest.WithExtensions("permessage-deflate")}, nil},
		{"unknown extension not offered", []wstest.Option{wstest.WithExtensions("x-webkit-deflate-frame")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newEcho(t, tc.opts...)
			he := dialHandshakeError(t, srv, tc.d)
			if he.StatusCode != http.StatusSwitchingProtocols || he.Header == nil {
				t.Fatalf("StatusCode %d, Header %v; want 101 and the headers", he.StatusCode, he.Header)
			}
		})
	}
}

// Header tokens compare case-insensitively and within lists.
func TestConnHandshakeLenient101(t *testing.T) {
	srv := newEcho(t, wstest.WithResponseHeader(http.Header{
		"Upgrade":    {"WebSocket"},
		"Connection": {"keep-alive, UPGRADE"},
		"X-Extra":    {"seen"},
	}), wstest.WithSubprotocols("v2.chat"))
	conn := dialT(t, srv.URL, &Dialer{Subprotocols: []string{"v1.chat", "v2.chat"}})
	if conn.Subprotocol() != "v2.chat" {
		t.Fatalf("Subprotocol() = %q", conn.Subprotocol())
	}
	if conn.Extensions() != "" {
		t.Fatalf("Extensions() = %q", conn.Extensions())
	}
	resp := conn.Response()
	if resp == nil || resp.StatusCode != 101 || resp.Header.Get("X-Extra") != "seen" {
		t.Fatalf("Response() = %+v", resp)
	}
	ctx := testCtx(t)
	if err := conn.WriteMessage(ctx, TextMessage, []byte("works")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := conn.ReadMessage(ctx); err != nil || string(got) != "works" {
		t.Fatalf("%q, %v", got, err)
	}
}

// Garbage instead of an HTTP response, or a connection closed before the
// response ends, fails the dial with a HandshakeError.
func TestConnHandshakeGarbage(t *testing.T) {
	for _, tc := range []struct{ name, resp string }{
		{"not http", "SSH-2.0-OpenSSH_9.6\r\n"},
		{"truncated header", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(c *wstest.Conn) error {
				if tc.resp != "" {
					if err := c.WriteRaw([]byte(tc.resp)); err != nil {
						return nil
					}
				}
				return c.Drop()
			}, wstest.WithRawResponse(func(*http.Request) []byte { return nil }))
			_, err := dialE(t, srv.URL, nil)
			var he *HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("Dial: %v (%T), want *HandshakeError", err, err)
			}
		})
	}
}

// A server that never answers the handshake: Dial gives up after
// HandshakeTimeout with an error matching context.DeadlineExceeded.
func TestConnHandshakeTimeout(t *testing.T) {
	srv := newEcho(t, wstest.WithHandshakeDelay(time.Minute))
	start := time.Now()
	_, err := dialE(t, srv.URL, &Dialer{HandshakeTimeout: 200 * time.Millisecond})
	d := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial: %v, want context.DeadlineExceeded", err)
	}
	var de *DialError
	if !errors.As(err, &de) || de.Op != "handshake" {
		t.Fatalf("Dial: %v, want a DialError with Op handshake", err)
	}
	if d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Dial returned after %v, want about 200ms", d)
	}
}

// A response that starts and then stalls is covered by the timeout too.
func TestConnHandshakeTimeoutPartialResponse(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.WriteRaw([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgr")); err != nil {
			return nil
		}
		<-c.Context().Done()
		return nil
	}, wstest.WithRawResponse(func(*http.Request) []byte { return nil }))
	start := time.Now()
	_, err := dialE(t, srv.URL, &Dialer{HandshakeTimeout: 200 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("Dial: %v after %v", err, time.Since(start))
	}
}

// Cancelling Dial's context interrupts a handshake in progress promptly.
func TestConnHandshakeCancel(t *testing.T) {
	srv := newEcho(t, wstest.WithHandshakeDelay(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	d := &Dialer{Proxy: NoProxy}
	conn, err := d.Dial(ctx, srv.URL)
	if err == nil {
		conn.CloseNow()
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial: %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("Dial returned %v after the cancel", el)
	}
	// An already cancelled context fails before any I/O.
	conn, err = d.Dial(ctx, srv.URL)
	if err == nil {
		conn.CloseNow()
		t.Fatal("Dial with a cancelled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial with a cancelled context: %v", err)
	}
}

// The context given to Dial does not affect the connection after Dial.
func TestConnDialContextEndsAfterDial(t *testing.T) {
	srv := newEcho(t)
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := (&Dialer{Proxy: NoProxy}).Dial(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	cancel()
	time.Sleep(20 * time.Millisecond)
	rctx := testCtx(t)
	if err := conn.WriteMessage(rctx, TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := conn.ReadMessage(rctx); err != nil || string(got) != "still here" {
		t.Fatalf("%q, %v", got, err)
	}
}
