package h2

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/test/h2xconnect"
	"github.com/wsclient/wsclient/internal/test/peertest"
)

// Tests of the stream itself, through Go's own HTTP/2 server (with
// extended CONNECT, see package h2xconnect). The WebSocket on top is the
// root package's (h2_test.go there).

func TestMain(m *testing.M) { peertest.VerifyTestMain(m) }

// streamServer echoes each stream's request body, or (path /noread)
// accepts and never reads, or (path /reset) resets the stream. Each
// stream's end is sent on ends: io.EOF when the client sent END_STREAM.
type streamServer struct {
	srv  *httptest.Server
	ends chan error
}

func newStreamServer(t *testing.T) *streamServer {
	t.Helper()
	if !h2xconnect.Enabled() {
		t.Skip("Go's HTTP/2 server needs GODEBUG=http2xconnect=1 and the test binary could not be restarted with it")
	}
	s := &streamServer{ends: make(chan error, 100)}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.EnableHTTP2 = true
	s.srv.Config.ErrorLog = nil
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

func (s *streamServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" {
		http.Error(w, "want an extended CONNECT", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	switch r.URL.Path {
	case "/noread":
		<-r.Context().Done()
		return
	case "/reset":
		panic(http.ErrAbortHandler)
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
			rc.Flush()
		}
		if err != nil {
			s.ends <- err
			return
		}
	}
}

// open dials a connection of p and opens a stream on path.
func (s *streamServer) open(t *testing.T, p *Pool, path string) *Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := s.srv.Listener.Addr().String()
	c, err := p.Acquire(ctx, Key{Scheme: "https", Addr: addr}, func(ctx context.Context) (*Conn, error) {
		var d tls.Dialer
		d.Config = &tls.Config{RootCAs: s.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, NextProtos: []string{"h2"}, ServerName: "example.com"}
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return NewConn(ctx, nc, 64<<10)
	})
	if err != nil {
		t.Fatal(err)
	}
	req := &http.Request{
		Method:        http.MethodConnect,
		URL:           &url.URL{Scheme: "https", Host: addr, Path: path},
		Host:          addr,
		Header:        http.Header{":protocol": {"websocket"}},
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		ContentLength: -1,
	}
	st, resp, err := c.OpenStream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func echo(t *testing.T, st *Stream, msg string) {
	t.Helper()
	if _, err := st.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(st, got); err != nil || string(got) != msg {
		t.Fatalf("echo: %q, %v", got, err)
	}
}

func TestStreamEchoAndEndStream(t *testing.T) {
	s := newStreamServer(t)
	p := NewPool()
	a, b := s.open(t, p, "/"), s.open(t, p, "/")
	echo(t, a, "one")
	echo(t, b, "two")
	big := string(make([]byte, 1<<20))
	go a.Write([]byte(big))
	got := make([]byte, len(big))
	if _, err := io.ReadFull(a, got); err != nil || string(got) != big {
		t.Fatalf("1 MiB echo: %v", err)
	}
	// CloseWrite is END_STREAM: the server's body ends with io.EOF, and
	// the other stream is unharmed.
	a.CloseWrite()
	if err := <-s.ends; err != io.EOF {
		t.Fatalf("server's request body ended with %v, want io.EOF", err)
	}
	if _, err := a.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after CloseWrite: %v", err)
	}
	echo(t, b, "still here")
}

func TestStreamDeadlinesKeepTheStream(t *testing.T) {
	s := newStreamServer(t)
	p := NewPool()
	st := s.open(t, p, "/")
	// A read deadline interrupts a blocked Read...
	st.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var b [16]byte
	if _, err := st.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v", err)
	}
	// ...and one in the past fails at once; the stream survives both.
	st.SetReadDeadline(time.Unix(1, 0))
	if _, err := st.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read with a past deadline: %v", err)
	}
	st.SetReadDeadline(time.Time{})
	echo(t, st, "after deadlines")

	// A write deadline interrupts a Write blocked by flow control.
	st2 := s.open(t, p, "/noread")
	st2.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	big := make([]byte, 64<<20)
	n, err := st2.Write(big)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n == len(big) {
		t.Fatalf("Write of 64 MiB to a server that does not read: %d, %v", n, err)
	}
	// The stream is still open: a new deadline applies afresh.
	st2.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := st2.Write(big); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second Write: %v", err)
	}
	// Close interrupts nothing else: the first stream still echoes.
	st2.Close()
	echo(t, st, "after a neighbour's close")
}

func TestStreamReset(t *testing.T) {
	s := newStreamServer(t)
	p := NewPool()
	st := s.open(t, p, "/reset")
	var b [16]byte
	_, err := st.Read(b[:])
	if err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("Read on a reset stream: %v, want an error other than io.EOF", err)
	}
	if _, err := st.Read(b[:]); err == nil {
		t.Fatal("second Read on a reset stream: no error")
	}
}

// The last stream's Close closes the connection; a new stream then opens
// a new one.
func TestPoolClosesIdleConnection(t *testing.T) {
	s := newStreamServer(t)
	p := NewPool()
	a := s.open(t, p, "/")
	b := s.open(t, p, "/")
	p.mu.Lock()
	n := len(p.conns)
	p.mu.Unlock()
	if n != 1 {
		t.Fatalf("two streams on %d keys", n)
	}
	a.Close()
	b.Close()
	p.mu.Lock()
	n = len(p.conns)
	p.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d connections left after the last Close", n)
	}
	echo(t, s.open(t, p, "/"), "again")
}
