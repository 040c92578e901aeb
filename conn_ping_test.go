//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"

	"github.com/wsclient/wsclient/wstest"
)

// readPong reads the client's next frame and checks that it is a pong with
// payload.
func readPong(c *wstest.Conn, payload []byte) error {
	c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
	op, p, err := c.ReadMessage()
	if err != nil {
		return fmt.Errorf("waiting for the pong: %w", err)
	}
	if op != wstest.OpPong || !bytes.Equal(p, payload) {
		return fmt.Errorf("got %v %q, want a pong with %q", op, p, payload)
	}
	return nil
}

// A ping is answered with a pong carrying the same payload while the client
// reads: empty, short, and the 125-byte maximum.
func TestConnAutoPong(t *testing.T) {
	payloads := [][]byte{{}, []byte("hello"), pattern(125, 5)}
	srv := newServer(t, func(c *wstest.Conn) error {
		for _, p := range payloads {
			if err := c.WriteFrame(true, 0, wstest.OpPing, p); err != nil {
				return err
			}
			if err := readPong(c, p); err != nil {
				return err
			}
		}
		if err := c.WriteMessage(wstest.OpText, []byte("done")); err != nil {
			return err
		}
		return c.Close(CloseNormalClosure, "")
	})
	conn := dialT(t, srv.URL, nil)
	msgs, err := readUntilErr(t, conn)
	if len(msgs) != 1 || string(msgs[0]) != "done" {
		t.Fatalf("messages %q", msgs)
	}
	var ce *CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("ended with %v", err)
	}
}

// Pings between the fragments of a message are answered at once, before the
// message is complete, and do not disturb the message.
func TestConnPongBetweenFragments(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.WriteFrame(false, 0, wstest.OpText, []byte("frag1 ")); err != nil {
			return err
		}
		for i := range 3 {
			p := []byte(fmt.Sprintf("mid-%d", i))
			if err := c.WriteFrame(true, 0, wstest.OpPing, p); err != nil {
				return err
			}
			// The rest of the message is only sent once the pong is in.
			if err := readPong(c, p); err != nil {
				return err
			}
			if err := c.WriteFrame(false, 0, wstest.OpContinuation, []byte(fmt.Sprintf("frag%d ", i+2))); err != nil {
				return err
			}
		}
		if err := c.WriteFrame(true, 0, wstest.OpContinuation, []byte("end")); err != nil {
			return err
		}
		return c.Close(CloseNormalClosure, "")
	})
	conn := dialT(t, srv.URL, nil)
	typ, got, err := conn.ReadMessage(testCtx(t))
	if err != nil || typ != TextMessage || string(got) != "frag1 frag2 frag3 frag4 end" {
		t.Fatalf("got %v %q, %v", typ, got, err)
	}
}

// The same through the streaming reader: a ping that arrives while the
// application reads the message with NextReader is answered too.
func TestConnPongWhileStreamingRead(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.WriteFrame(false, 0, wstest.OpBinary, pattern(5000, 1)); err != nil {
			return err
		}
		if err := c.WriteFrame(true, 0, wstest.OpPing, []byte("p")); err != nil {
			return err
		}
		if err := readPong(c, []byte("p")); err != nil {
			return err
		}
		return c.WriteFrame(true, 0, wstest.OpContinuation, pattern(10, 2))
	})
	conn := dialT(t, srv.URL, nil)
	typ, r, err := conn.NextReader(testCtx(t))
	if err != nil || typ != BinaryMessage {
		t.Fatalf("NextReader: %v %v", typ, err)
	}
	var got bytes.Buffer
	if _, err := got.ReadFrom(r); err != nil {
		t.Fatalf("reading the message: %v", err)
	}
	if want := append(pattern(5000, 1), pattern(10, 2)...); !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("message of %d bytes differs", got.Len())
	}
}

