package wstest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAcceptKeyRFCExample(t *testing.T) {
	// RFC 6455 section 1.3.
	if got, want := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Fatalf("AcceptKey = %q, want %q", got, want)
	}
}

func TestHandshake(t *testing.T) {
	s := NewEchoServer(WithT(t), WithResponseHeader(http.Header{"X-Test": {"1"}}))
	if !strings.HasPrefix(s.URL, "ws://127.0.0.1:") || s.URL != "ws://"+s.Addr() {
		t.Fatalf("URL %q, Addr %q", s.URL, s.Addr())
	}
	c := dial(t, s.URL, "Origin", "http://example.test")
	r := c.resp
	if got := r.Header.Get("Sec-WebSocket-Accept"); got != AcceptKey(c.key) || headerKey(t, s) != c.key {
		t.Fatalf("accept %q", got)
	}
	if r.Header.Get("Upgrade") != "websocket" || r.Header.Get("Connection") != "Upgrade" || r.Header.Get("X-Test") != "1" {
		t.Fatalf("response header %v", r.Header)
	}
	if r.Header.Get("Sec-WebSocket-Protocol") != "" || r.Header.Get("Sec-WebSocket-Extensions") != "" {
		t.Fatalf("unexpected negotiation: %v", r.Header)
	}
	sc := oneConn(t, s)
	req := sc.Request()
	if req.URL.Path != "/chat" || req.URL.RawQuery != "x=1" || req.Header.Get("Origin") != "http://example.test" {
		t.Fatalf("recorded request %v %v", req.URL, req.Header)
	}
}

// headerKey returns the key the single client sent, as the server saw it.
func headerKey(t *testing.T, s *Server) string {
	return oneConn(t, s).Request().Header.Get("Sec-WebSocket-Key")
}

func TestHandshakeAcceptMatchesKey(t *testing.T) {
	s := NewEchoServer(WithT(t))
	h := validHeader()
	h.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	c := dialRaw(t, s.URL, h, nil)
	if got := c.resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("accept %q", got)
	}
}

func TestInvalidRequests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(http.Header)
		status int
	}{
		{"no version", func(h http.Header) { h.Del("Sec-WebSocket-Version") }, 426},
		{"version 8", func(h http.Header) { h.Set("Sec-WebSocket-Version", "8") }, 426},
		{"short key", func(h http.Header) { h.Set("Sec-WebSocket-Key", "AAAA") }, 400},
		{"no upgrade", func(h http.Header) { h.Del("Upgrade") }, 400},
		{"connection close", func(h http.Header) { h.Set("Connection", "close") }, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewEchoServer()
			defer s.Close()
			h := validHeader()
			tc.edit(h)
			c := dialRaw(t, s.URL, h, nil)
			if c.resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", c.resp.StatusCode, tc.status)
			}
			if tc.status == 426 && c.resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Fatalf("426 without Sec-WebSocket-Version: 13: %v", c.resp.Header)
			}
			waitDone(t, oneConn(t, s))
			if err := s.Err(); err == nil || !strings.Contains(err.Error(), "invalid handshake request") {
				t.Fatalf("Err() = %v", err)
			}
		})
	}
}

func TestRefusal(t *testing.T) {
	ran := make(chan struct{}, 1)
	s := NewServer(func(*Conn) error { ran <- struct{}{}; return nil }, WithT(t),
		WithStatus(http.StatusForbidden, "go away\n"),
		WithResponseHeader(http.Header{"X-Reason": {"banned"}}))
	c := dialRaw(t, s.URL, validHeader(), nil)
	if c.resp.StatusCode != 403 || c.resp.Header.Get("X-Reason") != "banned" {
		t.Fatalf("response %d %v", c.resp.StatusCode, c.resp.Header)
	}
	body, err := io.ReadAll(c.resp.Body)
	if err != nil || string(body) != "go away\n" {
		t.Fatalf("body %q, %v", body, err)
	}
	waitDone(t, oneConn(t, s))
	select {
	case <-ran:
		t.Fatal("script ran after a refusal")
	default:
	}
}

