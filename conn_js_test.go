//go:build js

package wsclient_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
)

// The js/wasm tests run in a browser (or Node with a WebSocket), started
// by TestWasmBrowser and TestWasmNode (wasm_test.go), which start the
// servers outside it and pass their URLs in the environment.

// peerURL returns the base URL of the server the environment names, or
// skips the test.
func peerURL(t *testing.T, env string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		t.Skipf("%s not set: these tests are run by TestWasmBrowser and TestWasmNode (go test -run Wasm .), which start the servers", env)
	}
	return u
}

func wstestURL(t *testing.T, path string) string { return peerURL(t, "WSCLIENT_WASM_WSTEST") + path }
func nodeURL(t *testing.T, path string) string   { return peerURL(t, "WSCLIENT_WASM_NODEWS") + path }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dialJS(t *testing.T, url string, d *wsclient.Dialer) *wsclient.Conn {
	t.Helper()
	c, err := wsclient.Dial(testCtx(t), url, d)
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// echo writes a text and a binary message and checks that both come back.
func echo(t *testing.T, c *wsclient.Conn) {
	t.Helper()
	ctx := testCtx(t)
	bin := bytes.Repeat([]byte{0, 1, 2, 0xff}, 40000)
	for _, m := range []struct {
		typ  wsclient.MessageType
		data []byte
	}{{wsclient.TextMessage, []byte("héllo, 世界")}, {wsclient.BinaryMessage, bin}} {
		if err := c.WriteMessage(ctx, m.typ, m.data); err != nil {
			t.Fatalf("WriteMessage %v: %v", m.typ, err)
		}
		typ, got, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if typ != m.typ || !bytes.Equal(got, m.data) {
			t.Fatalf("echo: got %v of %d bytes, want %v of %d", typ, len(got), m.typ, len(m.data))
		}
	}
}

func TestJSConnEchoWstest(t *testing.T) {
	echo(t, dialJS(t, wstestURL(t, "/echo"), nil))
}

func TestJSConnEchoNode(t *testing.T) {
	c := dialJS(t, nodeURL(t, "/"), &wsclient.Dialer{Subprotocols: []string{"nope", "chat"}})
	if got := c.Info().Subprotocol; got != "chat" {
		t.Errorf("Subprotocol = %q, want chat", got)
	}
	echo(t, c)
	ctx := testCtx(t)
	n, err := c.WriteBatch(ctx, wsclient.TextMessage, [][]byte{[]byte("a"), []byte("b")})
	if n != 2 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	w, err := c.NextWriter(ctx, wsclient.BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("c1"))
	w.Write([]byte("c2"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b", "c1c2"} {
		_, got, err := c.ReadMessage(ctx)
		if err != nil || string(got) != want {
			t.Fatalf("ReadMessage = %q, %v; want %q", got, err, want)
		}
	}
}

func TestJSConnServerClose(t *testing.T) {
	c := dialJS(t, nodeURL(t, "/close?code=4001&reason=bye"), nil)
	_, _, err := c.ReadMessage(testCtx(t))
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye" {
		t.Fatalf("ReadMessage error = %v, want the server's close 4001 bye", err)
	}
	if err := c.WriteMessage(testCtx(t), wsclient.TextMessage, []byte("late")); !errors.Is(err, wsclient.ErrClosed) {
		t.Errorf("write after the server's close = %v, want ErrClosed", err)
	}
}

func TestJSConnClientClose(t *testing.T) {
	c := dialJS(t, nodeURL(t, "/"), nil)
	var seen []byte
	c.SetControlHandler(func(typ wsclient.MessageType, p []byte) {
		if typ == wsclient.CloseMessage {
			seen = append([]byte(nil), p...)
		}
	})
	go c.ReadMessage(context.Background()) // a reader, as the close's answer is read
	if err := c.Close(4000, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// The Node peer echoes the client's close code and reason.
	if want := "\x0f\xa0done"; string(seen) != want {
		t.Errorf("control handler saw close %q, want %q", seen, want)
	}
	if err := c.Close(1000, ""); !errors.Is(err, wsclient.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

func TestJSConnCloseCodes(t *testing.T) {
	c := dialJS(t, nodeURL(t, "/"), nil)
	if err := c.Close(1006, ""); !errors.Is(err, wsclient.ErrBadFrame) {
		t.Errorf("Close(1006) = %v, want ErrBadFrame", err)
	}
	if err := c.Close(wsclient.CloseGoingAway, ""); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "1001") {
		t.Errorf("Close(1001) = %v, want errors.ErrUnsupported naming the code", err)
	}
	echo(t, c) // neither was sent
}

func TestJSUnsupported(t *testing.T) {
	url := wstestURL(t, "/echo")
	for name, d := range map[string]*wsclient.Dialer{
		"Dialer.Header":      {Header: map[string][]string{"X-A": {"1"}}},
		"Dialer.Proxy":       {Proxy: wsclient.NoProxy},
		"Dialer.Compression": {Compression: &wsclient.CompressionOptions{}},
		"Dialer.HTTP2":       {HTTP2: wsclient.HTTP2Auto},
		"Dialer.TLSConfig":   {TLSConfig: &tls.Config{}},
		"Dialer.Origin":      {Origin: "http://example.com"},
	} {
		_, err := wsclient.Dial(testCtx(t), url, d)
		if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: Dial error = %v, want errors.ErrUnsupported naming it", name, err)
		}
	}
	c := dialJS(t, url, nil)
	if _, err := c.Ping(testCtx(t), nil); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Ping = %v, want errors.ErrUnsupported", err)
	}
	echo(t, c)
}

func TestJSDialRefused(t *testing.T) {
	// The browser fails a refused handshake at once; Node's WebSocket
	// waits for the connection to end, which HandshakeTimeout bounds.
	_, err := wsclient.Dial(testCtx(t), peerURL(t, "WSCLIENT_WASM_REFUSE"), &wsclient.Dialer{HandshakeTimeout: 2 * time.Second})
	var de *wsclient.DialError
	if !errors.As(err, &de) {
		t.Fatalf("Dial to a refusing server = %v, want a *DialError", err)
	}
}

func TestJSConnReadContext(t *testing.T) {
	c := dialJS(t, wstestURL(t, "/echo"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.ReadMessage(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadMessage = %v, want DeadlineExceeded", err)
	}
	// As elsewhere, a read whose context ends closes the connection.
	if err := c.WriteMessage(testCtx(t), wsclient.TextMessage, []byte("x")); !errors.Is(err, wsclient.ErrClosed) {
		t.Errorf("write after = %v, want ErrClosed", err)
	}
}

func TestJSConnMessageTooBig(t *testing.T) {
	c := dialJS(t, wstestURL(t, "/echo"), &wsclient.Dialer{MaxMessageSize: 1000})
	ctx := testCtx(t)
	if err := c.WriteMessage(ctx, wsclient.BinaryMessage, make([]byte, 1001)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadMessage(ctx); !errors.Is(err, wsclient.ErrMessageTooBig) {
		t.Fatalf("ReadMessage = %v, want ErrMessageTooBig", err)
	}
}

// TestJSConnBackpressure writes to a server that reads nothing: once the
// socket and the browser's buffer are full, the write waits, and its
// context ends it, instead of the browser buffering without bound.
func TestJSConnBackpressure(t *testing.T) {
	c := dialJS(t, wstestURL(t, "/stall"), nil)
	msg := make([]byte, 1<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var err error
	n := 0
	for ; n < 1000 && err == nil; n++ {
		err = c.WriteMessage(ctx, wsclient.BinaryMessage, msg)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after %d MiB to a server that does not read: %v, want the context's deadline", n, err)
	}
	t.Logf("the write waited after %d MiB", n)
}

// NetConn works in the browser too: a byte stream through an echo server,
// with a read deadline, and addresses that say where it goes.
func TestJSNetConn(t *testing.T) {
	url := wstestURL(t, "/echo")
	nc := wsclient.NetConn(dialJS(t, url, nil), wsclient.BinaryMessage)
	defer nc.Close()
	want := bytes.Repeat([]byte("stream "), 5000)
	go nc.Write(want)
	got := make([]byte, len(want))
	if err := nc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(nc, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFull: %v (equal %v)", err, bytes.Equal(got, want))
	}
	if err := nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Read(got); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if a := nc.RemoteAddr(); a == nil || a.String() != url || a.Network() != "websocket" {
		t.Errorf("RemoteAddr %v, want %s", a, url)
	}
	if nc.LocalAddr() == nil {
		t.Error("LocalAddr is nil")
	}
}
