//go:build !js

package wsclient

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/wstest"
)

// The helpers of package wsclient's own tests (the external package
// wsclient_test has its own, in helpers_external_test.go). Most run the
// client against the scriptable wstest server over loopback.

// waitLong bounds every wait in these tests; nothing should come close.
const waitLong = 10 * time.Second

// testCtx returns a context that ends with the test or after waitLong.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	t.Cleanup(cancel)
	return ctx
}

// dialT dials url with d (nil: a Dialer that never proxies) and registers
// CloseNow with t.Cleanup. It fails the test if Dial fails.
func dialT(t testing.TB, url string, d *Dialer) *Conn {
	t.Helper()
	c, err := dialE(t, url, d)
	if err != nil {
		t.Fatalf("Dial(%s): %v", url, err)
	}
	return c
}

// dialE is dialT returning the error.
func dialE(t testing.TB, url string, d *Dialer) (*Conn, error) {
	t.Helper()
	if d == nil {
		d = &Dialer{}
	}
	if d.Proxy == nil {
		d.Proxy = NoProxy
	}
	c, err := Dial(testCtx(t), url, d)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, nil
}

// recv waits up to waitLong for a value on ch.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLong):
		t.Fatalf("timed out waiting for %T", *new(T))
		panic("unreachable")
	}
}

// newServer starts a wstest server with script that reports its errors to t
// and is closed at the end of the test.
func newServer(t testing.TB, script func(*wstest.Conn) error, opts ...wstest.Option) *wstest.Server {
	t.Helper()
	return wstest.NewServer(script, append([]wstest.Option{wstest.WithT(t)}, opts...)...)
}

// newEcho starts a wstest echo server for the test.
func newEcho(t testing.TB, opts ...wstest.Option) *wstest.Server {
	t.Helper()
	return wstest.NewEchoServer(append([]wstest.Option{wstest.WithT(t)}, opts...)...)
}

// closeResult is what a server script saw of the client's close frame.
type closeResult struct {
	code   int
	reason string
	err    error
}

// expectClose reads the client's frames until its close frame, with a
// deadline, and reports the result on ch. It does not answer the close.
func expectClose(c *wstest.Conn, ch chan<- closeResult) {
	c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
	code, reason, err := c.ExpectClose()
	ch <- closeResult{code, reason, err}
}

// gone reports whether err only means that the client went away, which a
// script may see once the client has failed the connection.
func gone(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// readUntilErr reads messages until an error and returns it with the
// messages read before it.
func readUntilErr(t testing.TB, c *Conn) ([][]byte, error) {
	t.Helper()
	ctx := testCtx(t)
	var msgs [][]byte
	for range 10000 {
		_, p, err := c.ReadMessage(ctx)
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, p)
	}
	t.Fatal("no error after 10000 messages")
	return nil, nil
}

// checkProtocolError checks that err is a *ProtocolError with code that
// matches sentinel under errors.Is.
func checkProtocolError(t testing.TB, err error, code int, sentinel error) {
	t.Helper()
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *ProtocolError with code %d", err, err, code)
	}
	if pe.Code != code {
		t.Fatalf("ProtocolError.Code = %d, want %d (%v)", pe.Code, code, err)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("errors.Is(%v, %v) = false", err, sentinel)
	}
	for _, other := range []error{ErrProtocol, ErrInvalidUTF8, ErrMessageTooBig, ErrConnectionLost, ErrClosed} {
		if other != sentinel && errors.Is(err, other) {
			t.Fatalf("errors.Is(%v, %v) = true, want only %v", err, other, sentinel)
		}
	}
}

// failCase is a server behaviour that the client must answer by failing the
// connection with a close code.
type failCase struct {
	name     string
	write    func(c *wstest.Conn) error // what the server sends
	code     int                        // close code the server must receive
	sentinel error                      // what errors.Is must match on the client
	msgs     int                        // messages the client reads before the error
}

