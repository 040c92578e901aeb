//go:build !js

package wsclient

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"

	"github.com/wsclient/wsclient/wstest"
)

// pattern returns n bytes that differ from position to position, so that a
// shifted, truncated or wrongly masked payload never compares equal.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + byte(i>>8) + seed
	}
	return b
}

// Every payload length class (7-bit, 16-bit and 64-bit lengths and their
// edges) round-trips through the echo server, as text and as binary, and
// the client's frames use the lengths the server expects.
func TestConnEchoLengths(t *testing.T) {
	srv := newEcho(t)
	conn := dialT(t, srv.URL, nil)
	ctx := testCtx(t)
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20}
	for _, n := range sizes {
		for _, typ := range []MessageType{BinaryMessage, TextMessage} {
			msg := pattern(n, byte(n))
			if typ == TextMessage {
				msg = bytes.Repeat([]byte("a"), n)
			}
			if err := conn.WriteMessage(ctx, typ, msg); err != nil {
				t.Fatalf("write %d: %v", n, err)
			}
			gotTyp, got, err := conn.ReadMessage(ctx)
			if err != nil {
				t.Fatalf("read %d: %v", n, err)
			}
			if gotTyp != typ || !bytes.Equal(got, msg) {
				t.Fatalf("%v of %d bytes came back as %v of %d bytes", typ, n, gotTyp, len(got))
			}
		}
	}
	frames := srv.Conns()[0].Frames()
	if len(frames) != 2*len(sizes) {
		t.Fatalf("server recorded %d frames, want %d", len(frames), 2*len(sizes))
	}
	for i, f := range frames {
		if !f.Fin || f.RSV != 0 || len(f.Payload) != sizes[i/2] {
			t.Fatalf("frame %d: fin %v rsv %#x len %d, want a final frame of %d bytes", i, f.Fin, f.RSV, len(f.Payload), sizes[i/2])
		}
	}
}

// AppendMessage reuses the buffer it is given and appends to it.
func TestConnAppendMessage(t *testing.T) {
	srv := newEcho(t)
	conn := dialT(t, srv.URL, nil)
	ctx := testCtx(t)
	buf := make([]byte, 0, 1<<16)
	for _, n := range []int{10, 1000, 60000} {
		msg := pattern(n, 3)
		if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
		_, got, err := conn.appendMessage(ctx, append(buf[:0], "prefix"...), false)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append([]byte("prefix"), msg...)) {
			t.Fatalf("AppendMessage of %d bytes: wrong content", n)
		}
		if &got[0] != &buf[:1][0] {
			t.Fatalf("AppendMessage of %d bytes did not reuse a large enough buffer", n)
		}
	}
}

// Frames are reassembled whatever the TCP segmentation: the server cuts each
// frame after every byte of its header (and inside the payload), with a pause
// between the writes so that the client sees separate reads.
func TestConnReadSplitFrames(t *testing.T) {
	for _, n := range []int{5, 300, 70000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			msg := pattern(n, 9)
			raw := wstest.Frame{Fin: true, Opcode: wstest.OpBinary, Payload: msg}.Bytes()
			hdrLen := len(raw) - n
			cuts := hdrLen + 2 // every header byte, then inside the payload
			srv := newServer(t, func(c *wstest.Conn) error {
				for cut := 1; cut < cuts; cut++ {
					if err := c.WriteChunked(raw, []int{cut, len(raw)}, time.Millisecond); err != nil {
						return err
					}
				}
				// And the whole frame one byte per write.
				if n <= 300 {
					if err := c.WriteChunked(raw, nil, 0); err != nil {
						return err
					}
				}
				return c.Close(CloseNormalClosure, "")
			})
			conn := dialT(t, srv.URL, nil)
			msgs, err := readUntilErr(t, conn)
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != CloseNormalClosure {
				t.Fatalf("ended with %v, want a normal close", err)
			}
			want := cuts - 1
			if n <= 300 {
				want++
			}
			if len(msgs) != want {
				t.Fatalf("read %d messages, want %d", len(msgs), want)
			}
			for i, m := range msgs {
				if !bytes.Equal(m, msg) {
					t.Fatalf("message %d (cut after %d bytes) differs", i, i+1)
				}
			}
		})
	}
}

