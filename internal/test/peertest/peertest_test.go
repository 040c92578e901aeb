package peertest

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests check the harness with raw sockets only: they must not depend
// on the wsclient package.

const ioTimeout = 10 * time.Second

// rawWS is a minimal hand-written WebSocket client for checking peers.
type rawWS struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	resp *http.Response
}

// dialRaw connects to addr (through conn if given) and does a handshake for
// target with the extra header lines.
func dialRaw(t *testing.T, conn net.Conn, host, target string, extra ...string) *rawWS {
	t.Helper()
	if err := conn.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		t.Fatal(err)
	}
	keyBytes := make([]byte, 16)
	if _, err := rand.Read(keyBytes); err != nil {
		t.Fatal(err)
	}
	key := base64.StdEncoding.EncodeToString(keyBytes)
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", target, host)
	fmt.Fprintf(&b, "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n", key)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatalf("write handshake: %v", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %q, want 101", resp.Status)
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(h[:]); got != want {
		t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	return &rawWS{t: t, conn: conn, br: br, resp: resp}
}

func dialPeer(t *testing.T, p *Peer, target string, extra ...string) *rawWS {
	t.Helper()
	conn, err := net.DialTimeout("tcp", p.Addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return dialRaw(t, conn, p.Addr, target, extra...)
}

func (w *rawWS) write(opcode byte, payload []byte) {
	w.t.Helper()
	hdr := []byte{0x80 | opcode}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n < 1<<16:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	if _, err := rand.Read(mask[:]); err != nil {
		w.t.Fatal(err)
	}
	hdr = append(hdr, mask[:]...)
	masked := make([]byte, len(payload))
	for i, c := range payload {
		masked[i] = c ^ mask[i%4]
	}
	if _, err := w.conn.Write(append(hdr, masked...)); err != nil {
		w.t.Fatalf("write frame: %v", err)
	}
}

type rawFrame struct {
	fin     bool
	rsv1    bool
	opcode  byte
	payload []byte
}

func (w *rawWS) read() rawFrame {
	w.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(w.br, h[:]); err != nil {
		w.t.Fatalf("read frame header: %v", err)
	}
	f := rawFrame{fin: h[0]&0x80 != 0, rsv1: h[0]&0x40 != 0, opcode: h[0] & 0x0f}
	if h[1]&0x80 != 0 {
		w.t.Fatal("server frame is masked")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(w.br, b[:]); err != nil {
			w.t.Fatal(err)
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(w.br, b[:]); err != nil {
			w.t.Fatal(err)
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 16<<20 {
		w.t.Fatalf("frame of %d bytes", n)
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(w.br, f.payload); err != nil {
		w.t.Fatalf("read frame payload: %v", err)
	}
	return f
}

// readMessage reads one unfragmented data message, inflating it when RSV1
// is set.
func (w *rawWS) readMessage() (opcode byte, data []byte, compressed bool) {
	w.t.Helper()
	f := w.read()
	if !f.fin {
		w.t.Fatalf("fragmented message from server (opcode %d)", f.opcode)
	}
	if f.rsv1 {
		r := flate.NewReader(io.MultiReader(bytes.NewReader(f.payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff})))
		out, err := io.ReadAll(r)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			w.t.Fatalf("inflate: %v", err)
		}
		return f.opcode, out, true
	}
	return f.opcode, f.payload, false
}

func closePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

func parseClose(t *testing.T, f rawFrame) (int, string) {
	t.Helper()
	if f.opcode != 8 {
		t.Fatalf("got opcode %d, want close", f.opcode)
	}
	if len(f.payload) == 0 {
		return 1005, ""
	}
	if len(f.payload) < 2 {
		t.Fatalf("close payload %x", f.payload)
	}
	return int(binary.BigEndian.Uint16(f.payload)), string(f.payload[2:])
}

// checkEcho sends text and binary messages and checks the echoes.
func checkEcho(t *testing.T, w *rawWS, wantCompressed bool) {
	t.Helper()
	text := []byte(strings.Repeat("héllo wörld ", 200))
	w.write(1, text)
	op, got, compressed := w.readMessage()
	if op != 1 || !bytes.Equal(got, text) {
		t.Fatalf("text echo: opcode %d, %d bytes, want opcode 1, %d bytes", op, len(got), len(text))
	}
	if compressed != wantCompressed {
		t.Errorf("echo compressed = %v, want %v", compressed, wantCompressed)
	}
	bin := make([]byte, 70000)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	w.write(2, bin)
	op, got, _ = w.readMessage()
	if op != 2 || !bytes.Equal(got, bin) {
		t.Fatalf("binary echo: opcode %d, %d bytes, want opcode 2, %d bytes", op, len(got), len(bin))
	}
	w.write(1, nil)
	if op, got, _ = w.readMessage(); op != 1 || len(got) != 0 {
		t.Fatalf("empty echo: opcode %d, %q", op, got)
	}
}

// checkClientClose closes with 4000 "bye" and expects the same code back
// and a close event on the server.
func checkClientClose(t *testing.T, p *Peer, w *rawWS) {
	t.Helper()
	w.write(8, closePayload(4000, "bye"))
	if code, reason := parseClose(t, w.read()); code != 4000 || reason != "bye" {
		t.Fatalf("server answered close with %d %q, want 4000 \"bye\"", code, reason)
	}
	// The server closes TCP first (RFC 6455 7.1.1); then so does the client.
	if n, err := io.Copy(io.Discard, w.br); err != nil || n != 0 {
		t.Fatalf("after the close handshake: %d more bytes, %v; want EOF", n, err)
	}
	w.conn.Close()
	ev, ok := p.WaitEvent(ioTimeout, func(e Event) bool { return e.Kind == "close" && e.Reason == "bye" })
	if !ok || ev.Code != 4000 {
		t.Fatalf("close event %+v (found %v), want code 4000; events %+v", ev, ok, p.Events())
	}
}

func checkBehaviours(t *testing.T, p *Peer) {
	t.Run("close", func(t *testing.T) {
		w := dialPeer(t, p, "/close?code=4001&reason=bye")
		if code, reason := parseClose(t, w.read()); code != 4001 || reason != "bye" {
			t.Fatalf("got close %d %q, want 4001 \"bye\"", code, reason)
		}
	})
	t.Run("close-after", func(t *testing.T) {
		w := dialPeer(t, p, "/close?code=4002&reason=later&after=1")
		w.write(2, []byte{1, 2, 3})
		if op, got, _ := w.readMessage(); op != 2 || !bytes.Equal(got, []byte{1, 2, 3}) {
			t.Fatalf("echo before close: %d %x", op, got)
		}
		if code, reason := parseClose(t, w.read()); code != 4002 || reason != "later" {
			t.Fatalf("got close %d %q, want 4002 \"later\"", code, reason)
		}
	})
	t.Run("ping", func(t *testing.T) {
		w := dialPeer(t, p, "/ping?payload=xyz")
		f := w.read()
		if f.opcode != 9 || string(f.payload) != "xyz" {
			t.Fatalf("got opcode %d %q, want ping \"xyz\"", f.opcode, f.payload)
		}
		w.write(10, f.payload)
		if op, got, _ := w.readMessage(); op != 1 || string(got) != "pong:xyz" {
			t.Fatalf("got %d %q, want text \"pong:xyz\"", op, got)
		}
		if _, ok := p.WaitEvent(ioTimeout, func(e Event) bool { return e.Kind == "pong" && e.Data == "xyz" }); !ok {
			t.Fatalf("no pong event; events %+v", p.Events())
		}
	})
	t.Run("headers", func(t *testing.T) {
		w := dialPeer(t, p, "/headers", "X-Peertest: one", "X-Peertest: two")
		op, got, _ := w.readMessage()
		var h map[string]string
		if err := json.Unmarshal(got, &h); op != 1 || err != nil {
			t.Fatalf("got %d %q: %v", op, got, err)
		}
		if h["x-peertest"] != "one, two" || h["upgrade"] != "websocket" {
			t.Fatalf("headers %v", h)
		}
	})
	t.Run("request", func(t *testing.T) {
		w := dialPeer(t, p, "/request?a=1&b=%20")
		op, got, _ := w.readMessage()
		var r struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(got, &r); op != 1 || err != nil || r.URL != "/request?a=1&b=%20" {
			t.Fatalf("got %d %q (%v), want url /request?a=1&b=%%20", op, got, err)
		}
		checkEcho(t, w, false)
	})
}

func TestNodeWSPlain(t *testing.T) {
	t.Parallel()
	p := NodeWS(t, NodeOptions{Protocols: []string{"chat", "superchat"}})
	if p.Version == "" || !strings.HasPrefix(p.URL, "ws://127.0.0.1:") {
		t.Fatalf("peer %+v", p)
	}
	w := dialPeer(t, p, "/", "Sec-WebSocket-Protocol: other, superchat, chat",
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	if got := w.resp.Header.Get("Sec-WebSocket-Protocol"); got != "superchat" {
		t.Errorf("subprotocol %q, want superchat (first offered that is accepted)", got)
	}
	if got := w.resp.Header.Get("Sec-WebSocket-Extensions"); got != "" {
		t.Errorf("extensions %q with deflate off", got)
	}
	checkEcho(t, w, false)
	checkClientClose(t, p, w)
	if ev, ok := p.WaitEvent(ioTimeout, func(e Event) bool { return e.Kind == "connect" }); !ok || ev.Protocol != "superchat" || ev.URL != "/" {
		t.Errorf("connect event %+v", ev)
	}
	if _, ok := p.WaitEvent(ioTimeout, func(e Event) bool { return e.Kind == "message" && e.Binary && e.Size == 70000 }); !ok {
		t.Errorf("no binary message event; events %+v", p.Events())
	}

	w = dialPeer(t, p, "/", "Sec-WebSocket-Protocol: other")
	if got, ok := w.resp.Header["Sec-Websocket-Protocol"]; ok {
		t.Errorf("subprotocol %q chosen, want none", got)
	}
	checkBehaviours(t, p)

	t.Run("close-invalid-code", func(t *testing.T) {
		w := dialPeer(t, p, "/close?code=1005&reason=x")
		if n, err := io.Copy(io.Discard, w.br); err != nil || n != 0 {
			t.Fatalf("got %d bytes, %v; want the connection dropped without a frame", n, err)
		}
		if _, ok := p.WaitEvent(ioTimeout, func(e Event) bool { return e.Kind == "error" && strings.Contains(e.URL, "code=1005") }); !ok {
			t.Fatalf("no error event; events %+v", p.Events())
		}
	})
}

func TestNodeWSDeflate(t *testing.T) {
	t.Parallel()
	p := NodeWS(t, NodeOptions{Deflate: &DeflateOptions{
		ServerNoContextTakeover: true,
		ClientNoContextTakeover: true,
		ServerMaxWindowBits:     10,
	}})
	w := dialPeer(t, p, "/", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	ext := w.resp.Header.Get("Sec-WebSocket-Extensions")
	for _, want := range []string{"permessage-deflate", "server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits=10"} {
		if !strings.Contains(ext, want) {
			t.Errorf("extensions %q lack %q", ext, want)
		}
	}
	checkEcho(t, w, true)
	checkClientClose(t, p, w)

	// ClientMaxWindowBits: ws refuses offers without client_max_window_bits.
	// Threshold: ws applies it only with server_no_context_takeover.
	p2 := NodeWS(t, NodeOptions{Deflate: &DeflateOptions{ClientMaxWindowBits: 9, ServerNoContextTakeover: true, Threshold: 1 << 20}})
	w = dialPeer(t, p2, "/", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	if ext := w.resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "client_max_window_bits=9") {
		t.Errorf("extensions %q lack client_max_window_bits=9", ext)
	}
	checkEcho(t, w, false) // below the threshold: sent uncompressed
	if status := rawStatus(t, p2, "Sec-WebSocket-Extensions: permessage-deflate"); status != 400 {
		t.Errorf("offer without client_max_window_bits: status %d, want 400", status)
	}
}

// rawStatus sends a handshake request and returns the response status.
func rawStatus(t *testing.T, p *Peer, extra ...string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", p.Addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	req := "GET / HTTP/1.1\r\nHost: " + p.Addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + strings.Join(append(extra, ""), "\r\n") + "\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodGet})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp.StatusCode
}

func TestNodeWSMaxPayload(t *testing.T) {
	t.Parallel()
	p := NodeWS(t, NodeOptions{MaxPayload: 100})
	w := dialPeer(t, p, "/")
	w.write(2, make([]byte, 101))
	if code, _ := parseClose(t, w.read()); code != 1009 {
		t.Fatalf("close code %d, want 1009", code)
	}
}

func TestPythonWS(t *testing.T) {
	t.Parallel()
	p := PythonWS(t, PythonOptions{Protocols: []string{"chat"}})
	if p.Version == "" {
		t.Fatalf("no websockets version: %+v", p)
	}
	t.Logf("websockets %s", p.Version)
	w := dialPeer(t, p, "/", "Sec-WebSocket-Protocol: chat",
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	if got := w.resp.Header.Get("Sec-WebSocket-Protocol"); got != "chat" {
		t.Errorf("subprotocol %q, want chat", got)
	}
	if ext := w.resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		t.Errorf("extensions %q, want permessage-deflate (on by default)", ext)
	}
	checkEcho(t, w, true)
	checkClientClose(t, p, w)
	checkBehaviours(t, p)

	t.Run("no-compression", func(t *testing.T) {
		p := PythonWS(t, PythonOptions{NoCompression: true, MaxSize: 100})
		w := dialPeer(t, p, "/", "Sec-WebSocket-Extensions: permessage-deflate")
		if ext := w.resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
			t.Errorf("extensions %q with compression off", ext)
		}
		w.write(2, make([]byte, 101))
		if code, _ := parseClose(t, w.read()); code != 1009 {
			t.Fatalf("close code %d, want 1009", code)
		}
	})
}

// echoListener accepts connections on 127.0.0.1 and echoes bytes back.
func echoListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(ioTimeout))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return l.Addr().String()
}

func checkEchoThrough(t *testing.T, c net.Conn, r io.Reader) {
	t.Helper()
	msg := []byte("through the proxy")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo through proxy: %q, %v", got, err)
	}
}