// runFailCase runs tc: the server script writes, then waits for the client's
// close frame; the client reads until it fails. Both ends are checked.
func runFailCase(t *testing.T, tc failCase, opts ...wstest.Option) {
	t.Helper()
	closed := make(chan closeResult, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := tc.write(c); err != nil && !gone(err) {
			return err
		}
		expectClose(c, closed)
		return nil
	}, opts...)
	conn := dialT(t, srv.URL, nil)
	msgs, err := readUntilErr(t, conn)
	if len(msgs) != tc.msgs {
		t.Errorf("client read %d messages before the error, want %d", len(msgs), tc.msgs)
	}
	checkProtocolError(t, err, tc.code, tc.sentinel)
	// The error is sticky.
	if _, _, err2 := conn.ReadMessage(testCtx(t)); !errors.Is(err2, tc.sentinel) {
		t.Errorf("second ReadMessage: %v, want the same error", err2)
	}
	if err := conn.WriteMessage(testCtx(t), TextMessage, []byte("x")); err == nil {
		t.Errorf("WriteMessage after failing the connection succeeded")
	}
	r := recv(t, closed)
	if r.err != nil {
		t.Fatalf("server did not get a valid close frame: %v", r.err)
	}
	if r.code != tc.code {
		t.Fatalf("server got close code %d, want %d", r.code, tc.code)
	}
}

func newTestFlate(w io.Writer) *flate.Writer {
	fw, _ := flate.NewWriter(w, flate.BestSpeed)
	return fw
}

// deflateBomb returns a permessage-deflate payload (without its 00 00 ff
// ff tail) that inflates to 64 MiB of zeros: a few tens of KiB.
func deflateBomb() []byte {
	var bomb bytes.Buffer
	fw := newTestFlate(&bomb)
	zeros := make([]byte, 1<<20)
	for range 64 {
		fw.Write(zeros)
	}
	fw.Flush()
	return bytes.TrimSuffix(bomb.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// readFramesSlowly reads n frames from r (the server's end of a
// rawConnPair) through a slowReader, so that most of the writer's calls are
// partial, and sends their payloads on the channel it returns: fewer than n
// if a frame cannot be read.
func readFramesSlowly(r io.Reader, n int) <-chan [][]byte {
	got := make(chan [][]byte, 1)
	go func() {
		br := bufio.NewReaderSize(&slowReader{r: r}, 4096)
		var ps [][]byte
		for range n {
			_, p, err := readFrame(br)
			if err != nil {
				break
			}
			ps = append(ps, p)
		}
		got <- ps
	}()
	return got
}

// rawConnPair returns a Conn over loopback TCP (read raw, the socket not
// wrapped) and the server's end of the connection.
func rawConnPair(t testing.TB) (*Conn, net.Conn) {
	t.Helper()
	c, s := tcpPair(t)
	cfg := connConfig{maxMessage: 64 << 20, fragmentSize: 4096, closeTimeout: time.Second, writeBufSize: defaultWriteBuf}
	conn := newConn(c, nil, cfg, defaultBufSize)
	t.Cleanup(func() { conn.CloseNow(); s.Close() })
	return conn, s
}

// readFrame reads and unmasks one client frame.
func readFrame(r *bufio.Reader) (frame.Header, []byte, error) {
	b, err := r.Peek(2)
	if err != nil {
		return frame.Header{}, nil, err
	}
	b, err = r.Peek(frame.HeaderLen(b[0], b[1]))
	if err != nil {
		return frame.Header{}, nil, err
	}
	h, n, err := frame.Parse(b)
	if err != nil {
		return h, nil, err
	}
	if !h.Masked {
		return h, nil, errors.New("unmasked client frame")
	}
	r.Discard(n)
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(r, p); err != nil {
		return h, nil, err
	}
	frame.Mask(h.Mask, 0, p)
	return h, p, nil
}

type slowReader struct {
	r io.Reader
	n int
}

func (s *slowReader) Read(p []byte) (int, error) {
	s.n++
	if s.n%64 == 0 {
		time.Sleep(time.Millisecond) // the peer's pace, not synchronisation: the writer must block often
	}
	return s.r.Read(p[:min(len(p), 16<<10)])
}

// clientDone returns a channel closed when c's current run has ended.
func clientDone(c *Client) <-chan struct{} { return c.curRun().done }

// closeStatus returns the code of the server's close frame err carries (a
// *CloseError), or -1.
func closeStatus(err error) int {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// proto names the HTTP version c's WebSocket runs over.
func proto(c *Conn) string {
	if c.Info().HTTP2 {
		return "HTTP/2"
	}
	return "HTTP/1.1"
}
