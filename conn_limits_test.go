package wsclient

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// A message over MaxMessageSize fails the connection with 1009 and
// ErrMessageTooBig as soon as a frame header shows it: the server waits for
// the client's close before it sends the payload (or the rest of the
// fragments), so a client that read on would never fail.
func TestConnMaxMessageSize(t *testing.T) {
	const limit = 1000
	for _, tc := range []struct {
		name  string
		frags []int // fragment sizes sent before waiting for the close
		fin   bool  // the last listed fragment is final
	}{
		{"single frame just over", []int{limit + 1}, true},
		{"single frame far over", []int{1 << 20}, true},
		{"many fragments", []int{150, 150, 150, 150, 150, 150, 150}, false},
		{"empty fragments then over", []int{0, 0, limit, 0, 1}, false},
		{"binary one frame", []int{5000}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			closed := make(chan closeResult, 1)
			srv := newServer(t, func(c *wstest.Conn) error {
				for i, n := range tc.frags {
					op := wstest.OpContinuation
					if i == 0 {
						op = wstest.OpText
						if strings.HasPrefix(tc.name, "binary") {
							op = wstest.OpBinary
						}
					}
					last := i == len(tc.frags)-1
					raw := wstest.Frame{Fin: last && tc.fin, Opcode: op, Payload: bytes.Repeat([]byte("x"), n)}.Bytes()
					if last {
						// Only the header of the frame that crosses the limit.
						raw = raw[:len(raw)-n]
					}
					if err := c.WriteRaw(raw); err != nil {
						return err
					}
				}
				expectClose(c, closed)
				return nil
			})
			conn := dialT(t, srv.URL, &Dialer{MaxMessageSize: limit})
			_, _, err := conn.ReadMessage(testCtx(t))
			checkProtocolError(t, err, CloseMessageTooBig, ErrMessageTooBig)
			if r := recv(t, closed); r.err != nil || r.code != CloseMessageTooBig {
				t.Fatalf("server got close %d, %v; want 1009", r.code, r.err)
			}
		})
	}
}

// Messages of exactly MaxMessageSize, in one frame or in fragments, pass;
// the limit is per message, not per connection.
func TestConnMaxMessageSizeBoundary(t *testing.T) {
	const limit = 1000
	srv := newServer(t, func(c *wstest.Conn) error {
		for range 3 {
			if err := c.WriteMessage(wstest.OpBinary, pattern(limit, 1)); err != nil {
				return err
			}
		}
		if err := c.WriteFrame(false, 0, wstest.OpBinary, pattern(400, 2)); err != nil {
			return err
		}
		if err := c.WriteFrame(false, 0, wstest.OpContinuation, pattern(400, 3)); err != nil {
			return err
		}
		if err := c.WriteFrame(true, 0, wstest.OpContinuation, pattern(200, 4)); err != nil {
			return err
		}
		return c.Close(CloseNormalClosure, "")
	})
	conn := dialT(t, srv.URL, &Dialer{MaxMessageSize: limit})
	msgs, err := readUntilErr(t, conn)
	var ce *CloseError
	if !errors.As(err, &ce) || len(msgs) != 4 {
		t.Fatalf("%d messages then %v; want 4 messages and the server's close", len(msgs), err)
	}
	for i, m := range msgs {
		if len(m) != limit {
			t.Fatalf("message %d has %d bytes", i, len(m))
		}
	}
}

// The default limit is 32 MiB: a frame header announcing more fails at once,
// before any payload; a negative MaxMessageSize removes the limit.
func TestConnDefaultMaxMessageSize(t *testing.T) {
	runFailCase(t, failCase{
		write: func(c *wstest.Conn) error {
			return c.WriteRaw([]byte{0x82, 127, 0, 0, 0, 0, 0x02, 0, 0, 1}) // 32 MiB + 1
		},
		code: CloseMessageTooBig, sentinel: ErrMessageTooBig,
	})
	t.Run("unlimited", func(t *testing.T) {
		srv := newEcho(t)
		conn := dialT(t, srv.URL, &Dialer{MaxMessageSize: -1})
		ctx := testCtx(t)
		msg := pattern(3<<20, 1)
		if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
		if _, got, err := conn.ReadMessage(ctx); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes, %v", len(got), err)
		}
	})
}

// A handshake response header over MaxResponseHeaderBytes (default 64 KiB)
// is refused with a HandshakeError, and a header under the limit passes.
func TestConnResponseHeaderLimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limit   int
		size    int
		wantErr bool
	}{
		{"custom limit exceeded", 1024, 2000, true},
		{"custom limit kept", 4096, 2000, false},
		{"default limit exceeded", 0, 70 << 10, true},
		{"default limit kept", 0, 60 << 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newEcho(t, wstest.WithResponseHeader(http.Header{"X-Big": {strings.Repeat("b", tc.size)}}))
			d := &Dialer{MaxResponseHeaderBytes: tc.limit}
			start := time.Now()
			conn, err := dialE(t, srv.URL, d)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				if got := conn.Response().Header.Get("X-Big"); len(got) != tc.size {
					t.Fatalf("X-Big of %d bytes", len(got))
				}
				return
			}
			var he *HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("Dial: %v (%T), want *HandshakeError", err, err)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("refusal took %v", time.Since(start))
			}
		})
	}
}