// SetControlHandler sees every ping, pong and close frame, in order, with
// its payload, on the reading goroutine; pings are still answered.
func TestConnControlHandler(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.WriteFrame(true, 0, wstest.OpPing, []byte("ping-1")); err != nil {
			return err
		}
		if err := readPong(c, []byte("ping-1")); err != nil {
			return err
		}
		if err := c.WriteFrame(true, 0, wstest.OpPong, []byte("pong-1")); err != nil {
			return err
		}
		if err := c.WriteMessage(wstest.OpText, []byte("msg")); err != nil {
			return err
		}
		if err := c.WriteFrame(false, 0, wstest.OpText, []byte("a")); err != nil {
			return err
		}
		if err := c.WriteFrame(true, 0, wstest.OpPong, nil); err != nil {
			return err
		}
		if err := c.WriteFrame(true, 0, wstest.OpContinuation, []byte("b")); err != nil {
			return err
		}
		if err := c.Close(4001, "bye"); err != nil {
			return err
		}
		c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
		code, _, err := c.ExpectClose()
		if err != nil || code != 4001 {
			return fmt.Errorf("close reply %d, %v; want 4001", code, err)
		}
		return nil
	})
	conn := dialT(t, srv.URL, nil)
	type ctl struct {
		typ MessageType
		p   string
	}
	var (
		mu  sync.Mutex
		got []ctl
	)
	conn.SetControlHandler(func(typ MessageType, p []byte) {
		mu.Lock()
		got = append(got, ctl{typ, string(p)})
		mu.Unlock()
	})
	msgs, err := readUntilErr(t, conn)
	if len(msgs) != 2 || string(msgs[0]) != "msg" || string(msgs[1]) != "ab" {
		t.Fatalf("messages %q", msgs)
	}
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye" {
		t.Fatalf("ended with %v, want CloseError 4001 bye", err)
	}
	want := []ctl{{PingMessage, "ping-1"}, {PongMessage, "pong-1"}, {PongMessage, ""}, {CloseMessage, "\x0f\xa1bye"}}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("control handler saw %v, want %v", got, want)
	}
}

// SetControlHandler(nil) removes the handler; pings are still answered.
func TestConnControlHandlerRemoved(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.WriteFrame(true, 0, wstest.OpPing, []byte("x")); err != nil {
			return err
		}
		if err := readPong(c, []byte("x")); err != nil {
			return err
		}
		return c.WriteMessage(wstest.OpBinary, []byte("m"))
	})
	conn := dialT(t, srv.URL, nil)
	called := false
	conn.SetControlHandler(func(MessageType, []byte) { called = true })
	conn.SetControlHandler(nil)
	if _, _, err := conn.ReadMessage(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if called {
		t.Fatal("removed control handler was called")
	}
}

// Ping and Pong send control frames the server sees with their payloads; a
// payload over 125 bytes is refused without sending anything.
func TestConnPingPongSend(t *testing.T) {
	got := make(chan []wstest.Frame, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		var frames []wstest.Frame
		c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
		for range 4 {
			f, err := c.ReadFrame()
			if err != nil {
				return err
			}
			frames = append(frames, f)
		}
		got <- frames
		return c.WriteFrame(true, 0, wstest.OpPong, []byte("answer"))
	})
	conn := dialT(t, srv.URL, nil)
	ctx := testCtx(t)
	if _, err := conn.Ping(ctx, pattern(126, 0)); !errors.Is(err, ErrBadFrame) {
		t.Fatalf("Ping of 126 bytes: %v, want ErrControlTooLong", err)
	}
	if err := conn.writeControl(ctx, frame.OpPong, pattern(1000, 0)); !errors.Is(err, ErrBadFrame) {
		t.Fatalf("Pong of 1000 bytes: %v, want ErrControlTooLong", err)
	}
	for _, step := range []struct {
		f func() error
	}{
		{func() error { return conn.writeControl(ctx, frame.OpPing, []byte("are you there")) }},
		{func() error { return conn.writeControl(ctx, frame.OpPing, pattern(125, 7)) }},
		{func() error { return conn.writeControl(ctx, frame.OpPong, []byte("unsolicited")) }},
		{func() error { return conn.writeControl(ctx, frame.OpPing, nil) }},
	} {
		if err := step.f(); err != nil {
			t.Fatal(err)
		}
	}
	frames := recv(t, got)
	want := []struct {
		op wstest.Opcode
		p  []byte
	}{{wstest.OpPing, []byte("are you there")}, {wstest.OpPing, pattern(125, 7)}, {wstest.OpPong, []byte("unsolicited")}, {wstest.OpPing, []byte{}}}
	for i, f := range frames {
		if !f.Fin || f.Opcode != want[i].op || !bytes.Equal(f.Payload, want[i].p) {
			t.Fatalf("frame %d: %v fin=%v %q, want %v %q", i, f.Opcode, f.Fin, f.Payload, want[i].op, want[i].p)
		}
	}
	pong := make(chan string, 1)
	conn.SetControlHandler(func(typ MessageType, p []byte) {
		if typ == PongMessage {
			pong <- string(p)
		}
	})
	if _, _, err := conn.ReadMessage(ctx); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("ReadMessage: %v, want ErrConnectionLost after the script ends", err)
	}
	if p := recv(t, pong); p != "answer" {
		t.Fatalf("pong %q", p)
	}
}

