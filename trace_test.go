//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/wstest"
)

// traceLog records Trace events as lines, in order.
type traceLog struct {
	mu  sync.Mutex
	evs []string
	ch  chan string
}

func newTraceLog() *traceLog { return &traceLog{ch: make(chan string, 1024)} }

func (l *traceLog) add(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	l.mu.Lock()
	l.evs = append(l.evs, s)
	l.mu.Unlock()
	select {
	case l.ch <- s:
	default:
	}
}

func (l *traceLog) events() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.evs)
}

// await waits for an event that starts with prefix and returns it.
func (l *traceLog) await(t *testing.T, prefix string) string {
	t.Helper()
	for {
		select {
		case s := <-l.ch:
			if strings.HasPrefix(s, prefix) {
				return s
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q event; got %q", prefix, l.events())
		}
	}
}

// trace returns a Trace with every hook set, recording into l.
func (l *traceLog) trace() *Trace {
	return &Trace{
		DNSStart:     func(host string) { l.add("dns-start %s", host) },
		DNSDone:      func(addrs []net.IPAddr, err error) { l.add("dns-done %d %v", len(addrs), err) },
		ConnectStart: func(network, addr string) { l.add("connect-start %s %s", network, addr) },
		ConnectDone:  func(network, addr string, err error) { l.add("connect-done %s %s %v", network, addr, err) },
		ProxyConnect: func(proxy string, status int, err error) { l.add("proxy %s %d %v", proxy, status, err) },
		TLSStart:     func() { l.add("tls-start") },
		TLSDone: func(st tls.ConnectionState, err error) {
			l.add("tls-done %v %s %v", st.HandshakeComplete, st.NegotiatedProtocol, err)
		},
		WroteRequest: func(err error) { l.add("wrote-request %v", err) },
		GotResponse: func(status int, proto, sub, ext string) {
			l.add("response %d %s %q %q", status, proto, sub, ext)
		},
		Ready:          func(info ConnInfo) { l.add("ready %s tls=%v", info.URL, info.TLS != nil) },
		MessageWritten: func(typ MessageType, size, wire int) { l.add("written %v %d %d", typ, size, wire) },
		MessageRead:    func(typ MessageType, size, wire int) { l.add("read %v %d %d", typ, size, wire) },
		PingSent:       func() { l.add("ping") },
		PongReceived: func(rtt time.Duration) {
			l.add("pong %v", rtt > 0)
		},
		CloseSent:          func(code int, reason string, local bool) { l.add("close-sent %d %q local=%v", code, reason, local) },
		CloseReceived:      func(code int, reason string, local bool) { l.add("close-received %d %q local=%v", code, reason, local) },
		ConnectionLost:     func(err error) { l.add("lost %v", errors.Is(err, ErrConnectionLost)) },
		StateChanged:       func(from, to State) { l.add("state %v>%v", from, to) },
		ReconnectScheduled: func(attempt int, d time.Duration, reason error) { l.add("reconnect %d %v", attempt, reason != nil) },
		OutboxDepth:        func(frames, size int) { l.add("outbox %d/%d", frames, size) },
		FramesConfirmed:    func(n int) { l.add("confirmed %d", n) },
		FramesUnconfirmed:  func(n int) { l.add("unconfirmed %d", n) },
		FramesRedelivered:  func(n int) { l.add("redelivered %d", n) },
		FramesUndelivered:  func(n int) { l.add("undelivered %d", n) },
	}
}

// A Conn's dial over TLS reports its phases in order, to the Trace and to
// an httptrace.ClientTrace in the context; then messages (compressed and
// not), a ping and the close handshake.
func TestTraceConn(t *testing.T) {
	srv := newEcho(t, wstest.WithTLS(), wstest.WithDeflate(wstest.DeflateOptions{}))
	l := newTraceLog()
	var ht []string
	var htMu sync.Mutex
	hadd := func(s string) { htMu.Lock(); ht = append(ht, s); htMu.Unlock() }
	ctx := httptrace.WithClientTrace(testCtx(t), &httptrace.ClientTrace{
		ConnectStart:         func(string, string) { hadd("connect-start") },
		ConnectDone:          func(string, string, error) { hadd("connect-done") },
		TLSHandshakeStart:    func() { hadd("tls-start") },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { hadd("tls-done") },
		WroteRequest:         func(httptrace.WroteRequestInfo) { hadd("wrote-request") },
		GotFirstResponseByte: func() { hadd("first-byte") },
	})
	d := &Dialer{TLSConfig: srv.ClientTLSConfig(), Trace: l.trace(), Compression: &CompressionOptions{Threshold: 64}}
	c, err := Dial(ctx, srv.URL, d)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	addr := strings.TrimPrefix(srv.URL, "wss://")
	want := []string{
		"connect-start tcp " + addr,
		"connect-done tcp " + addr + " <nil>",
		"tls-start",
		"tls-done true  <nil>",
		"wrote-request <nil>",
		`response 101 HTTP/1.1 "" "permessage-deflate; server_no_context_takeover; client_no_context_takeover"`,
		"ready " + srv.URL + " tls=true",
	}
	if got := l.events(); !slices.Equal(got, want) {
		t.Fatalf("dial events\n got %q\nwant %q", got, want)
	}
	wantHT := []string{"connect-start", "connect-done", "tls-start", "tls-done", "wrote-request", "first-byte"}
	if htMu.Lock(); !slices.Equal(ht, wantHT) {
		t.Errorf("httptrace events %q, want %q", ht, wantHT)
	}
	htMu.Unlock()

	big := strings.Repeat("compressible ", 100) // 1300 bytes, compressed by both
	for _, m := range []string{"hi", big} {
		if err := c.WriteMessage(ctx, TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(ctx); err != nil || string(got) != m {
			t.Fatalf("%q, %v", got, err)
		}
	}
	if n, err := c.WriteBatch(ctx, BinaryMessage, [][]byte{[]byte("a"), []byte("bc")}); n != 2 || err != nil {
		t.Fatal(n, err)
	}
	for range 2 {
		if _, _, err := c.ReadMessage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	go c.ReadMessage(ctx) // reads the pong, then the close
	if _, err := c.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(CloseNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	got := l.events()[len(want):]
	if len(got) < 12 {
		t.Fatalf("events %q", got)
	}
	// The echo server compresses every message, so the wire sizes of
	// reads are its; the client compresses from the threshold on.
	msgs := got[:8]
	wantMsgs := []string{"written text 2 2", "read text 2 ", "written text 1300 ", "read text 1300 ",
		"written binary 1 1", "written binary 2 2", "read binary 1 ", "read binary 2 "}
	for i, w := range wantMsgs {
		if !strings.HasPrefix(msgs[i], w) || strings.HasPrefix(msgs[i], "written text 1300 1300") {
			t.Errorf("message event %d: %q, want %q...", i, msgs[i], w)
		}
	}
	if want := []string{"ping", "pong true", `close-sent 1000 "bye" local=true`, `close-received 1000 "bye" local=true`}; !slices.Equal(got[8:12], want) {
		t.Errorf("ping and close events %q, want %q", got[8:], want)
	}
}

// A host name is resolved with DNS hooks (localhost: no network), and a
// refusal reports its status; a server that drops the connection reports it
// lost, and a server's close is reported as started by the server.
func TestTraceDNSRefusalLost(t *testing.T) {
	refuse := newServer(t, nil, wstest.WithStatus(403, "no"))
	l := newTraceLog()
	url := strings.Replace(refuse.URL, "127.0.0.1", "localhost", 1)
	d := &Dialer{Trace: l.trace()}
	if _, err := Dial(testCtx(t), url, d); err == nil {
		t.Fatal("dial succeeded")
	}
	got := l.events()
	if len(got) < 5 || got[0] != "dns-start localhost" || !strings.HasPrefix(got[1], "dns-done ") ||
		!strings.HasSuffix(got[1], " <nil>") || !slices.Contains(got, `response 403 HTTP/1.1 "" ""`) {
		t.Fatalf("events %q", got)
	}

	drop := newServer(t, func(c *wstest.Conn) error {
		if err := c.Close(CloseGoingAway, "x"); err != nil {
			return err
		}
		_, _ = c.ReadFrame()
		return nil
	})
	l = newTraceLog()
	d.Trace = l.trace()
	c := dialT(t, drop.URL, d)
	if _, _, err := c.ReadMessage(testCtx(t)); err == nil {
		t.Fatal("read succeeded")
	}
	l.await(t, `close-received 1001 "x" local=false`)
	l.await(t, `close-sent 1001 "" local=false`)

	lost := newServer(t, func(c *wstest.Conn) error { return c.Drop() })
	l = newTraceLog()
	d.Trace = l.trace()
	c = dialT(t, lost.URL, d)
	defer c.CloseNow()
	if _, _, err := c.ReadMessage(testCtx(t)); !errors.Is(err, ErrConnectionLost) {
		t.Fatal(err)
	}
	l.await(t, "lost true")
}

// A Client reports its states, its frames confirmed, the pong that
// confirmed them, and the reconnect OnDisconnect scheduled.
func TestTraceClient(t *testing.T) {
	srv := newEcho(t)
	l := newTraceLog()
	h := &traceHandler{got: make(chan string, 16)}
	c, err := Start(testCtx(t), srv.URL, h, &Options{Trace: l.trace(), Confirm: 1 << 20, Backoff: Backoff{Initial: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Stop(context.Background()); c.Wait() }()
	l.await(t, "state disconnected>connecting")
	l.await(t, "ready ")
	l.await(t, "state connecting>connected")
	if err := c.Send(testCtx(t), TextFrame("one")); err != nil {
		t.Fatal(err)
	}
	l.await(t, "confirmed 1")
	for _, ev := range []string{"written text 3 3", "ping", "pong true", "read text 3 3"} {
		if !slices.Contains(l.events(), ev) {
			t.Errorf("no %q in %q", ev, l.events())
		}
	}
	srv.Conns()[0].Drop()
	l.await(t, "lost true")
	l.await(t, "state connected>disconnected")
	l.await(t, "reconnect 0 true")
	l.await(t, "state disconnected>connecting")
	l.await(t, "state connecting>connected")
}

type traceHandler struct {
	BaseHandler
	got chan string
}

func (*traceHandler) Init(*Client) (InitMode, error) { return KeepReconnecting, nil }

// The outbox reports its depth as it crosses quarters of its size.
func TestTraceOutboxDepth(t *testing.T) {
	l := newTraceLog()
	c := New("ws://127.0.0.1:1/", &traceHandler{}, &Options{Trace: l.trace(), OutboxSize: 8})
	for i := range 8 {
		if err := c.Cast(TextFrame("x")); err != nil {
			t.Fatal(i, err)
		}
	}
	want := []string{"outbox 2/8", "outbox 4/8", "outbox 6/8", "outbox 8/8"}
	if got := l.events(); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// noopTrace has every per-message hook set to a function that does nothing.
var noopTrace = &Trace{
	MessageWritten: func(MessageType, int, int) {},
	MessageRead:    func(MessageType, int, int) {},
}

// BenchmarkConnTrace is the cost of the hooks per 64-byte message, in
// memory (no system calls, so nothing hides it): none set, and no-op
// MessageRead and MessageWritten hooks.
func BenchmarkConnTrace(b *testing.B) {
	msg := frame.Append(nil, frame.Header{Fin: true, Opcode: frame.OpText, Length: 64})
	msg = append(msg, bytes.Repeat([]byte("a"), 64)...)
	stream := bytes.Repeat(msg, 4096/len(msg))
	cfg := connConfig{maxMessage: defaultMaxMessage, fragmentSize: 4096, closeTimeout: defaultCloseTimeout, writeBufSize: defaultWriteBuf}
	for _, tc := range []struct {
		name string
		tr   *Trace
	}{{"off", nil}, {"noop", noopTrace}} {
		b.Run("Read/"+tc.name, func(b *testing.B) {
			conn := newConn(&memConn{stream: stream}, nil, cfg, defaultBufSize)
			conn.trace = tc.tr
			ctx := context.Background()
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			for b.Loop() {
				if _, p, err := conn.appendMessage(ctx, buf[:0], false); err != nil || len(p) != 64 {
					b.Fatalf("read: %v (%d bytes)", err, len(p))
				}
			}
		})
		b.Run("Write/"+tc.name, func(b *testing.B) {
			conn := newConn(&memConn{stream: stream}, nil, cfg, defaultBufSize)
			conn.trace = tc.tr
			ctx := context.Background()
			p := bytes.Repeat([]byte("a"), 64)
			b.ReportAllocs()
			for b.Loop() {
				if err := conn.WriteMessage(ctx, TextMessage, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
