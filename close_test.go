//go:build !js

package wsclient

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsclient/wsclient/internal/test/netfault"
	"github.com/wsclient/wsclient/wstest"
)

// A close from the server is answered with the same code (1000 when the
// server gave none), and the reader gets a *CloseError with the server's
// code and reason; afterwards writes fail with ErrClosed.
func TestConnServerClose(t *testing.T) {
	for _, tc := range []struct {
		name      string
		payload   []byte
		code      int
		reason    string
		replyCode int
	}{
		{"normal with reason", []byte("\x03\xe8bye now"), 1000, "bye now", 1000},
		{"going away", []byte("\x03\xe9"), 1001, "", 1001},
		{"protocol error", []byte("\x03\xeaoops"), 1002, "oops", 1002},
		{"private code", []byte("\x0f\x9f\xc3\xa9t\xc3\xa9"), 3999, "été", 3999},
		{"max private code", []byte("\x13\x87"), 4999, "", 4999},
		{"no status", nil, CloseNoStatusReceived, "", 1000},
		{"max reason", append([]byte("\x03\xe8"), strings.Repeat("r", 123)...), 1000, strings.Repeat("r", 123), 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			closed := make(chan closeResult, 1)
			srv := newServer(t, func(c *wstest.Conn) error {
				if err := c.WriteMessage(wstest.OpText, []byte("before")); err != nil {
					return err
				}
				if err := c.WriteFrame(true, 0, wstest.OpClose, tc.payload); err != nil {
					return err
				}
				expectClose(c, closed)
				return nil
			})
			conn := dialT(t, srv.URL, nil)
			msgs, err := readUntilErr(t, conn)
			if len(msgs) != 1 {
				t.Fatalf("read %d messages before the close", len(msgs))
			}
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != tc.code || ce.Reason != tc.reason {
				t.Fatalf("got %v, want CloseError %d %q", err, tc.code, tc.reason)
			}
			if errors.Is(err, ErrConnectionLost) || errors.Is(err, ErrProtocol) {
				t.Fatalf("close error %v also matches a failure sentinel", err)
			}
			r := recv(t, closed)
			if r.err != nil || r.code != tc.replyCode {
				t.Fatalf("server got close reply %d, %v; want %d", r.code, r.err, tc.replyCode)
			}
			ctx := testCtx(t)
			if _, _, err2 := conn.ReadMessage(ctx); !errors.As(err2, &ce) {
				t.Fatalf("second ReadMessage: %v, want the CloseError again", err2)
			}
			if err := conn.WriteMessage(ctx, TextMessage, []byte("late")); !errors.Is(err, ErrClosed) {
				t.Fatalf("WriteMessage after the close: %v, want ErrClosed", err)
			}
			if _, err := conn.Ping(ctx, nil); !errors.Is(err, ErrClosed) {
				t.Fatalf("Ping after the close: %v, want ErrClosed", err)
			}
		})
	}
}

// Invalid close payloads fail the connection: 1002 for a 1-byte payload or
// a code that may not be sent, and for a reason that is not UTF-8 (a close
// reason is not message data, so 1007 does not apply).
func TestConnBadClosePayload(t *testing.T) {
	cases := []failCase{
		{name: "one byte", write: closeFrame([]byte{0x03})},
		{name: "reason not UTF-8", write: closeFrame([]byte("\x03\xe8bad \xff reason")), code: CloseProtocolError, sentinel: ErrProtocol},
		{name: "reason with a surrogate", write: closeFrame([]byte("\x03\xe8\xed\xa0\x80")), code: CloseProtocolError, sentinel: ErrProtocol},
	}
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases, failCase{name: "code " + strconv.Itoa(code), write: closeFrame([]byte{byte(code >> 8), byte(code)})})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.code == 0 {
				tc.code, tc.sentinel = CloseProtocolError, ErrProtocol
			}
			runFailCase(t, tc)
		})
	}
}

func closeFrame(p []byte) func(*wstest.Conn) error {
	return func(c *wstest.Conn) error { return c.WriteFrame(true, 0, wstest.OpClose, p) }
}

// closeServer answers the client's close frame as a polite server does,
// reporting what it received, and then closes TCP. Before answering it
// sends extra messages, which Close must skip.
func closeServer(t *testing.T, extra int) (*wstest.Server, chan closeResult) {
	closed := make(chan closeResult, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
		code, reason, err := c.ExpectClose()
		closed <- closeResult{code, reason, err}
		if err != nil {
			return nil
		}
		for range extra {
			if err := c.WriteMessage(wstest.OpBinary, pattern(10000, 1)); err != nil {
				return err
			}
		}
		return c.Close(code, reason)
	})
	return srv, closed
}