func httpConnect(t *testing.T, proxy *Peer, target, auth string) (int, net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxy.Addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	req := fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target, target)
	if auth != "" {
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(auth)) + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("CONNECT response: %v", err)
	}
	return resp.StatusCode, c, br
}

func TestTinyproxy(t *testing.T) {
	t.Parallel()
	target := echoListener(t)
	p := Tinyproxy(t, ProxyOptions{})
	if code, c, br := httpConnect(t, p, target, ""); code != 200 {
		t.Fatalf("CONNECT status %d, want 200", code)
	} else {
		checkEchoThrough(t, c, br)
	}

	t.Run("auth", func(t *testing.T) {
		p := Tinyproxy(t, ProxyOptions{User: "alice", Password: "s3cret"})
		u, err := url.Parse(p.URL)
		if err != nil || u.Scheme != "http" || u.User.String() != "alice:s3cret" {
			t.Fatalf("URL %q", p.URL)
		}
		if code, _, _ := httpConnect(t, p, target, ""); code != 407 {
			t.Fatalf("CONNECT without credentials: status %d, want 407", code)
		}
		if code, _, _ := httpConnect(t, p, target, "alice:wrong"); code != 407 && code != 401 {
			t.Fatalf("CONNECT with a wrong password: status %d, want 407", code)
		}
		code, c, br := httpConnect(t, p, target, "alice:s3cret")
		if code != 200 {
			t.Fatalf("CONNECT with credentials: status %d, want 200", code)
		}
		checkEchoThrough(t, c, br)
	})
}

