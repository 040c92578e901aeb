package wstest

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

// testClient is a minimal hand-written WebSocket client for the tests.
type testClient struct {
	t    testing.TB
	nc   net.Conn
	br   *bufio.Reader
	key  string
	resp *http.Response
}

// dialRaw connects and sends a handshake request built from hdr (nil: a
// valid default request); it reads the response but does not check it.
func dialRaw(t testing.TB, url string, hdr http.Header, tlsCfg *tls.Config) *testClient {
	t.Helper()
	addr := strings.TrimPrefix(strings.TrimPrefix(url, "ws://"), "wss://")
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	if tlsCfg != nil {
		tc := tls.Client(nc, tlsCfg)
		if err := tc.Handshake(); err != nil {
			nc.Close()
			t.Fatalf("TLS handshake: %v", err)
		}
		nc = tc
	}
	t.Cleanup(func() { nc.Close() })
	k := make([]byte, 16)
	_, _ = rand.Read(k)
	key := base64.StdEncoding.EncodeToString(k)
	req := "GET /chat?x=1 HTTP/1.1\r\nHost: " + addr + "\r\n"
	if hdr == nil {
		hdr = http.Header{}
		hdr.Set("Upgrade", "websocket")
		hdr.Set("Connection", "Upgrade")
		hdr.Set("Sec-WebSocket-Version", "13")
		hdr.Set("Sec-WebSocket-Key", key)
	}
	var b strings.Builder
	_ = hdr.Write(&b)
	if _, err := io.WriteString(nc, req+b.String()+"\r\n"); err != nil {
		t.Fatal(err)
	}
	c := &testClient{t: t, nc: nc, br: bufio.NewReader(nc), key: hdr.Get("Sec-WebSocket-Key")}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("reading handshake response: %v", err)
	}
	c.resp = resp
	return c
}

func validHeader(extra ...string) http.Header {
	k := make([]byte, 16)
	_, _ = rand.Read(k)
	h := http.Header{}
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "keep-alive, Upgrade")
	h.Set("Sec-WebSocket-Version", "13")
	h.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(k))
	for i := 0; i+1 < len(extra); i += 2 {
		h.Add(extra[i], extra[i+1])
	}
	return h
}

// dial opens a WebSocket connection and fails the test unless it got 101.
func dial(t testing.TB, url string, extra ...string) *testClient {
	t.Helper()
	c := dialRaw(t, url, validHeader(extra...), nil)
	if c.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", c.resp.StatusCode)
	}
	return c
}

func (c *testClient) write(fin bool, rsv byte, op Opcode, p []byte) {
	c.t.Helper()
	var key [4]byte
	_, _ = rand.Read(key[:])
	if _, err := c.nc.Write(Frame{Fin: fin, RSV: rsv, Opcode: op, Masked: true, Mask: key, Payload: p}.Bytes()); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read reads one frame from the server; it fails the test if the server's
// frame is masked.
func (c *testClient) read() (Frame, error) {
	b, err := c.br.Peek(2)
	if err != nil {
		return Frame{}, err
	}
	b, err = c.br.Peek(frame.HeaderLen(b[0], b[1]))
	if err != nil {
		return Frame{}, err
	}
	h, n, err := frame.Parse(b)
	if err != nil {
		return Frame{}, err
	}
	if h.Masked {
		return Frame{}, fmt.Errorf("server frame is masked")
	}
	_, _ = c.br.Discard(n)
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		return Frame{}, err
	}
	return Frame{Fin: h.Fin, RSV: h.RSV, Opcode: Opcode(h.Opcode), Payload: p}, nil
}

func (c *testClient) mustRead() Frame {
	c.t.Helper()
	f, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

// expectEOF checks that the server closes the TCP connection.
func (c *testClient) expectEOF() {
	c.t.Helper()
	b, err := c.br.ReadByte()
	if err == nil {
		c.t.Fatalf("read byte %#x, want EOF", b)
	}
	if err != io.EOF {
		c.t.Fatalf("read: %v, want EOF", err)
	}
}

// deflateMsg compresses p as a permessage-deflate payload with a fresh
// context.
func deflateMsg(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	_, _ = w.Write(p)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

func inflateMsg(t testing.TB, p []byte) []byte {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(deflateTail)))
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

// waitDone waits for a server connection's goroutine to end.
func waitDone(t testing.TB, c *Conn) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("server connection did not finish")
	}
}

// oneConn returns the only accepted connection.
func oneConn(t testing.TB, s *Server) *Conn {
	t.Helper()
	cs := s.Conns()
	if len(cs) != 1 {
		t.Fatalf("%d connections, want 1", len(cs))
	}
	return cs[0]
}

// recv receives from ch within a bounded time.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the server script")
	}
	panic("unreachable")
}