// A server may send its first frames in the same TCP write as the 101
// response; the client must not lose them in the handshake's buffer, small or
// larger than that buffer, and even when the server closes right away.
func TestConnFirstFrameWithResponse(t *testing.T) {
	for _, n := range []int{0, 10, 3000, 100000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			first := pattern(n, 1)
			after := wstest.Frame{Fin: true, Opcode: wstest.OpBinary, Payload: first}.Bytes()
			after = append(after, wstest.Frame{Fin: true, Opcode: wstest.OpText, Payload: []byte("second")}.Bytes()...)
			srv := newServer(t, nil, wstest.WithBytesAfterResponse(after)) // nil script: TCP closed right after
			conn := dialT(t, srv.URL, &Dialer{ReadBufferSize: 512})
			ctx := testCtx(t)
			typ, got, err := conn.ReadMessage(ctx)
			if err != nil || typ != BinaryMessage || !bytes.Equal(got, first) {
				t.Fatalf("first message: %v %d bytes, %v", typ, len(got), err)
			}
			typ, got, err = conn.ReadMessage(ctx)
			if err != nil || typ != TextMessage || string(got) != "second" {
				t.Fatalf("second message: %v %q, %v", typ, got, err)
			}
			if _, _, err = conn.ReadMessage(ctx); !errors.Is(err, ErrConnectionLost) {
				t.Fatalf("after the server dropped TCP: %v, want ErrConnectionLost", err)
			}
		})
	}
}