// socksConnect does a SOCKS5 greeting and CONNECT to target; it returns the
// reply code (0 = succeeded) or -1 when the method was refused.
func socksConnect(t *testing.T, proxy *Peer, target, user, pass string) (int, net.Conn) {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxy.Addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	method := byte(0)
	if user != "" {
		method = 2
	}
	if _, err := c.Write([]byte{5, 1, method}); err != nil {
		t.Fatal(err)
	}
	var reply [2]byte
	if _, err := io.ReadFull(c, reply[:]); err != nil {
		t.Fatalf("greeting reply: %v", err)
	}
	if reply[0] != 5 || reply[1] == 0xff {
		return -1, c
	}
	if reply[1] != method {
		t.Fatalf("server chose method %d, want %d", reply[1], method)
	}
	if method == 2 {
		msg := append([]byte{1, byte(len(user))}, user...)
		msg = append(append(msg, byte(len(pass))), pass...)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, reply[:]); err != nil {
			return -1, c // some servers just close on bad credentials
		}
		if reply[1] != 0 {
			return -1, c
		}
	}
	host, portStr, _ := net.SplitHostPort(target)
	ip := net.ParseIP(host).To4()
	var port int
	fmt.Sscan(portStr, &port)
	req := append([]byte{5, 1, 0, 1}, ip...)
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	var resp [10]byte
	if _, err := io.ReadFull(c, resp[:]); err != nil {
		t.Fatalf("CONNECT reply: %v", err)
	}
	return int(resp[1]), c
}