func TestSubprotocols(t *testing.T) {
	s := NewEchoServer(WithT(t), WithSubprotocols("b", "c"))
	c := dial(t, s.URL, "Sec-WebSocket-Protocol", "a, c", "Sec-WebSocket-Protocol", "b")
	if got := c.resp.Header.Get("Sec-WebSocket-Protocol"); got != "c" {
		t.Fatalf("subprotocol %q, want c (client's order)", got)
	}
	if oneConn(t, s).Subprotocol() != "c" {
		t.Fatal("Conn.Subprotocol")
	}
	c2 := dial(t, s.URL, "Sec-WebSocket-Protocol", "x")
	if got := c2.resp.Header.Values("Sec-WebSocket-Protocol"); len(got) != 0 {
		t.Fatalf("subprotocol %q, want none", got)
	}

	var offered []string
	s2 := NewEchoServer(WithT(t), WithSubprotocolFunc(func(o []string) string { offered = o; return "not-offered" }))
	c3 := dial(t, s2.URL, "Sec-WebSocket-Protocol", "p1,p2")
	if got := c3.resp.Header.Get("Sec-WebSocket-Protocol"); got != "not-offered" {
		t.Fatalf("subprotocol %q", got)
	}
	if fmt.Sprint(offered) != "[p1 p2]" {
		t.Fatalf("offered %q", offered)
	}
}

func TestBadAnswers(t *testing.T) {
	s := NewEchoServer(WithT(t), WithAccept("bad="), WithExtensions("x-unknown; a=1"),
		WithResponseHeader(http.Header{"upgrade": {"h2c"}, "Connection": nil}))
	c := dial(t, s.URL)
	h := c.resp.Header
	if h.Get("Sec-WebSocket-Accept") != "bad=" || h.Get("Sec-WebSocket-Extensions") != "x-unknown; a=1" ||
		h.Get("Upgrade") != "h2c" || len(h.Values("Connection")) != 0 {
		t.Fatalf("header %v", h)
	}
}

func TestRawResponseAndBytesAfter(t *testing.T) {
	first := Frame{Fin: true, Opcode: OpText, Payload: []byte("first")}.Bytes()
	s := NewEchoServer(WithT(t), WithBytesAfterResponse(first),
		WithRawResponse(func(r *http.Request) []byte {
			return []byte("HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: upgrade\r\nsec-websocket-accept: " +
				AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
		}))
	c := dial(t, s.URL)
	if c.resp.Status != "101 OK" || c.resp.Header.Get("Sec-Websocket-Accept") == "" {
		t.Fatalf("response %q %v", c.resp.Status, c.resp.Header)
	}
	if f := c.mustRead(); string(f.Payload) != "first" || f.Opcode != OpText {
		t.Fatalf("first frame %+v", f)
	}
	// The script (echo) runs after a raw response.
	c.write(true, 0, OpBinary, []byte{1, 2, 3})
	if f := c.mustRead(); !bytes.Equal(f.Payload, []byte{1, 2, 3}) {
		t.Fatalf("echo %+v", f)
	}
}

func TestAfterBytesInSameWrite(t *testing.T) {
	first := Frame{Fin: true, Opcode: OpText, Payload: []byte("hi")}.Bytes()
	s := NewServer(nil, WithT(t), WithBytesAfterResponse(first))
	c := dialRaw(t, s.URL, validHeader(), nil)
	// The response and the frame were one write, so the frame is already
	// buffered with the response header.
	if c.br.Buffered() != len(first) {
		t.Fatalf("%d bytes buffered after the response, want %d", c.br.Buffered(), len(first))
	}
}

func TestRawResponseScriptWritesHandshake(t *testing.T) {
	s := NewServer(func(c *Conn) error {
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			AcceptKey(c.Request().Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
		return c.WriteChunked([]byte(resp), []int{7}, time.Millisecond)
	}, WithT(t), WithRawResponse(func(*http.Request) []byte { return nil }))
	c := dial(t, s.URL)
	if c.resp.Header.Get("Sec-WebSocket-Accept") != AcceptKey(headerKey(t, s)) {
		t.Fatalf("accept %q", c.resp.Header.Get("Sec-WebSocket-Accept"))
	}
}

func TestHandshakeDelay(t *testing.T) {
	s := NewEchoServer(WithT(t), WithHandshakeDelay(150*time.Millisecond))
	start := time.Now()
	dial(t, s.URL)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("handshake took %v", d)
	}
}

func TestEcho(t *testing.T) {
	s := NewEchoServer(WithT(t))
	c := dial(t, s.URL)
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
		p := bytes.Repeat([]byte("abcdefg"), n/7+1)[:n]
		c.write(true, 0, OpText, p)
		f := c.mustRead()
		if !f.Fin || f.Opcode != OpText || f.RSV != 0 || !bytes.Equal(f.Payload, p) {
			t.Fatalf("echo of %d bytes: fin=%v op=%v rsv=%#x len=%d", n, f.Fin, f.Opcode, f.RSV, len(f.Payload))
		}
	}
	// Binary, fragmented, with a ping between the fragments.
	c.write(false, 0, OpBinary, []byte{0, 1})
	c.write(false, 0, OpContinuation, []byte{2})
	c.write(true, 0, OpPing, []byte("ping!"))
	c.write(true, 0, OpContinuation, []byte{3, 0xff})
	if f := c.mustRead(); f.Opcode != OpPong || string(f.Payload) != "ping!" {
		t.Fatalf("got %v %q, want pong", f.Opcode, f.Payload)
	}
	if f := c.mustRead(); f.Opcode != OpBinary || !f.Fin || !bytes.Equal(f.Payload, []byte{0, 1, 2, 3, 0xff}) {
		t.Fatalf("got %v %v, want reassembled binary", f.Opcode, f.Payload)
	}
	c.write(true, 0, OpPong, nil) // ignored
	c.write(true, 0, OpClose, []byte{0x0f, 0xa0, 'b', 'y', 'e'})
	if f := c.mustRead(); f.Opcode != OpClose || !bytes.Equal(f.Payload, []byte{0x0f, 0xa0, 'b', 'y', 'e'}) {
		t.Fatalf("got %v %q, want close 4000 bye", f.Opcode, f.Payload)
	}
	c.expectEOF()
	sc := oneConn(t, s)
	waitDone(t, sc)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if n := len(sc.Frames()); n != 7+4+2 {
		t.Fatalf("%d frames recorded, want 13", n)
	}
}

