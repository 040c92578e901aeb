//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"

	"github.com/wsclient/wsclient/wstest"
)

// Tests of WebSockets over HTTP/2 (RFC 8441) against Go's own HTTP/2 server
// (h2_server_test.go). The interop package runs the same against HAProxy and
// nghttpx.

func TestH2EchoSizes(t *testing.T) {
	s := newH2Server(t, true, 0)
	c := dialT(t, s.url+"/echo", s.dialer())
	if !c.Info().HTTP2 {
		t.Fatalf("%s, want HTTP/2", proto(c))
	}
	ctx := testCtx(t)
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 300 << 10, 1 << 20} {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		if err := c.WriteMessage(ctx, BinaryMessage, msg); err != nil {
			t.Fatalf("write %d: %v", n, err)
		}
		typ, got, err := c.ReadMessage(ctx)
		if err != nil || typ != BinaryMessage || !bytes.Equal(got, msg) {
			t.Fatalf("echo of %d bytes: type %v, %d bytes, %v", n, typ, len(got), err)
		}
	}
	if err := c.Close(CloseNormalClosure, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	end := s.waitEnds(t, 1)[0]
	if end.closeCode != CloseNormalClosure {
		t.Errorf("server saw close code %d, want 1000", end.closeCode)
	}
	// RFC 8441 section 5: after the close handshake the client ends its
	// side of the stream with END_STREAM, not a reset.
	if end.bodyErr != io.EOF {
		t.Errorf("client ended the stream with %v, want END_STREAM (io.EOF)", end.bodyErr)
	}
}

func TestH2PriorKnowledgeH2C(t *testing.T) {
	s := newH2Server(t, false, 0)
	c := dialT(t, s.url+"/", s.dialer())
	ctx := testCtx(t)
	if err := c.WriteMessage(ctx, TextMessage, []byte("h2c")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.ReadMessage(ctx); err != nil || string(got) != "h2c" {
		t.Fatalf("echo: %q, %v", got, err)
	}
	if !c.Info().HTTP2 {
		t.Fatalf("proto %s", proto(c))
	}
	if err := c.Close(CloseNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	// HTTP2Auto never guesses h2c: a ws:// URL uses HTTP/1.1.
	echo := newEcho(t)
	c2 := dialT(t, echo.URL, &Dialer{HTTP2: HTTP2Auto})
	if c2.Info().HTTP2 {
		t.Fatalf("HTTP2Auto on ws:// used %s", proto(c2))
	}
}

func TestH2FragmentsPingClose(t *testing.T) {
	s := newH2Server(t, true, 0)
	d := s.dialer()
	d.FragmentSize = 100
	c := dialT(t, s.url+"/", d)
	ctx := testCtx(t)
	msg := strings.Repeat("fragmented ", 100)
	w, err := c.NextWriter(ctx, TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, msg)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pongs := make(chan string, 1)
	c.SetControlHandler(func(typ MessageType, p []byte) {
		if typ == PongMessage {
			pongs <- string(p)
		}
	})
	if err := c.writeControl(ctx, frame.OpPing, []byte("are you there")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.ReadMessage(ctx); err != nil || string(got) != msg {
		t.Fatalf("fragmented echo: %d bytes, %v", len(got), err)
	}
	go c.ReadMessage(ctx) // reading delivers the pong
	if p := recv(t, pongs); p != "are you there" {
		t.Fatalf("pong %q", p)
	}
	c.CloseNow()
}

func TestH2ServerCloseCode(t *testing.T) {
	s := newH2Server(t, true, 0)
	c := dialT(t, s.url+"/close?code=4001", s.dialer())
	_, _, err := c.ReadMessage(testCtx(t))
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye" {
		t.Fatalf("ReadMessage: %v, want the server's close 4001", err)
	}
	end := s.waitEnds(t, 1)[0]
	if end.closeCode != 4001 {
		t.Errorf("server got close code %d back, want 4001", end.closeCode)
	}
}

func TestH2SubprotocolHeadersCookies(t *testing.T) {
	s := newH2Server(t, true, 0)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse("https://" + strings.TrimPrefix(s.url, "wss://"))
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "abc"}})
	d := s.dialer()
	d.Jar = jar
	d.Subprotocols = []string{"superchat", "chat"}
	d.Origin = "https://example.test"
	d.Header = http.Header{"X-Custom": {"1"}}
	c := dialT(t, strings.Replace(s.url, "wss://", "wss://user:pw@", 1)+"/headers?q=1", d)
	if c.Info().Subprotocol != "superchat" {
		t.Errorf("subprotocol %q", c.Info().Subprotocol)
	}
	_, b, err := c.ReadMessage(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var hdr http.Header
	if err := json.Unmarshal(b, &hdr); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"Cookie": "session=abc", "Origin": "https://example.test", "X-Custom": "1",
		"Authorization": "Basic dXNlcjpwdw==", "Sec-Websocket-Protocol": "superchat, chat",
	} {
		if got := hdr.Get(k); got != want {
			t.Errorf("request header %s = %q, want %q", k, got, want)
		}
	}
	if hdr.Get("Sec-Websocket-Key") != "" || hdr.Get("Upgrade") != "" {
		t.Errorf("HTTP/1.1 handshake headers sent over HTTP/2: %v", hdr)
	}
	if cks := jar.Cookies(u); len(cks) != 2 {
		t.Errorf("jar has %v, want the server's cookie added", cks)
	}
	c.CloseNow()
}