func TestMicrosocks(t *testing.T) {
	t.Parallel()
	target := echoListener(t)
	p := Microsocks(t, ProxyOptions{})
	if !strings.HasPrefix(p.URL, "socks5://127.0.0.1:") {
		t.Fatalf("URL %q", p.URL)
	}
	code, c := socksConnect(t, p, target, "", "")
	if code != 0 {
		t.Fatalf("SOCKS5 CONNECT reply %d, want 0", code)
	}
	checkEchoThrough(t, c, c)

	t.Run("auth", func(t *testing.T) {
		p := Microsocks(t, ProxyOptions{User: "bob", Password: "pw"})
		if code, _ := socksConnect(t, p, target, "", ""); code != -1 {
			t.Fatalf("no-auth method accepted (reply %d) by a proxy with a password", code)
		}
		if code, _ := socksConnect(t, p, target, "bob", "wrong"); code != -1 {
			t.Fatalf("wrong password accepted (reply %d)", code)
		}
		code, c := socksConnect(t, p, target, "bob", "pw")
		if code != 0 {
			t.Fatalf("SOCKS5 CONNECT with credentials: reply %d, want 0", code)
		}
		checkEchoThrough(t, c, c)
	})
}

func TestTLSProxy(t *testing.T) {
	t.Parallel()
	backend := NodeWS(t, NodeOptions{Deflate: &DeflateOptions{}})
	p := TLSProxy(t, backend.URL)
	if !strings.HasPrefix(p.URL, "wss://127.0.0.1:") {
		t.Fatalf("URL %q", p.URL)
	}
	for _, serverName := range []string{"127.0.0.1", "localhost"} {
		t.Run(serverName, func(t *testing.T) {
			cfg := p.TLSConfig()
			cfg.ServerName = serverName
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", p.Addr, cfg)
			if err != nil {
				t.Fatalf("TLS dial: %v", err)
			}
			t.Cleanup(func() { conn.Close() })
			w := dialRaw(t, conn, p.Addr, "/request?via=nginx", "Sec-WebSocket-Extensions: permessage-deflate")
			if ext := w.resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
				t.Errorf("extensions %q not passed through", ext)
			}
			_, got, _ := w.readMessage()
			var r struct {
				URL     string            `json:"url"`
				Headers map[string]string `json:"headers"`
			}
			if err := json.Unmarshal(got, &r); err != nil || r.URL != "/request?via=nginx" || r.Headers["host"] != p.Addr {
				t.Fatalf("request seen by backend %s (%v)", got, err)
			}
			checkEcho(t, w, true)
			checkClientClose(t, backend, w)
		})
	}

	// Without the pool the certificate must not verify.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", p.Addr, &tls.Config{ServerName: "localhost"})
	if err == nil {
		conn.Close()
		t.Fatal("TLS dial without the pool succeeded")
	}
}

