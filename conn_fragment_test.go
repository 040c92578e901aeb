//go:build !js

package wsclient

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"

	"github.com/wsclient/wsclient/wstest"
)

// Fragmentation rules of RFC 6455 section 5.4 that a server can break.
func TestConnFragmentationErrors(t *testing.T) {
	frames := func(fs ...wstest.Frame) func(c *wstest.Conn) error {
		return func(c *wstest.Conn) error {
			for _, f := range fs {
				if err := c.WriteRaw(f.Bytes()); err != nil {
					return err
				}
			}
			return nil
		}
	}
	raw := func(b []byte) func(c *wstest.Conn) error {
		return func(c *wstest.Conn) error { return c.WriteRaw(b) }
	}
	for _, tc := range []failCase{
		{name: "continuation without start", write: frames(
			wstest.Frame{Fin: true, Opcode: wstest.OpContinuation, Payload: []byte("orphan")})},
		{name: "continuation after a complete message", msgs: 1, write: frames(
			wstest.Frame{Fin: true, Opcode: wstest.OpText, Payload: []byte("whole")},
			wstest.Frame{Fin: true, Opcode: wstest.OpContinuation, Payload: []byte("orphan")})},
		{name: "non-final continuation without start", write: frames(
			wstest.Frame{Fin: false, Opcode: wstest.OpContinuation, Payload: []byte("orphan")})},
		{name: "text during fragmented text", write: frames(
			wstest.Frame{Fin: false, Opcode: wstest.OpText, Payload: []byte("one")},
			wstest.Frame{Fin: true, Opcode: wstest.OpText, Payload: []byte("two")})},
		{name: "binary during fragmented text", write: frames(
			wstest.Frame{Fin: false, Opcode: wstest.OpText, Payload: []byte("one")},
			wstest.Frame{Fin: false, Opcode: wstest.OpContinuation, Payload: []byte("more")},
			wstest.Frame{Fin: false, Opcode: wstest.OpBinary, Payload: []byte("two")})},
		{name: "fragmented ping", write: frames(
			wstest.Frame{Fin: false, Opcode: wstest.OpPing, Payload: []byte("half")},
			wstest.Frame{Fin: true, Opcode: wstest.OpContinuation, Payload: []byte("half")})},
		{name: "fragmented pong", write: frames(
			wstest.Frame{Fin: false, Opcode: wstest.OpPong})},
		{name: "fragmented close", write: frames(
			wstest.Frame{Fin: false, Opcode: wstest.OpClose, Payload: []byte{3, 232}})},
		{name: "ping of 126 bytes", write: frames(
			wstest.Frame{Fin: true, Opcode: wstest.OpPing, Payload: pattern(126, 0)})},
		{name: "close of 126 bytes", write: frames(
			wstest.Frame{Fin: true, Opcode: wstest.OpClose, Payload: append([]byte{3, 232}, bytes.Repeat([]byte("r"), 124)...)})},
		{name: "ping with 16-bit length 126", write: raw(append([]byte{0x89, 126, 0, 126}, pattern(126, 0)...))},
		{name: "64-bit length with top bit", write: raw([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'})},
		{name: "64-bit length all ones", write: raw([]byte{0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.code, tc.sentinel = CloseProtocolError, ErrProtocol
			runFailCase(t, tc)
		})
	}
}

// Valid fragmented messages, including empty fragments and an empty
// message made of empty fragments, are reassembled, by ReadMessage and by
// the NextReader stream.
func TestConnFragmentedRead(t *testing.T) {
	type frag struct {
		fin bool
		op  wstest.Opcode
		p   string
	}
	msgs := []struct {
		frags []frag
		typ   MessageType
		want  string
	}{
		{[]frag{{false, wstest.OpText, "Hello, "}, {true, wstest.OpContinuation, "world"}}, TextMessage, "Hello, world"},
		{[]frag{{false, wstest.OpBinary, ""}, {false, wstest.OpContinuation, ""}, {true, wstest.OpContinuation, ""}}, BinaryMessage, ""},
		{[]frag{{false, wstest.OpBinary, "a"}, {false, wstest.OpContinuation, ""}, {false, wstest.OpContinuation, "b"}, {true, wstest.OpContinuation, ""}}, BinaryMessage, "ab"},
		{[]frag{{false, wstest.OpText, string(bytes.Repeat([]byte("x"), 70000))}, {true, wstest.OpContinuation, "y"}}, TextMessage, string(bytes.Repeat([]byte("x"), 70000)) + "y"},
	}
	// Each message once per reading style.
	for _, style := range []string{"ReadMessage", "NextReader", "NextReader1"} {
		t.Run(style, func(t *testing.T) {
			srv := newServer(t, func(c *wstest.Conn) error {
				for _, m := range msgs {
					for _, f := range m.frags {
						if err := c.WriteFrame(f.fin, 0, f.op, []byte(f.p)); err != nil {
							return err
						}
					}
				}
				return nil
			})
			conn := dialT(t, srv.URL, nil)
			ctx := testCtx(t)
			for i, m := range msgs {
				var typ MessageType
				var got []byte
				var err error
				switch style {
				case "ReadMessage":
					typ, got, err = conn.ReadMessage(ctx)
				default:
					var r io.Reader
					typ, r, err = conn.NextReader(ctx)
					if err == nil {
						if style == "NextReader1" {
							r = io.LimitReader(oneByte{r}, 1<<30)
						}
						got, err = io.ReadAll(r)
					}
				}
				if err != nil || typ != m.typ || string(got) != m.want {
					t.Fatalf("message %d: %v of %d bytes, %v", i, typ, len(got), err)
				}
			}
		})
	}
}

// oneByte reads at most one byte per call.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

// A message left half-read by NextReader is skipped by the next read.
func TestConnNextReaderDiscardsRest(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.WriteFrame(false, 0, wstest.OpBinary, pattern(3000, 1)); err != nil {
			return err
		}
		if err := c.WriteFrame(true, 0, wstest.OpContinuation, pattern(3000, 2)); err != nil {
			return err
		}
		return c.WriteMessage(wstest.OpText, []byte("next"))
	})
	conn := dialT(t, srv.URL, nil)
	ctx := testCtx(t)
	_, r, err := conn.NextReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	typ, got, err := conn.ReadMessage(ctx)
	if err != nil || typ != TextMessage || string(got) != "next" {
		t.Fatalf("after a half-read message: %v %q %v", typ, got, err)
	}
}

// NextWriter sends a message as frames of FragmentSize bytes: the first with
// the message's opcode, the rest continuation frames, the last one final;
// the server reassembles the exact payload whatever the Write sizes.
func TestConnNextWriterFragments(t *testing.T) {
	const frag = 1000
	for _, total := range []int{0, 1, 999, 1000, 1001, 3500, 10000} {
		for _, chunk := range []int{1, 7, 1000, 4096} {
			if total > 3500 && chunk < 7 {
				continue
			}
			t.Run(fmt.Sprintf("%d by %d", total, chunk), func(t *testing.T) {
				type result struct {
					op     wstest.Opcode
					msg    []byte
					frames []wstest.Frame
					err    error
				}
				res := make(chan result, 1)
				srv := newServer(t, func(c *wstest.Conn) error {
					c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
					op, msg, err := c.ReadMessage()
					res <- result{op, msg, c.Frames(), err}
					return nil
				})
				conn := dialT(t, srv.URL, &Dialer{FragmentSize: frag})
				msg := pattern(total, 4)
				w, err := conn.NextWriter(testCtx(t), BinaryMessage)
				if err != nil {
					t.Fatal(err)
				}
				for p := msg; len(p) > 0; {
					n := min(chunk, len(p))
					if m, err := w.Write(p[:n]); err != nil || m != n {
						t.Fatalf("Write: %d, %v", m, err)
					}
					p = p[n:]
				}
				if err := w.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				if _, err := w.Write([]byte("late")); err == nil {
					t.Fatal("Write after Close succeeded")
				}
				r := recv(t, res)
				if r.err != nil || r.op != wstest.OpBinary || !bytes.Equal(r.msg, msg) {
					t.Fatalf("server got %v of %d bytes, %v", r.op, len(r.msg), r.err)
				}
				for i, f := range r.frames {
					wantOp := wstest.OpContinuation
					if i == 0 {
						wantOp = wstest.OpBinary
					}
					last := i == len(r.frames)-1
					if f.Opcode != wantOp || f.Fin != last || !f.Masked {
						t.Fatalf("frame %d of %d: %v fin=%v masked=%v", i, len(r.frames), f.Opcode, f.Fin, f.Masked)
					}
					if !last && len(f.Payload) != frag {
						t.Fatalf("non-final frame %d has %d bytes, want FragmentSize %d", i, len(f.Payload), frag)
					}
					if len(f.Payload) > frag {
						t.Fatalf("frame %d has %d bytes, over FragmentSize", i, len(f.Payload))
					}
				}
				if min := (total + frag - 1) / frag; len(r.frames) < max(min, 1) || len(r.frames) > min+1 {
					t.Fatalf("%d frames for %d bytes", len(r.frames), total)
				}
			})
		}
	}
}

// A Ping (and a Pong) sent while a NextWriter message is open goes out at
// once, between the message's fragments, while WriteMessage from another
// goroutine waits for the streamed message to end.
func TestConnControlBetweenWriterFragments(t *testing.T) {
	type result struct {
		frames []wstest.Frame
		err    error
	}
	res := make(chan result, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
		var err error
		for range 6 {
			if _, err = c.ReadFrame(); err != nil {
				break
			}
		}
		res <- result{c.Frames(), err}
		return nil
	})
	conn := dialT(t, srv.URL, &Dialer{FragmentSize: 100})
	ctx := testCtx(t)
	w, err := conn.NextWriter(ctx, TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("a"), 150)); err != nil { // one frame out, 50 bytes pending
		t.Fatal(err)
	}
	if err := conn.writeControl(ctx, frame.OpPing, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	other := make(chan error, 1)
	go func() { other <- conn.WriteMessage(ctx, TextMessage, []byte("other")) }()
	if err := conn.writeControl(ctx, frame.OpPong, []byte("pong")); err != nil {
		t.Fatal(err)
	}
	// WriteMessage's frame waits on the write lock (the open message makes
	// it wait even while the lock is free); it must not cut in below.
	waitQueued(t, conn, 1)
	if _, err := w.Write(bytes.Repeat([]byte("b"), 100)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, other); err != nil {
		t.Fatal(err)
	}
	r := recv(t, res)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var got []string
	for _, f := range r.frames {
		got = append(got, fmt.Sprintf("%v/%v/%d", f.Opcode, f.Fin, len(f.Payload)))
	}
	want := []string{"text/false/100", "ping/true/4", "pong/true/4", "continuation/false/100", "continuation/true/50", "text/true/5"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("frames %v, want %v", got, want)
	}
}