// Close sends the code and reason, waits for the server's reply and returns
// nil quickly after it, skipping messages that arrive in between.
func TestConnClientClose(t *testing.T) {
	for _, extra := range []int{0, 3} {
		srv, closed := closeServer(t, extra)
		conn := dialT(t, srv.URL, &Dialer{CloseTimeout: 5 * time.Second})
		start := time.Now()
		if err := conn.Close(CloseGoingAway, "client leaving"); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Close took %v after the server's prompt reply", d)
		}
		if r := recv(t, closed); r.err != nil || r.code != CloseGoingAway || r.reason != "client leaving" {
			t.Fatalf("server got %d %q, %v", r.code, r.reason, r.err)
		}
		ctx := testCtx(t)
		if err := conn.WriteMessage(ctx, TextMessage, []byte("late")); !errors.Is(err, ErrClosed) {
			t.Fatalf("WriteMessage after Close: %v, want ErrClosed", err)
		}
		if err := conn.Close(CloseNormalClosure, ""); !errors.Is(err, ErrClosed) {
			t.Fatalf("second Close: %v, want ErrClosed", err)
		}
	}
}

// Close with code 1005 sends an empty close payload; a long reason is cut to
// fit the control frame, on a rune boundary.
func TestConnClosePayloads(t *testing.T) {
	t.Run("no status", func(t *testing.T) {
		srv, closed := closeServer(t, 0)
		conn := dialT(t, srv.URL, nil)
		if err := conn.Close(CloseNoStatusReceived, "ignored"); err != nil {
			t.Fatal(err)
		}
		if r := recv(t, closed); r.err != nil || r.code != CloseNoStatusReceived || r.reason != "" {
			t.Fatalf("server got %d %q, %v", r.code, r.reason, r.err)
		}
	})
	t.Run("long reason", func(t *testing.T) {
		srv, closed := closeServer(t, 0)
		conn := dialT(t, srv.URL, nil)
		reason := strings.Repeat("é", 100) // 200 bytes; 123 would split a rune
		if err := conn.Close(CloseNormalClosure, reason); err != nil {
			t.Fatal(err)
		}
		r := recv(t, closed)
		if r.err != nil || r.code != CloseNormalClosure {
			t.Fatalf("server got %d, %v", r.code, r.err)
		}
		if len(r.reason) > 123 || len(r.reason) < 120 || !utf8.ValidString(r.reason) || !strings.HasPrefix(reason, r.reason) {
			t.Fatalf("reason cut to %d bytes %q", len(r.reason), r.reason)
		}
	})
	t.Run("invalid code", func(t *testing.T) {
		srv := newEcho(t)
		conn := dialT(t, srv.URL, nil)
		for _, code := range []int{0, 999, 1006, 1015, 5000} {
			if err := conn.Close(code, ""); err == nil {
				t.Fatalf("Close(%d) succeeded", code)
			}
		}
		// Nothing was sent: the connection still works.
		ctx := testCtx(t)
		if err := conn.WriteMessage(ctx, TextMessage, []byte("still open")); err != nil {
			t.Fatal(err)
		}
		if _, got, err := conn.ReadMessage(ctx); err != nil || string(got) != "still open" {
			t.Fatalf("%q, %v", got, err)
		}
	})
}