func TestH2Deflate(t *testing.T) {
	s := newH2Server(t, true, 0)
	s.deflate = true
	d := s.dialer()
	d.Compression = &CompressionOptions{}
	c := dialT(t, s.url+"/", d)
	if !strings.Contains(c.Info().Extensions, "permessage-deflate") {
		t.Fatalf("extensions %q", c.Info().Extensions)
	}
	ctx := testCtx(t)
	msg := strings.Repeat("compress me ", 1000)
	for range 3 {
		if err := c.WriteMessage(ctx, TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(ctx); err != nil || string(got) != msg {
			t.Fatalf("deflate echo: %d bytes, %v", len(got), err)
		}
	}
	c.CloseNow()
}

func TestH2Refused(t *testing.T) {
	s := newH2Server(t, true, 0)
	_, err := dialE(t, s.url+"/refuse", s.dialer())
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusForbidden || string(he.Body) != "nope" || he.Header.Get("X-Refused") != "yes" {
		t.Fatalf("Dial: %v (%+v), want a HandshakeError 403 with body", err, he)
	}
	// The refused stream gave its slot back: the connection is gone.
	s.waitAllClosed(t)
}

func TestH2SharedConnection(t *testing.T) {
	s := newH2Server(t, true, 0)
	d := s.dialer()
	const n = 50
	conns := make([]*Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			c, err := dialE(t, s.url+"/", d)
			conns[i] = c
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := s.conns.Load(); got != 1 {
		t.Fatalf("%d WebSockets used %d TCP connections, want 1", n, got)
	}
	ctx := testCtx(t)
	for i, c := range conns {
		wg.Go(func() {
			msg := []byte(strings.Repeat("x", i))
			if err := c.WriteMessage(ctx, BinaryMessage, msg); err != nil {
				errs <- err
				return
			}
			if _, got, err := c.ReadMessage(ctx); err != nil || !bytes.Equal(got, msg) {
				t.Errorf("conn %d: %d bytes, %v", i, len(got), err)
			}
			if err := c.Close(CloseNormalClosure, ""); err != nil {
				t.Errorf("conn %d Close: %v", i, err)
			}
		})
	}
	wg.Wait()
	// The last Close ended the connection.
	s.waitAllClosed(t)
	// A new dial opens a new connection.
	c := dialT(t, s.url+"/", d)
	c.CloseNow()
	if got := s.conns.Load(); got != 2 {
		t.Fatalf("TCP connections %d, want 2", got)
	}
}

// The HTTP/2 connections are a Dialer's own: another Dialer, or a copy of
// one made after it has dialed, opens its own connection, while the
// original goes on sharing its one.
func TestH2ConnectionsPerDialer(t *testing.T) {
	s := newH2Server(t, true, 0)
	d := s.dialer()
	a := dialT(t, s.url+"/", d)
	cp := *d // after first use
	b := dialT(t, s.url+"/", &cp)
	if got := s.conns.Load(); got != 2 {
		t.Fatalf("a Dialer and its copy used %d connections, want 2", got)
	}
	other := s.dialer()
	c := dialT(t, s.url+"/", other)
	a2 := dialT(t, s.url+"/", d)
	b2 := dialT(t, s.url+"/", &cp)
	if got := s.conns.Load(); got != 3 {
		t.Fatalf("three Dialers used %d connections, want 3", got)
	}
	for _, cn := range []*Conn{a, b, c, a2, b2} {
		cn.CloseNow()
	}
	s.waitAllClosed(t)
}

func TestH2StreamLimitOpensAnotherConnection(t *testing.T) {
	s := newH2Server(t, true, 3)
	d := s.dialer()
	for range 7 {
		dialT(t, s.url+"/", d)
	}
	if got := s.conns.Load(); got != 3 {
		t.Fatalf("7 WebSockets with 3 streams per connection used %d connections, want 3", got)
	}
}

func TestH2StreamReset(t *testing.T) {
	s := newH2Server(t, true, 0)
	d := s.dialer()
	other := dialT(t, s.url+"/", d)
	c := dialT(t, s.url+"/reset", d)
	_, _, err := c.ReadMessage(testCtx(t))
	if !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("ReadMessage on a reset stream: %v, want ErrConnectionLost", err)
	}
	// The other WebSocket on the connection is unharmed.
	ctx := testCtx(t)
	if err := other.WriteMessage(ctx, TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := other.ReadMessage(ctx); err != nil || string(got) != "still here" {
		t.Fatalf("echo after a neighbour's reset: %q, %v", got, err)
	}
}

func TestH2ServerClosesConnection(t *testing.T) {
	s := newH2Server(t, true, 0)
	d := s.dialer()
	var conns []*Conn
	for range 3 {
		conns = append(conns, dialT(t, s.url+"/", d))
	}
	s.srv.CloseClientConnections()
	for i, c := range conns {
		_, _, err := c.ReadMessage(testCtx(t))
		if !errors.Is(err, ErrConnectionLost) {
			t.Errorf("conn %d: %v, want ErrConnectionLost", i, err)
		}
	}
	// A later dial opens a fresh connection.
	c := dialT(t, s.url+"/", d)
	ctx := testCtx(t)
	if err := c.WriteMessage(ctx, TextMessage, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadMessage(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestH2ContextCancelsRead(t *testing.T) {
	s := newH2Server(t, true, 0)
	c := dialT(t, s.url+"/", s.dialer())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.ReadMessage(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadMessage: %v, want the context's error", err)
	}
}

func TestH2OnlyRefusesHTTP1Server(t *testing.T) {
	srv := newEcho(t, wstest.WithTLS())
	d := &Dialer{HTTP2: HTTP2Only, InsecureSkipVerifyDangerously: true}
	d.Logger = slog.New(slog.DiscardHandler)
	_, err := dialE(t, srv.URL, d)
	if !errors.Is(err, errHTTP2Unsupported) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("HTTP2Only against an HTTP/1.1 server: %v, want errors.ErrUnsupported (errHTTP2Unsupported)", err)
	}
	// HTTP2Auto falls back to HTTP/1.1, and remembers it.
	d.HTTP2 = HTTP2Auto
	for range 2 {
		c := dialT(t, srv.URL, d)
		if c.Info().HTTP2 {
			t.Fatalf("HTTP2Auto fallback used %s", proto(c))
		}
		c.CloseNow()
	}
}

func TestH2AutoUsesHTTP2(t *testing.T) {
	s := newH2Server(t, true, 0)
	d := s.dialer()
	d.HTTP2 = HTTP2Auto
	c := dialT(t, s.url+"/", d)
	if !c.Info().HTTP2 {
		t.Fatalf("HTTP2Auto against an RFC 8441 server used %s", proto(c))
	}
}

func TestH2Client(t *testing.T) {
	s := newH2Server(t, true, 0)
	got := make(chan string, 1)
	h := &h2EchoHandler{got: got}
	cl, err := Start(testCtx(t), s.url+"/", h, &Options{Dialer: s.dialer()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Send(testCtx(t), TextFrame("via Client")); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, got); m != "via Client" {
		t.Fatalf("got %q", m)
	}
	if err := cl.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// h2EchoHandler reports the text messages a Client receives.
type h2EchoHandler struct {
	BaseHandler
	got chan string
}

func (h *h2EchoHandler) HandleFrame(_ *Client, f Frame) Action {
	if f.Type == TextMessage {
		h.got <- string(f.Data)
	}
	return Action{}
}
