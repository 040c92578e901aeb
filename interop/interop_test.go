package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/peertest"
)

// testTimeout bounds every test's network work (dials, reads, writes).
const testTimeout = 30 * time.Second

// eventTimeout bounds the wait for a peer to report an event.
const eventTimeout = 10 * time.Second

// echoSizes are the message sizes every server must echo: the edges of the
// 7-, 16- and 64-bit length encodings, and a large message.
var echoSizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 20}

// server is one kind of WebSocket peer.
type server struct {
	name string
	// start starts a fresh instance with default settings (no
	// compression configured for node; python's defaults).
	start func(t testing.TB) *peertest.Peer
	// protocols starts an instance that accepts the given subprotocols.
	protocols func(t testing.TB, protos []string) *peertest.Peer
	// reportsPing: the peer reports pings it receives as events.
	reportsPing bool
	// emptyCloseCode is the code the client sees when /close has no code:
	// node sends an empty close frame (1005), python closes with 1000.
	emptyCloseCode int
}

var servers = []server{
	{
		name:  "node-ws",
		start: func(t testing.TB) *peertest.Peer { return peertest.NodeWS(t, peertest.NodeOptions{}) },
		protocols: func(t testing.TB, protos []string) *peertest.Peer {
			return peertest.NodeWS(t, peertest.NodeOptions{Protocols: protos})
		},
		reportsPing:    true,
		emptyCloseCode: wsclient.CloseNoStatusReceived,
	},
	{
		name:  "python-websockets",
		start: func(t testing.TB) *peertest.Peer { return peertest.PythonWS(t, peertest.PythonOptions{}) },
		protocols: func(t testing.TB, protos []string) *peertest.Peer {
			return peertest.PythonWS(t, peertest.PythonOptions{Protocols: protos})
		},
		emptyCloseCode: wsclient.CloseNormalClosure,
	},
}

// forEachServer runs f as a subtest per server kind, each with its own
// running peer.
func forEachServer(t *testing.T, f func(t *testing.T, s server, p *peertest.Peer)) {
	t.Helper()
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			p := s.start(t)
			t.Logf("%s %s at %s", p.Name, p.Version, p.Addr)
			f(t, s, p)
		})
	}
}

// ctxFor returns a context for t bounded by testTimeout.
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// countConn counts the bytes that cross a net.Conn in each direction.
type countConn struct {
	net.Conn
	read, written *atomic.Int64
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// wire counts the bytes a Dialer's connections read and write on the
// network (before TLS, through any proxy).
type wire struct{ read, written atomic.Int64 }

// dialFunc returns a NetDialContext that counts into w.
func (w *wire) dialFunc() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countConn{Conn: c, read: &w.read, written: &w.written}, nil
	}
}

// snapshot returns the counts so far.
func (w *wire) snapshot() (read, written int64) { return w.read.Load(), w.written.Load() }

// newDialer returns a Dialer that never uses an environment proxy.
func newDialer() *wsclient.Dialer {
	return &wsclient.Dialer{Proxy: wsclient.NoProxy, HandshakeTimeout: 10 * time.Second}
}