// While another goroutine reads, Close leaves the server's close to that
// reader (which gets the CloseError) and returns nil once it has arrived.
func TestConnCloseWithConcurrentReader(t *testing.T) {
	srv, closed := closeServer(t, 2)
	var rw *netfault.ReadWatch
	conn := dialT(t, srv.URL, &Dialer{NetDialContext: netfault.Dial(func(nc net.Conn) net.Conn {
		rw = &netfault.ReadWatch{Conn: nc}
		return rw
	})})
	reading := rw.Arm()
	readErr := make(chan error, 1)
	msgs := make(chan int, 1)
	go func() {
		n := 0
		for {
			_, _, err := conn.ReadMessage(context.Background())
			if err != nil {
				msgs <- n
				readErr <- err
				return
			}
			n++
		}
	}()
	recv(t, reading) // the reader waits on the socket (the server sends nothing before our close)
	if err := conn.Close(4000, "bye"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	err := recv(t, readErr)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "bye" {
		t.Fatalf("reader got %v, want the server's CloseError 4000 bye", err)
	}
	if n := recv(t, msgs); n != 2 {
		t.Fatalf("reader got %d messages before the close, want 2", n)
	}
	if r := recv(t, closed); r.code != 4000 {
		t.Fatalf("server got %d", r.code)
	}
}

// A server that never answers the close: Close gives up after CloseTimeout,
// returns an error and drops TCP.
func TestConnCloseTimeout(t *testing.T) {
	dropped := make(chan time.Duration, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
		if _, _, err := c.ExpectClose(); err != nil {
			return err
		}
		start := time.Now()
		_, err := c.ReadFrame() // until the client drops TCP
		if !gone(err) {
			return err
		}
		dropped <- time.Since(start)
		return nil
	})
	conn := dialT(t, srv.URL, &Dialer{CloseTimeout: 300 * time.Millisecond})
	start := time.Now()
	err := conn.Close(CloseNormalClosure, "")
	d := time.Since(start)
	if err == nil {
		t.Fatal("Close returned nil without the server's reply")
	}
	if d < 250*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Close returned after %v, want about the 300ms CloseTimeout", d)
	}
	if d := recv(t, dropped); d > 2*time.Second {
		t.Fatalf("TCP dropped %v after the close frame", d)
	}
}

// A server that answers the close but keeps TCP open: Close returns nil and
// the client drops TCP itself after a short wait (at most CloseTimeout).
func TestConnCloseServerKeepsTCP(t *testing.T) {
	dropped := make(chan struct{}, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
		code, reason, err := c.ExpectClose()
		if err != nil {
			return err
		}
		if err := c.Close(code, reason); err != nil {
			return err
		}
		if _, err := c.ReadFrame(); !gone(err) {
			return err
		}
		dropped <- struct{}{}
		return nil
	})
	conn := dialT(t, srv.URL, &Dialer{CloseTimeout: 400 * time.Millisecond})
	start := time.Now()
	if err := conn.Close(CloseNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	recv(t, dropped)
}

// A TCP connection that ends without a close frame is ErrConnectionLost, not
// a CloseError: after whole messages, inside a header, inside a payload.
func TestConnConnectionLost(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail []byte
	}{
		{"between messages", nil},
		{"inside a header", []byte{0x82, 126, 0x01}},
		{"inside a payload", append([]byte{0x82, 10}, "abc"...)},
		{"inside a fragmented message", append([]byte{0x01, 3}, "abc"...)},
		{"inside a close frame", []byte{0x88, 5, 0x03}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(c *wstest.Conn) error {
				if err := c.WriteMessage(wstest.OpText, []byte("one")); err != nil {
					return err
				}
				if len(tc.tail) > 0 {
					if err := c.WriteRaw(tc.tail); err != nil {
						return err
					}
				}
				return c.Drop()
			})
			conn := dialT(t, srv.URL, nil)
			msgs, err := readUntilErr(t, conn)
			if len(msgs) != 1 {
				t.Fatalf("read %d messages", len(msgs))
			}
			if !errors.Is(err, ErrConnectionLost) {
				t.Fatalf("got %v, want ErrConnectionLost", err)
			}
			var ce *CloseError
			var pe *ProtocolError
			if errors.As(err, &ce) || errors.As(err, &pe) {
				t.Fatalf("connection loss %v also reads as a close or protocol error", err)
			}
			// Close on a lost connection does not hang.
			done := make(chan error, 1)
			go func() { done <- conn.Close(CloseNormalClosure, "") }()
			if err := recv(t, done); err == nil {
				t.Fatal("Close on a lost connection returned nil")
			}
		})
	}
}

// Close after a failed write (the server dropped TCP and nobody reads) must
// return, not wait forever for a reader that does not exist.
func TestConnCloseAfterWriteError(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error { return c.Drop() })
	conn := dialT(t, srv.URL, nil)
	recv(t, srv.Conns()[0].Done()) // the server's socket is closed
	ctx := testCtx(t)
	msg := make([]byte, 64<<10)
	var werr error
	for range 1000 {
		if werr = conn.WriteMessage(ctx, BinaryMessage, msg); werr != nil {
			break
		}
		// Not synchronisation: a bounded poll, as nothing tells when the
		// kernel has taken in the peer's reset that makes a write fail.
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(werr, ErrConnectionLost) {
		t.Fatalf("writing to a dropped connection: %v, want ErrConnectionLost", werr)
	}
	done := make(chan error, 1)
	go func() { done <- conn.Close(CloseNormalClosure, "") }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Close after a write error returned nil")
		}
	case <-time.After(3 * time.Second):
		conn.CloseNow() // unblock the goroutine before failing
		<-done
		t.Fatal("Close after a write error did not return within 3s")
	}
}