func TestEchoReportsViolations(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(c *testClient)
		code uint16
	}{
		{"unmasked", func(c *testClient) {
			_, _ = c.nc.Write(Frame{Fin: true, Opcode: OpText, Payload: []byte("x")}.Bytes())
		}, 1002},
		{"rsv1 without deflate", func(c *testClient) { c.write(true, RSV1, OpText, []byte("x")) }, 1002},
		{"reserved opcode", func(c *testClient) { c.write(true, 0, 3, nil) }, 1002},
		{"lone continuation", func(c *testClient) { c.write(true, 0, OpContinuation, []byte("x")) }, 1002},
		{"invalid utf8", func(c *testClient) { c.write(true, 0, OpText, []byte{0xff}) }, 1007},
		{"invalid close code", func(c *testClient) { c.write(true, 0, OpClose, []byte{0x03, 0xed}) }, 1002},
		{"too big", func(c *testClient) { c.write(true, 0, OpBinary, make([]byte, 2000)) }, 1009},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewEchoServer(WithReadLimit(1000))
			defer s.Close()
			c := dial(t, s.URL)
			tc.send(c)
			f := c.mustRead()
			if f.Opcode != OpClose || len(f.Payload) < 2 || binary.BigEndian.Uint16(f.Payload) != tc.code {
				t.Fatalf("got %v %x, want close %d", f.Opcode, f.Payload, tc.code)
			}
			waitDone(t, oneConn(t, s))
			if s.Err() == nil {
				t.Fatal("violation not reported")
			}
		})
	}
}

func TestClientDisconnectIsNotAnError(t *testing.T) {
	s := NewEchoServer(WithT(t))
	c := dial(t, s.URL)
	c.write(false, 0, OpText, []byte("half"))
	c.nc.Close()
	waitDone(t, oneConn(t, s))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRawVerbatim(t *testing.T) {
	// A masked frame with a reserved opcode, a non-minimal length and garbage.
	raw := []byte{0x83, 0xfe, 0x00, 0x01, 1, 2, 3, 4, 'x', 0xde, 0xad}
	s := NewServer(func(c *Conn) error { return c.WriteRaw(raw) }, WithT(t))
	c := dial(t, s.URL)
	got, err := io.ReadAll(c.br)
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("got %x (%v), want %x", got, err, raw)
	}
}