// dial connects d to url and registers a cleanup that drops the connection.
func dial(t *testing.T, ctx context.Context, d *wsclient.Dialer, url string) *wsclient.Conn {
	t.Helper()
	c, err := wsclient.Dial(ctx, url, d)
	if err != nil {
		t.Fatalf("Dial(%s): %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// textPayload returns valid UTF-8 of exactly n bytes mixing 1- to 4-byte
// characters, so that a split inside a character anywhere would show.
func textPayload(n int, seed uint64) []byte {
	pieces := []string{"a", "é", "€", "😀", "Z", " ", "ж", "中"}
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, n)
	for len(b) < n {
		p := pieces[r.IntN(len(pieces))]
		if len(b)+len(p) > n {
			p = "a"
		}
		b = append(b, p...)
	}
	if !utf8.Valid(b) {
		panic("textPayload: invalid UTF-8")
	}
	return b
}

// binaryPayload returns n pseudo-random bytes.
func binaryPayload(n int, seed uint64) []byte {
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

// compressiblePayload returns n bytes of JSON-like text that deflate
// shrinks a lot, even with a small window.
func compressiblePayload(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"user":"user-%d","active":%t,"tags":["alpha","beta"],"score":%d}`+"\n", i, i%13, i%3 == 0, i%100)
	}
	return b.Bytes()[:n]
}

// payload returns a message of type typ and size n.
func payload(typ wsclient.MessageType, n int, seed uint64) []byte {
	if typ == wsclient.TextMessage {
		return textPayload(n, seed)
	}
	return binaryPayload(n, seed)
}

// checkSame fails t if got differs from want, naming the first difference.
func checkSame(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Fatalf("%s: got %d bytes, want %d; first difference at offset %d", what, len(got), len(want), i)
}

// echo sends one message and checks that the same message comes back.
func echo(t *testing.T, ctx context.Context, c *wsclient.Conn, typ wsclient.MessageType, msg []byte) {
	t.Helper()
	if err := c.WriteMessage(ctx, typ, msg); err != nil {
		t.Fatalf("WriteMessage(%v, %d bytes): %v", typ, len(msg), err)
	}
	gotTyp, got, err := c.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("ReadMessage after sending %v of %d bytes: %v", typ, len(msg), err)
	}
	if gotTyp != typ {
		t.Fatalf("echo type %v, want %v", gotTyp, typ)
	}
	checkSame(t, "echo", got, msg)
}

// pingThenEcho pings c with payload and waits for the pong (Conn.Ping sees
// pongs only while a goroutine reads: one reads here, and returns at the
// next data message), then echoes msg as text. The pong arrives before the
// echo: a peer answers a ping before it reads on.
func pingThenEcho(t *testing.T, ctx context.Context, c *wsclient.Conn, payload, msg []byte) {
	t.Helper()
	type read struct {
		typ wsclient.MessageType
		msg []byte
		err error
	}
	got := make(chan read, 1)
	go func() {
		typ, m, err := c.ReadMessage(ctx)
		got <- read{typ, m, err}
	}()
	rtt, err := c.Ping(ctx, payload)
	if err != nil || rtt <= 0 {
		t.Fatalf("Ping(%q) = %v, %v", payload, rtt, err)
	}
	if err := c.WriteMessage(ctx, wsclient.TextMessage, msg); err != nil {
		t.Fatalf("WriteMessage after the ping: %v", err)
	}
	r := <-got
	if r.err != nil || r.typ != wsclient.TextMessage {
		t.Fatalf("ReadMessage after the ping: %v %v", r.typ, r.err)
	}
	checkSame(t, "echo after the ping", r.msg, msg)
}

// waitMessageEvent waits for the peer to report a message on target with
// the given type and size.
func waitMessageEvent(t *testing.T, p *peertest.Peer, target string, binary bool, size int) {
	t.Helper()
	ev, ok := p.WaitEvent(eventTimeout, func(e peertest.Event) bool {
		return e.Kind == "message" && e.URL == target
	})
	if !ok {
		t.Fatalf("%s reported no message on %s; events: %+v", p.Name, target, p.Events())
	}
	if ev.Binary != binary || ev.Size != size {
		t.Fatalf("%s received binary=%v size=%d on %s, want binary=%v size=%d", p.Name, ev.Binary, ev.Size, target, binary, size)
	}
}

// waitCloseEvent waits for the peer's close event on target.
func waitCloseEvent(t *testing.T, p *peertest.Peer, target string) peertest.Event {
	t.Helper()
	ev, ok := p.WaitEvent(eventTimeout, func(e peertest.Event) bool {
		return e.Kind == "close" && e.URL == target
	})
	if !ok {
		t.Fatalf("%s reported no close on %s; events: %+v", p.Name, target, p.Events())
	}
	return ev
}

// waitConnectEvent waits for the peer's connect event on target.
func waitConnectEvent(t *testing.T, p *peertest.Peer, target string) peertest.Event {
	t.Helper()
	ev, ok := p.WaitEvent(eventTimeout, func(e peertest.Event) bool {
		return e.Kind == "connect" && e.URL == target
	})
	if !ok {
		t.Fatalf("%s reported no connect on %s; events: %+v", p.Name, target, p.Events())
	}
	return ev
}

// closeClean runs the close handshake with 1000 and checks that it
// completed and that the server saw 1000.
func closeClean(t *testing.T, c *wsclient.Conn, p *peertest.Peer, target string) {
	t.Helper()
	if err := c.Close(wsclient.CloseNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if ev := waitCloseEvent(t, p, target); ev.Code != wsclient.CloseNormalClosure {
		t.Fatalf("%s saw close code %d, want 1000", p.Name, ev.Code)
	}
}

// fixedProxy returns a Dialer.Proxy function that always picks raw.
func fixedProxy(t *testing.T, raw string) func(*http.Request) (*url.URL, error) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return func(*http.Request) (*url.URL, error) { return u, nil }
}

// extParams parses a Sec-WebSocket-Extensions value with one extension
// into its name and a parameter set ("name" or "name=value").
func extParams(s string) (name string, params map[string]bool) {
	params = map[string]bool{}
	parts := strings.Split(s, ";")
	name = strings.TrimSpace(parts[0])
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if k, v, ok := strings.Cut(p, "="); ok {
			p = strings.TrimSpace(k) + "=" + strings.Trim(strings.TrimSpace(v), `"`)
		}
		if p != "" {
			params[p] = true
		}
	}
	return name, params
}

// isCloseError reports whether err is a *wsclient.CloseError with code
// and reason.
func isCloseError(err error, code int, reason string) bool {
	var ce *wsclient.CloseError
	return errors.As(err, &ce) && ce.Code == code && ce.Reason == reason
}