// The same when the write failed because its context ended.
func TestConnCloseAfterWriteTimeout(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		<-c.Context().Done() // never reads
		return nil
	})
	conn := dialT(t, srv.URL, &Dialer{CloseTimeout: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	msg := make([]byte, 1<<20)
	var werr error
	for range 1000 {
		if werr = conn.WriteMessage(ctx, BinaryMessage, msg); werr != nil {
			break
		}
	}
	if !errors.Is(werr, context.DeadlineExceeded) {
		t.Fatalf("blocked write: %v, want context.DeadlineExceeded", werr)
	}
	done := make(chan error, 1)
	go func() { done <- conn.Close(CloseNormalClosure, "") }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		conn.CloseNow()
		<-done
		t.Fatal("Close after a timed-out write did not return within 3s")
	}
}

// SendClose leaves reading to the caller: messages the server sent before
// it saw the close are still delivered, then the server's close.
func TestConnSendCloseKeepsMessagesInFlight(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		for i := range 3 {
			if err := c.WriteMessage(wstest.OpText, []byte{'0' + byte(i)}); err != nil {
				return err
			}
		}
		code, reason, err := c.ExpectClose()
		if err != nil {
			return err
		}
		return c.Close(code, reason)
	})
	conn := dialT(t, srv.URL, nil)
	if err := conn.sendClose(4001, "done"); err != nil {
		t.Fatal(err)
	}
	if err := conn.sendClose(4001, "again"); !errors.Is(err, ErrClosed) {
		t.Fatalf("second SendClose: %v, want ErrClosed", err)
	}
	for i := range 3 {
		_, p, err := conn.ReadMessage(testCtx(t))
		if err != nil || string(p) != string(rune('0'+i)) {
			t.Fatalf("message %d: %q %v", i, p, err)
		}
	}
	_, _, err := conn.ReadMessage(testCtx(t))
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "done" {
		t.Fatalf("after the messages: %v, want the server's echo of 4001", err)
	}
}

// The channel that tells waiters the close has ended is made only for a
// waiter: a connection dialed and closed with nobody waiting never makes
// one; a waiter that comes before the end sees its channel closed by it,
// and one that comes after gets a closed channel at once.
func TestCloseDoneLazy(t *testing.T) {
	srv := newEcho(t)
	c := dialT(t, srv.URL, nil)
	c.CloseNow()
	if c.closeRecv != nil {
		t.Error("a close channel was made with nobody waiting")
	}
	select {
	case <-c.closeDone():
	default:
		t.Error("closeDone after the end: not closed")
	}

	c = dialT(t, srv.URL, nil)
	ch := c.closeDone()
	select {
	case <-ch:
		t.Fatal("closeDone closed before the end")
	default:
	}
	go c.CloseNow()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("closeDone's channel not closed by the end")
	}
	if got := c.closeDone(); got != ch {
		t.Error("closeDone made a second channel")
	}
}

// closeAfterEcho sends one message and closes at once; the echo the server
// sent before it saw the close must still reach HandleFrame.
type closeAfterEcho struct {
	BaseHandler
	got  chan string
	done chan error
}

func (h *closeAfterEcho) OnConnect(c *Client, _ ConnInfo) Action {
	if err := c.Cast(TextFrame("in flight")); err != nil {
		panic(err)
	}
	if err := c.CloseConn(CloseNormalClosure, "bye"); err != nil { // queued behind the Cast
		panic(err)
	}
	return Action{}
}

func (h *closeAfterEcho) HandleFrame(c *Client, f Frame) Action {
	h.got <- string(f.Data)
	return Action{}
}

func (h *closeAfterEcho) Terminate(c *Client, reason error) { h.done <- reason }

func TestClientCloseKeepsMessagesInFlight(t *testing.T) {
	srv := newEcho(t)
	for i := range 20 {
		h := &closeAfterEcho{got: make(chan string, 1), done: make(chan error, 1)}
		c, err := Start(testCtx(t), srv.URL, h, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := recv(t, h.done); err != nil {
			t.Fatalf("run %d: terminate reason %v", i, err)
		}
		select {
		case m := <-h.got:
			if m != "in flight" {
				t.Fatalf("run %d: got %q", i, m)
			}
		default:
			t.Fatalf("run %d: the echo sent before the server's close was lost", i)
		}
		c.Wait()
	}
}