func TestKill(t *testing.T) {
	t.Parallel()
	p := Microsocks(t, ProxyOptions{})
	p.Kill()
	p.Kill() // idempotent
	if c, err := net.DialTimeout("tcp", p.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("peer still accepts connections after Kill")
	}
}

// fakeTB records Skipf and Fatalf instead of stopping the test.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper()                          {}
func (f *fakeTB) Skipf(format string, args ...any) { f.skipped = fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
}

func TestMissing(t *testing.T) {
	saved := skips
	skips = &skipLog{}
	defer func() { skips = saved }()
	thing := absence{"thing not installed", "run: install thing"}

	t.Setenv(RequireEnv, "")
	f := &fakeTB{TB: t}
	missing(f, thing, "thing %s is not installed", "x")
	if !strings.Contains(f.skipped, "thing x is not installed") || f.fatal != "" {
		t.Fatalf("without %s: skipped %q, fatal %q", RequireEnv, f.skipped, f.fatal)
	}
	missing(f, thing, "thing %s is not installed", "x") // the same test again
	want := []string{"pkg: 1 test skipped: thing not installed — run: install thing"}
	if got := skips.summary("pkg"); !slices.Equal(got, want) {
		t.Fatalf("summary after a skip: %q, want %q", got, want)
	}

	t.Setenv(RequireEnv, "1")
	f = &fakeTB{TB: t}
	missing(f, thing, "thing %s is not installed", "y")
	if !strings.Contains(f.fatal, "thing y is not installed") || f.skipped != "" {
		t.Fatalf("with %s=1: skipped %q, fatal %q", RequireEnv, f.skipped, f.fatal)
	}
	if got := skips.summary("pkg"); !slices.Equal(got, want) {
		t.Fatalf("summary after a failure: %q, want %q", got, want)
	}
}