func TestWriteFrameLengths(t *testing.T) {
	sizes := []int{0, 125, 126, 65535, 65536}
	s := NewServer(func(c *Conn) error {
		for _, n := range sizes {
			if err := c.WriteFrame(n != 0, RSV2, OpBinary, make([]byte, n)); err != nil {
				return err
			}
		}
		return nil
	}, WithT(t))
	c := dial(t, s.URL)
	wantHdr := [][]byte{{0x22, 0}, {0xa2, 125}, {0xa2, 126, 0, 126}, {0xa2, 126, 0xff, 0xff}, {0xa2, 127, 0, 0, 0, 0, 0, 1, 0, 0}}
	for i, n := range sizes {
		hdr := make([]byte, len(wantHdr[i]))
		if _, err := io.ReadFull(c.br, hdr); err != nil || !bytes.Equal(hdr, wantHdr[i]) {
			t.Fatalf("frame %d header %x (%v), want %x", i, hdr, err, wantHdr[i])
		}
		if _, err := c.br.Discard(n); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteChunked(t *testing.T) {
	data := append(Frame{Fin: true, Opcode: OpText, Payload: []byte("hello, chunks")}.Bytes(),
		Frame{Fin: true, Opcode: OpBinary, Payload: bytes.Repeat([]byte{7}, 300)}.Bytes()...)
	s := NewServer(func(c *Conn) error {
		if _, _, err := c.ReadMessage(); err != nil { // the client is ready
			return err
		}
		return c.WriteChunked(data, []int{1, 2, 5, 64}, 30*time.Millisecond)
	}, WithT(t))
	c := dial(t, s.URL)
	c.write(true, 0, OpText, []byte("go"))
	// The first piece is one byte and the next comes 30 ms later: separate
	// TCP writes arrive separately. (One Read of the bufio.Reader is one
	// Read of the connection.)
	buf := make([]byte, 100)
	n, err := c.br.Read(buf)
	if err != nil || n != 1 || buf[0] != data[0] {
		t.Fatalf("first read %d bytes %x (%v), want the single first byte", n, buf[:n], err)
	}
	c.br = bufio.NewReader(io.MultiReader(bytes.NewReader(buf[:n]), c.nc))
	if f := c.mustRead(); string(f.Payload) != "hello, chunks" {
		t.Fatalf("frame 1 %+v", f)
	}
	if f := c.mustRead(); f.Opcode != OpBinary || len(f.Payload) != 300 {
		t.Fatalf("frame 2 %v %d", f.Opcode, len(f.Payload))
	}
}

func TestWriteChunkedBadSize(t *testing.T) {
	errc := make(chan error, 1)
	s := NewServer(func(c *Conn) error { errc <- c.WriteChunked([]byte("x"), []int{0}, 0); return nil }, WithT(t))
	dial(t, s.URL)
	if err := recv(t, errc); err == nil {
		t.Fatal("chunk size 0 accepted")
	}
}

func TestRecordedFramesShowMask(t *testing.T) {
	type result struct {
		msgs []string
		err  error
	}
	res := make(chan result, 1)
	s := NewServer(func(c *Conn) error {
		var r result
		for range 2 {
			op, p, err := c.ReadMessage()
			if err != nil {
				r.err = err
				break
			}
			r.msgs = append(r.msgs, fmt.Sprintf("%v:%s", op, p))
		}
		res <- r
		return nil
	}, WithT(t))
	c := dial(t, s.URL)
	key := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	_, _ = c.nc.Write(Frame{Opcode: OpText, Masked: true, Mask: key, Payload: []byte("frag")}.Bytes())
	c.write(true, 0, OpPing, []byte("p"))
	c.write(false, 0, OpContinuation, []byte("ment"))
	c.write(true, 0, OpContinuation, []byte("ed"))
	r := recv(t, res)
	if r.err != nil || fmt.Sprint(r.msgs) != "[ping:p text:fragmented]" {
		t.Fatalf("messages %q, %v", r.msgs, r.err)
	}
	fs := oneConn(t, s).Frames()
	if len(fs) != 4 {
		t.Fatalf("%d frames recorded", len(fs))
	}
	if f := fs[0]; !f.Masked || f.Mask != key || f.Fin || f.Opcode != OpText || string(f.Payload) != "frag" {
		t.Fatalf("frame 0 %+v", f)
	}
	for i, f := range fs {
		if !f.Masked {
			t.Fatalf("frame %d not masked", i)
		}
	}
	if fs[1].Opcode != OpPing || fs[2].Fin || !fs[3].Fin || len(fs[3].Payload) != 2 {
		t.Fatalf("frames %+v", fs)
	}
}

func TestReadMessageRejectsUnmasked(t *testing.T) {
	errc := make(chan error, 1)
	s := NewServer(func(c *Conn) error { _, _, err := c.ReadMessage(); errc <- err; return nil }, WithT(t))
	c := dial(t, s.URL)
	_, _ = c.nc.Write(Frame{Fin: true, Opcode: OpText, Payload: []byte("x")}.Bytes())
	if err := recv(t, errc); err == nil || !strings.Contains(err.Error(), "not masked") {
		t.Fatalf("ReadMessage error %v", err)
	}
}

func TestReadFrameNonMinimalLength(t *testing.T) {
	errc := make(chan error, 1)
	s := NewServer(func(c *Conn) error {
		f, err := c.ReadFrame()
		if string(f.Payload) != "abc" {
			err = fmt.Errorf("payload %q, err %v", f.Payload, err)
		}
		errc <- err
		return nil
	}, WithT(t))
	c := dial(t, s.URL)
	_, _ = c.nc.Write([]byte{0x81, 0xfe, 0, 3, 0, 0, 0, 0, 'a', 'b', 'c'})
	if err := recv(t, errc); err == nil || !strings.Contains(err.Error(), "minimal") {
		t.Fatalf("ReadFrame error %v", err)
	}
}

func TestCloseAndExpectClose(t *testing.T) {
	type res struct {
		code   int
		reason string
		err    error
	}
	got := make(chan res, 1)
	s := NewServer(func(c *Conn) error {
		if err := c.Close(4001, "bye"); err != nil {
			return err
		}
		code, reason, err := c.ExpectClose()
		got <- res{code, reason, err}
		return nil
	}, WithT(t))
	c := dial(t, s.URL)
	if f := c.mustRead(); f.Opcode != OpClose || !bytes.Equal(f.Payload, []byte{0x0f, 0xa1, 'b', 'y', 'e'}) {
		t.Fatalf("got %v %x", f.Opcode, f.Payload)
	}
	c.write(true, 0, OpText, []byte("late data is discarded"))
	c.write(true, 0, OpClose, []byte{0x03, 0xe8, 'o', 'k'})
	r := recv(t, got)
	if r.code != 1000 || r.reason != "ok" || r.err != nil {
		t.Fatalf("ExpectClose = %d %q %v", r.code, r.reason, r.err)
	}
	c.expectEOF()

	// An empty close payload is code 1005.
	s2 := NewServer(func(c *Conn) error {
		code, _, err := c.ExpectClose()
		got <- res{code: code, err: err}
		return nil
	}, WithT(t))
	dial(t, s2.URL).write(true, 0, OpClose, nil)
	if r := recv(t, got); r.code != 1005 || r.err != nil {
		t.Fatalf("ExpectClose = %d %v", r.code, r.err)
	}
}

func TestDrop(t *testing.T) {
	s := NewServer(func(c *Conn) error {
		if err := c.WriteFrame(false, 0, OpText, []byte("part")); err != nil {
			return err
		}
		return c.Drop()
	}, WithT(t))
	c := dial(t, s.URL)
	if f := c.mustRead(); f.Fin {
		t.Fatal("fin")
	}
	if _, err := c.read(); err != io.EOF {
		t.Fatalf("read after drop: %v, want EOF", err)
	}
}

// fakeTB records what a Server reports.
type fakeTB struct {
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }

func TestScriptErrorsReported(t *testing.T) {
	tb := &fakeTB{}
	boom := errors.New("boom")
	s := NewServer(func(c *Conn) error {
		if c.Request().URL.Path == "/chat" && len(c.Frames()) == 0 {
			if len(c.srv.Conns()) == 1 {
				return boom
			}
			panic("kaboom")
		}
		return nil
	}, WithT(tb))
	if len(tb.cleanups) != 1 {
		t.Fatal("WithT did not register Close")
	}
	for range 2 {
		c := dial(t, s.URL)
		c.expectEOF() // the script returned, so the server closed TCP
	}
	tb.cleanups[0]() // Close: waits for both scripts
	err := s.Err()
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "kaboom") {
		t.Fatalf("Err() = %v", err)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.errs) != 2 || !strings.Contains(tb.errs[0]+tb.errs[1], "boom") {
		t.Fatalf("reported %q", tb.errs)
	}
}

func TestCloseUnblocksScripts(t *testing.T) {
	started := make(chan struct{})
	s := NewServer(func(c *Conn) error {
		close(started)
		_, err := c.ReadFrame() // blocks until Close
		return err
	})
	c := dial(t, s.URL)
	recv(t, started)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := s.Err(); err != nil {
		t.Fatalf("errors caused by Close were reported: %v", err)
	}
	c.expectEOF()
	if len(s.Conns()) != 1 {
		t.Fatalf("%d conns", len(s.Conns()))
	}
	s.Close() // idempotent
	if _, err := net.Dial("tcp", s.Addr()); err == nil {
		t.Fatal("listener still open")
	}
}

func TestConnCount(t *testing.T) {
	s := NewEchoServer(WithT(t))
	for i := range 3 {
		c := dial(t, s.URL)
		c.write(true, 0, OpText, []byte("x"))
		c.mustRead()
		if n := len(s.Conns()); n != i+1 {
			t.Fatalf("%d conns, want %d", n, i+1)
		}
	}
}

func TestRecordLimit(t *testing.T) {
	s := NewEchoServer(WithT(t), WithRecordLimit(2))
	c := dial(t, s.URL)
	for range 5 {
		c.write(true, 0, OpText, []byte("x"))
		c.mustRead()
	}
	if n := len(oneConn(t, s).Frames()); n != 2 {
		t.Fatalf("%d frames recorded, want 2", n)
	}
}

func TestTLS(t *testing.T) {
	s := NewEchoServer(WithT(t), WithTLS())
	if !strings.HasPrefix(s.URL, "wss://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL)
	}
	if s.CertPool() == nil || s.ClientTLSConfig() == nil {
		t.Fatal("no pool")
	}
	for _, name := range []string{"", "localhost"} {
		cfg := s.ClientTLSConfig()
		cfg.ServerName = name // "" verifies the IP SAN 127.0.0.1
		if name == "" {
			cfg.ServerName = "127.0.0.1"
		}
		c := dialRaw(t, s.URL, validHeader(), cfg)
		if c.resp.StatusCode != 101 {
			t.Fatalf("status %d", c.resp.StatusCode)
		}
		c.write(true, 0, OpText, []byte("secure"))
		if f := c.mustRead(); string(f.Payload) != "secure" {
			t.Fatalf("echo %q", f.Payload)
		}
		st := c.nc.(*tls.Conn).ConnectionState()
		if len(st.VerifiedChains) == 0 {
			t.Fatal("chain not verified")
		}
	}
	// A client without the pool refuses the certificate.
	nc, err := tls.Dial("tcp", s.Addr(), &tls.Config{ServerName: "127.0.0.1"})
	if err == nil {
		nc.Close()
		t.Fatal("untrusted certificate accepted")
	}
	// Other names are refused.
	cfg := s.ClientTLSConfig()
	cfg.ServerName = "example.com"
	if nc, err := tls.Dial("tcp", s.Addr(), cfg); err == nil {
		nc.Close()
		t.Fatal("certificate accepted for example.com")
	}
	if NewEchoServer(WithT(t)).CertPool() != nil {
		t.Fatal("pool without TLS")
	}
}

func TestIPv6Listener(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	s := NewEchoServer(WithT(t), WithListenAddr("[::1]:0"), WithTLS())
	if !strings.HasPrefix(s.URL, "wss://[::1]:") {
		t.Fatalf("URL %q", s.URL)
	}
	cfg := s.ClientTLSConfig()
	cfg.ServerName = "::1"
	c := dialRaw(t, s.URL, validHeader(), cfg)
	if c.resp.StatusCode != 101 {
		t.Fatalf("status %d", c.resp.StatusCode)
	}
}