// Every client frame is masked, with a key that changes from frame to frame,
// and the masking is correct (the server unmasks the exact payload).
func TestConnMasking(t *testing.T) {
	srv := newEcho(t, wstest.WithRecordLimit(-1))
	conn := dialT(t, srv.URL, &Dialer{FragmentSize: 100})
	ctx := testCtx(t)
	var want [][]byte
	for i := range 40 {
		msg := pattern(i*37, byte(i))
		want = append(want, msg)
		if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
		if _, got, err := conn.ReadMessage(ctx); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo %d: %v", i, err)
		}
	}
	if err := conn.writeControl(ctx, frame.OpPing, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	w, err := conn.NextWriter(ctx, TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	stream := bytes.Repeat([]byte("stream!"), 100)
	w.Write(stream)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, got, err := conn.ReadMessage(ctx); err != nil || !bytes.Equal(got, stream) {
		t.Fatalf("streamed echo: %v", err)
	}
	if err := conn.Close(CloseNormalClosure, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	frames := srv.Conns()[0].Frames()
	if len(frames) < 40+1+7+1 {
		t.Fatalf("server recorded only %d frames", len(frames))
	}
	keys := map[[4]byte]int{}
	for i, f := range frames {
		if !f.Masked {
			t.Fatalf("frame %d (%v) not masked", i, f.Opcode)
		}
		if j, dup := keys[f.Mask]; dup {
			t.Errorf("frames %d and %d share the mask key %x", j, i, f.Mask)
		}
		keys[f.Mask] = i
		if i < 40 && !bytes.Equal(f.Payload, want[i]) {
			t.Fatalf("frame %d unmasks to the wrong payload", i)
		}
	}
	if frames[40].Opcode != wstest.OpPing || string(frames[40].Payload) != "ping" {
		t.Fatalf("frame 40 is %v %q, want the ping", frames[40].Opcode, frames[40].Payload)
	}
	last := frames[len(frames)-1]
	if last.Opcode != wstest.OpClose {
		t.Fatalf("last frame is %v, want close", last.Opcode)
	}
}

// Reserved opcodes (data 0x3-0x7, control 0xB-0xF) fail the connection with
// 1002, before or after a valid message, with or without payload.
func TestConnReservedOpcodes(t *testing.T) {
	for _, op := range []wstest.Opcode{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		for _, payload := range []string{"", "reserved"} {
			name := fmt.Sprintf("opcode %#x len %d", byte(op), len(payload))
			t.Run(name, func(t *testing.T) {
				runFailCase(t, failCase{
					write: func(c *wstest.Conn) error {
						if err := c.WriteMessage(wstest.OpText, []byte("before")); err != nil {
							return err
						}
						return c.WriteFrame(true, 0, op, []byte(payload))
					},
					code: CloseProtocolError, sentinel: ErrProtocol, msgs: 1,
				})
			})
		}
	}
}

// A server must never mask its frames (RFC 6455 section 5.1): the client
// fails the connection with 1002, for data and control frames alike.
func TestConnMaskedServerFrame(t *testing.T) {
	for _, op := range []wstest.Opcode{wstest.OpText, wstest.OpBinary, wstest.OpPing, wstest.OpPong, wstest.OpClose} {
		t.Run(op.String(), func(t *testing.T) {
			payload := []byte("masked")
			if op == wstest.OpClose {
				payload = []byte("\x03\xe8bye")
			}
			runFailCase(t, failCase{
				write: func(c *wstest.Conn) error {
					return c.WriteRaw(wstest.Frame{Fin: true, Opcode: op, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Payload: payload}.Bytes())
				},
				code: CloseProtocolError, sentinel: ErrProtocol,
			})
		})
	}
	// A zero mask key leaves the payload as is, but the MASK bit still counts.
	t.Run("zero key", func(t *testing.T) {
		runFailCase(t, failCase{
			write: func(c *wstest.Conn) error {
				return c.WriteRaw(wstest.Frame{Fin: true, Opcode: wstest.OpText, Masked: true, Payload: []byte("x")}.Bytes())
			},
			code: CloseProtocolError, sentinel: ErrProtocol,
		})
	})
}

// RFC 6455 section 5.2: RSV1-3 must be 0 unless a negotiated extension gives
// them a meaning; with no extension the client fails the connection (1002).
func TestConnReservedBits(t *testing.T) {
	type frameSpec struct {
		fin bool
		rsv byte
		op  wstest.Opcode
		p   string
	}
	var cases []failCase
	add := func(name string, msgs int, frames ...frameSpec) {
		cases = append(cases, failCase{
			name: name,
			write: func(c *wstest.Conn) error {
				for _, f := range frames {
					if err := c.WriteFrame(f.fin, f.rsv, f.op, []byte(f.p)); err != nil {
						return err
					}
				}
				return nil
			},
			code: CloseProtocolError, sentinel: ErrProtocol, msgs: msgs,
		})
	}
	for _, rsv := range []byte{wstest.RSV1, wstest.RSV2, wstest.RSV3, wstest.RSV1 | wstest.RSV2 | wstest.RSV3} {
		add(fmt.Sprintf("text rsv %#x", rsv), 1,
			frameSpec{true, 0, wstest.OpText, "fine"},
			frameSpec{true, rsv, wstest.OpText, "bad"})
		add(fmt.Sprintf("binary rsv %#x", rsv), 0, frameSpec{true, rsv, wstest.OpBinary, "bad"})
		add(fmt.Sprintf("ping rsv %#x", rsv), 0, frameSpec{true, rsv, wstest.OpPing, "p"})
		add(fmt.Sprintf("close rsv %#x", rsv), 0, frameSpec{true, rsv, wstest.OpClose, "\x03\xe8"})
		add(fmt.Sprintf("continuation rsv %#x", rsv), 0,
			frameSpec{false, 0, wstest.OpText, "start"},
			frameSpec{true, rsv, wstest.OpContinuation, "end"})
	}
	// An empty frame with RSV set is still an error, even with no payload to read.
	add("empty text rsv2", 0, frameSpec{true, wstest.RSV2, wstest.OpText, ""})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runFailCase(t, tc) })
	}
}