func TestSkipSummaryOrder(t *testing.T) {
	var l skipLog
	if got := l.summary("pkg"); len(got) != 0 {
		t.Fatalf("summary without skips: %q", got)
	}
	l.add(noTinyproxy, "TestA")
	l.add(noNodeWS, "TestA")
	l.add(noNodeWS, "TestB")
	l.add(noNodeWS, "TestB/sub")
	l.add(noMicrosocks, "TestC")
	want := []string{
		"pkg: 3 tests skipped: node ws not installed — run: (cd testdata/peers/node && npm ci)",
		"pkg: 1 test skipped: microsocks not installed — run: sudo apt-get install microsocks",
		"pkg: 1 test skipped: tinyproxy not installed — run: sudo apt-get install tinyproxy",
	}
	if got := l.summary("pkg"); !slices.Equal(got, want) {
		t.Fatalf("summary:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHidden(t *testing.T) {
	t.Setenv(MissingEnv, "tinyproxy, nginx")
	if !hidden("tinyproxy") || !hidden("nginx") || hidden("microsocks") {
		t.Fatalf("%s=%q hides the wrong peers", MissingEnv, os.Getenv(MissingEnv))
	}
	t.Setenv(MissingEnv, "all")
	if !hidden("node-ws") {
		t.Fatalf("%s=all does not hide node-ws", MissingEnv)
	}
	t.Setenv(MissingEnv, "")
	if hidden("tinyproxy") {
		t.Fatalf("empty %s hides tinyproxy", MissingEnv)
	}
}

func TestStartFailureReportsOutput(t *testing.T) {
	p, err := startProcess("sh", t.TempDir(), []string{"sh", "-c", "echo oops >&2; exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.waitPrintedPort(StartTimeout)
	if err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Fatalf("err = %v", err)
	}
	if out := p.output(); !strings.Contains(out, "oops") {
		t.Fatalf("output %q lacks stderr", out)
	}
	p.stop(true)

	p, err = startProcess("sleep", t.TempDir(), []string{"sleep", "60"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.waitPrintedPort(200 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "did not report") {
		t.Fatalf("err = %v", err)
	}
	p.stop(true)
	if !p.hasExited() {
		t.Fatal("sleep still running after stop")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stop took %v", d)
	}
}