// A server that floods pings and never reads fills the socket until the
// automatic pong cannot be written. The read must still end with its
// context, or within the close timeout when it has none, instead of staying
// blocked in the pong's write.
func TestConnPongWriteBounded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     time.Duration // 0: context.Background
		close   time.Duration // Dialer.CloseTimeout
		wantErr error
	}{
		{"context", 500 * time.Millisecond, 0, context.DeadlineExceeded},
		{"close timeout", 0, 500 * time.Millisecond, ErrConnectionLost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ping := wstest.Frame{Fin: true, Opcode: wstest.OpPing, Payload: bytes.Repeat([]byte("p"), 125)}.Bytes()
			batch := bytes.Repeat(ping, 500)
			srv := newServer(t, func(c *wstest.Conn) error {
				if tc, ok := c.NetConn().(*net.TCPConn); ok {
					tc.SetReadBuffer(4096)
				}
				// Never read; stop when the client hangs up.
				for range 2000 {
					if err := c.WriteRaw(batch); err != nil {
						return nil
					}
				}
				return errors.New("the client kept reading 128 MB of pings")
			})
			conn := dialT(t, srv.URL, &Dialer{CloseTimeout: tc.close})
			if tc, ok := conn.nc.(*net.TCPConn); ok {
				tc.SetWriteBuffer(4096)
			}
			ctx := context.Background()
			if tc.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctx)
				defer cancel()
			}
			bound := tc.ctx + tc.close
			done := make(chan error, 1)
			start := time.Now()
			go func() {
				_, _, err := conn.ReadMessage(ctx)
				done <- err
			}()
			select {
			case err := <-done:
				if took := time.Since(start); took > bound+3*time.Second {
					t.Errorf("read took %v, bound %v", took, bound)
				}
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("read ended with %v, want %v", err, tc.wantErr)
				}
			case <-time.After(bound + 5*time.Second):
				conn.CloseNow()
				<-done
				t.Fatalf("read still blocked %v after a bound of %v", time.Since(start), bound)
			}
		})
	}
}

// Ping with nobody reading cannot see its pong: when its context ends it
// says why, in a wsclient error that wraps the context's; with a reader it
// returns the round trip.
func TestConnPingNeedsAReader(t *testing.T) {
	conn := dialT(t, newEcho(t).URL, nil)
	ctx, cancel := context.WithTimeout(testCtx(t), 200*time.Millisecond)
	defer cancel()
	_, err := conn.Ping(ctx, []byte("anyone?"))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "wsclient: ") ||
		!strings.Contains(err.Error(), "no goroutine was reading") {
		t.Fatalf("Ping without a reader = %v", err)
	}
	read := make(chan error, 1)
	go func() {
		_, _, err := conn.ReadMessage(testCtx(t))
		read <- err
	}()
	if rtt, err := conn.Ping(testCtx(t), nil); err != nil || rtt <= 0 {
		t.Fatalf("Ping with a reader = %v, %v", rtt, err)
	}
	conn.CloseNow()
	<-read
}
