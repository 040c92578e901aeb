//go:build !js

package wsclient

import (
	"bytes"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/protocol"
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
				if got := conn.Info().Header.Get("X-Big"); len(got) != tc.size {
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

// Empty continuation frames carry no payload, so a payload limit alone
// would let a server keep a read going forever. Frame headers count too:
// past protocol.OverheadLimit bytes of them (4 MiB at the default 32 MiB
// limit) the message fails with 1009. The server sends exactly the frames
// that cross the bound, then waits for the close.
func TestConnEndlessEmptyContinuations(t *testing.T) {
	frames := protocol.OverheadLimit(defaultMaxMessage)/2 + 1
	raw := make([]byte, 2*frames) // 2-byte headers: FIN clear, opcode 0, length 0
	raw[0] = byte(wstest.OpBinary)
	runFailCase(t, failCase{
		name:     "empty continuations",
		write:    func(c *wstest.Conn) error { return c.WriteRaw(raw) },
		code:     CloseMessageTooBig,
		sentinel: ErrMessageTooBig,
	})
}

// A deflate bomb is read into at most about the size limit: the reader
// allocates no more than 1.25× MaxMessageSize in all (an upper bound of its
// peak heap), where doubling the buffer used to reach 3×.
func TestConnDeflateBombMemory(t *testing.T) {
	const limit = 8 << 20
	payload := deflateBomb()
	raw := wstest.Frame{Fin: true, RSV: frame.RSV1, Opcode: wstest.OpBinary, Payload: payload}.Bytes()
	warm := wstest.Frame{Fin: true, RSV: frame.RSV1, Opcode: wstest.OpBinary, Payload: []byte{0x02, 0x00}}.Bytes() // empty message
	start := make(chan struct{})
	closed := make(chan closeResult, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.WriteRaw(warm); err != nil {
			return err
		}
		<-start
		if err := c.WriteRaw(raw); err != nil {
			return err
		}
		expectClose(c, closed)
		return nil
	}, wstest.WithExtensions("permessage-deflate"))
	conn := dialT(t, srv.URL, &Dialer{Compression: &CompressionOptions{}, MaxMessageSize: limit})
	// A first compressed message warms the pooled decompressor up.
	if _, _, err := conn.ReadMessage(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	close(start)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := conn.ReadMessage(testCtx(t))
	runtime.ReadMemStats(&after)
	checkProtocolError(t, err, CloseMessageTooBig, ErrMessageTooBig)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %.2f MiB reading a 64 MiB bomb with a %d MiB limit (%.3f×)", float64(alloc)/(1<<20), limit>>20, float64(alloc)/limit)
	if alloc > limit*5/4 {
		t.Errorf("allocated %d bytes, over 1.25× the %d-byte limit", alloc, limit)
	}
	if r := recv(t, closed); r.err != nil || r.code != CloseMessageTooBig {
		t.Fatalf("server got close %d, %v; want 1009", r.code, r.err)
	}
}
