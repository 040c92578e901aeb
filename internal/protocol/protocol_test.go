package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wsclient/wsclient/internal/frame"
)

// fr builds an unmasked (server) frame.
func fr(fin bool, rsv byte, op frame.Opcode, payload string) []byte {
	b := frame.Append(nil, frame.Header{Fin: fin, RSV: rsv, Opcode: op, Length: int64(len(payload))})
	return append(b, payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// driver is the smallest I/O-free user of an Engine: it buffers the bytes it
// is given and turns the engine's events into a transcript.
type driver struct {
	e     *Engine
	buf   []byte
	msg   []byte
	log   []string
	msgs  [][]byte
	texts [][]byte
	err   error
}

// feed gives the driver more bytes and runs the engine as far as they go.
func (d *driver) feed(b []byte) {
	d.buf = append(d.buf, b...)
	for d.err == nil {
		e := d.e
		switch {
		case e.InMessage() && e.Remaining() > 0:
			if len(d.buf) == 0 {
				return
			}
			n := min(int64(len(d.buf)), e.Remaining())
			p := d.buf[:n]
			if d.err = e.Payload(p); d.err != nil {
				return
			}
			if e.Compressed() {
				// Stand-in for a decompressor: the "decompressed"
				// bytes are the raw ones.
				if d.err = e.Inflated(p); d.err != nil {
					return
				}
			}
			d.msg = append(d.msg, p...)
			d.buf = d.buf[n:]
		case e.FramesDone():
			if d.err = e.EndMessage(); d.err != nil {
				return
			}
			d.log = append(d.log, fmt.Sprintf("%s %q", e.Opcode(), d.msg))
			d.msgs = append(d.msgs, d.msg)
			if e.Opcode() == frame.OpText {
				d.texts = append(d.texts, d.msg)
			}
			d.msg = nil
		default:
			ev, n, err := e.Receive(d.buf)
			if err != nil {
				d.err = err
				return
			}
			if ev.Kind == NeedMore {
				if n <= len(d.buf) {
					panic("NeedMore with enough bytes")
				}
				return
			}
			if ev.Kind != Control {
				d.buf = d.buf[n:]
				if ev.Kind == MessageStart && ev.Compressed {
					d.log = append(d.log, "compressed")
				}
				continue
			}
			if len(d.buf) < n+int(ev.Length) {
				// Wait for the whole control frame: undo the header (a
				// real reader would buffer; the engine must then be fed
				// the header again, so start afresh).
				e.ctlPending = false
				return
			}
			p := d.buf[n : n+int(ev.Length)]
			d.buf = d.buf[n+int(ev.Length):]
			code, reason, err := e.Control(p)
			if err != nil {
				d.err = err
				return
			}
			if ev.Opcode == frame.OpClose {
				d.log = append(d.log, fmt.Sprintf("close %d %q", code, reason))
			} else {
				d.log = append(d.log, fmt.Sprintf("%s %q", ev.Opcode, p))
			}
		}
	}
}

func run(cfg Config, data []byte, step int) *driver {
	d := &driver{e: New(cfg)}
	if step <= 0 {
		d.feed(data)
		return d
	}
	for i := 0; i < len(data); i += step {
		d.feed(data[i:min(i+step, len(data))])
	}
	return d
}

var (
	text = frame.OpText
	bin  = frame.OpBinary
	cont = frame.OpContinuation
	ping = frame.OpPing
	pong = frame.OpPong
	clos = frame.OpClose
)

func closePayload(code int, reason string) string {
	return string(frame.AppendClose(nil, code, reason))
}

type recvCase struct {
	name string
	cfg  Config
	in   []byte
	want []string // transcript
	code int      // close code of the expected error, 0 for none
	kind error    // its sentinel
}

var recvCases = []recvCase{
	{name: "text", in: fr(true, 0, text, "héllo"), want: []string{`text "héllo"`}},
	{name: "binary", in: fr(true, 0, bin, "\x00\xff"), want: []string{`binary "\x00\xff"`}},
	{name: "empty text", in: fr(true, 0, text, ""), want: []string{`text ""`}},
	{name: "two messages", in: cat(fr(true, 0, text, "a"), fr(true, 0, bin, "b")), want: []string{`text "a"`, `binary "b"`}},
	{name: "fragmented", in: cat(fr(false, 0, text, "he"), fr(false, 0, cont, ""), fr(true, 0, cont, "llo")), want: []string{`text "hello"`}},
	{name: "control between fragments", in: cat(fr(false, 0, bin, "a"), fr(true, 0, ping, "p"), fr(true, 0, pong, ""), fr(true, 0, cont, "b")),
		want: []string{`ping "p"`, `pong ""`, `binary "ab"`}},
	{name: "UTF-8 split across fragments", in: cat(fr(false, 0, text, "\xc3"), fr(true, 0, cont, "\xa9")), want: []string{`text "é"`}},
	{name: "compressed", cfg: Config{Deflate: true}, in: fr(true, frame.RSV1, text, "x"), want: []string{"compressed", `text "x"`}},
	{name: "close with reason", in: fr(true, 0, clos, closePayload(1001, "bye")), want: []string{`close 1001 "bye"`}},
	{name: "empty close", in: fr(true, 0, clos, ""), want: []string{`close 1005 ""`}},
	{name: "max size in fragments", cfg: Config{MaxMessage: 10}, in: cat(fr(false, 0, bin, "12345"), fr(true, 0, cont, "67890")), want: []string{`binary "1234567890"`}},

	{name: "masked frame", in: frame.Append(nil, frame.Header{Fin: true, Opcode: text, Masked: true}), code: 1002, kind: ErrProtocol},
	{name: "RSV2", in: fr(true, frame.RSV2, text, "a"), code: 1002, kind: ErrProtocol},
	{name: "RSV1 without deflate", in: fr(true, frame.RSV1, text, "a"), code: 1002, kind: ErrProtocol},
	{name: "RSV1 on continuation", cfg: Config{Deflate: true}, in: cat(fr(false, frame.RSV1, text, "a"), fr(true, frame.RSV1, cont, "b")), want: []string{"compressed"}, code: 1002, kind: ErrProtocol},
	{name: "RSV1 on ping", cfg: Config{Deflate: true}, in: fr(true, frame.RSV1, ping, ""), code: 1002, kind: ErrProtocol},
	{name: "reserved opcode", in: fr(true, 0, 3, ""), code: 1002, kind: ErrProtocol},
	{name: "reserved control opcode", in: fr(true, 0, 0xb, ""), code: 1002, kind: ErrProtocol},
	{name: "continuation first", in: fr(true, 0, cont, "a"), code: 1002, kind: ErrProtocol},
	{name: "new message inside fragmented", in: cat(fr(false, 0, text, "a"), fr(true, 0, bin, "b")), want: nil, code: 1002, kind: ErrProtocol},
	{name: "fragmented ping", in: fr(false, 0, ping, ""), code: 1002, kind: ErrProtocol},
	{name: "ping over 125 bytes", in: fr(true, 0, ping, strings.Repeat("p", 126)), code: 1002, kind: ErrProtocol},
	{name: "64-bit length top bit", in: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, code: 1002, kind: ErrProtocol},
	{name: "invalid UTF-8 fails in first fragment", in: cat(fr(false, 0, text, "a\xff")), code: 1007, kind: ErrInvalidUTF8},
	{name: "text ends inside UTF-8", in: fr(true, 0, text, "\xe2\x82"), code: 1007, kind: ErrInvalidUTF8},
	{name: "invalid UTF-8 compressed", cfg: Config{Deflate: true}, in: fr(true, frame.RSV1, text, "\xc0"), want: []string{"compressed"}, code: 1007, kind: ErrInvalidUTF8},
	{name: "binary need not be UTF-8", in: fr(true, 0, bin, "\xff"), want: []string{`binary "\xff"`}},
	{name: "over size at header", cfg: Config{MaxMessage: 10}, in: fr(true, 0, bin, "12345678901")[:2], code: 1009, kind: ErrTooBig},
	{name: "over size in fragments", cfg: Config{MaxMessage: 10}, in: cat(fr(false, 0, bin, "123456"), fr(true, 0, cont, "78901")[:2]), code: 1009, kind: ErrTooBig},
	{name: "empty continuations forever", cfg: Config{MaxMessage: 100}, in: cat(fr(false, 0, bin, ""), bytes.Repeat(fr(false, 0, cont, ""), 600)), code: 1009, kind: ErrTooBig},
	{name: "close payload of one byte", in: fr(true, 0, clos, "\x03"), code: 1002, kind: ErrProtocol},
	{name: "close code 1005 on the wire", in: fr(true, 0, clos, "\x03\xed"), code: 1002, kind: ErrProtocol},
	{name: "close code 999", in: fr(true, 0, clos, "\x03\xe7"), code: 1002, kind: ErrProtocol},
	{name: "close reason not UTF-8", in: fr(true, 0, clos, "\x03\xe8\xff"), code: 1002, kind: ErrProtocol},
	{name: "frame after close", in: cat(fr(true, 0, clos, ""), fr(true, 0, text, "late")), want: []string{`close 1005 ""`}, code: 1002, kind: ErrProtocol},
}

// The engine gives the same transcript and error whether the bytes come at
// once or one at a time, and only the errors the table names.
func TestReceive(t *testing.T) {
	for _, tc := range recvCases {
		for _, step := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("%s/step%d", tc.name, step), func(t *testing.T) {
				d := run(tc.cfg, tc.in, step)
				if strings.Join(d.log, "|") != strings.Join(tc.want, "|") {
					t.Errorf("transcript %q, want %q", d.log, tc.want)
				}
				if tc.code == 0 {
					if d.err != nil {
						t.Fatalf("error %v", d.err)
					}
					if len(d.buf) != 0 {
						t.Fatalf("%d bytes left over", len(d.buf))
					}
					return
				}
				var pe *Error
				if !errors.As(d.err, &pe) || pe.Code != tc.code || !errors.Is(d.err, tc.kind) {
					t.Fatalf("error %v, want code %d (%v)", d.err, tc.code, tc.kind)
				}
				// The error is sticky.
				if _, _, err := d.e.Receive(fr(true, 0, text, "")); err != d.err {
					t.Fatalf("after failure Receive gave %v", err)
				}
				if code, ok := d.e.FailClose(pe.Code); !ok || code != tc.code {
					t.Fatalf("FailClose = %d, %v", code, ok)
				}
			})
		}
	}
}

// The frame-header budget: a message at the limit in 16-byte fragments
// passes, endless empty continuations fail after OverheadLimit bytes.
func TestOverheadLimit(t *testing.T) {
	const limit = 1 << 14
	var in []byte
	for i := 0; i < limit/16; i++ {
		op := cont
		if i == 0 {
			op = bin
		}
		in = append(in, fr(i == limit/16-1, 0, op, strings.Repeat("x", 16))...)
	}
	d := run(Config{MaxMessage: limit}, in, 0)
	if d.err != nil || len(d.msgs) != 1 || len(d.msgs[0]) != limit {
		t.Fatalf("fragments of 16 bytes: %v, %d messages", d.err, len(d.msgs))
	}
	e := New(Config{MaxMessage: limit})
	frames := 0
	for b := fr(false, 0, bin, ""); ; b = fr(false, 0, cont, "") {
		_, _, err := e.Receive(b)
		if err != nil {
			if !errors.Is(err, ErrTooBig) {
				t.Fatal(err)
			}
			break
		}
		frames++
	}
	if want := OverheadLimit(limit) / 2; int64(frames) != want {
		t.Fatalf("%d empty frames accepted, want %d", frames, want)
	}
	if OverheadLimit(0) != -1 || OverheadLimit(100) != 1024 || OverheadLimit(32<<20) != 4<<20 {
		t.Fatal("OverheadLimit")
	}
}

// The close handshake as a value: what was received, what was sent, and the
// bytes to send.
func TestCloseState(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	t.Run("peer closes first", func(t *testing.T) {
		d := run(Config{}, fr(true, 0, clos, closePayload(4000, "x")), 0)
		e := d.e
		if s := e.State(); !s.Received || s.RecvCode != 4000 || s.Sent || s.Done() {
			t.Fatalf("state %+v", s)
		}
		code, ok := e.CloseReply()
		if !ok || code != 4000 {
			t.Fatalf("reply %d %v", code, ok)
		}
		b, err := appendClose(e, nil, code, "", key)
		if err != nil {
			t.Fatal(err)
		}
		want := []byte{0x88, 0x82, 1, 2, 3, 4, 0x0f ^ 1, 0xa0 ^ 2}
		if !bytes.Equal(b, want) {
			t.Fatalf("close frame % x, want % x", b, want)
		}
		if s := e.State(); !s.Done() || s.SentCode != 4000 || s.Started {
			t.Fatalf("state %+v", s)
		}
		if _, ok := e.CloseReply(); ok {
			t.Fatal("second reply")
		}
	})
	t.Run("empty close answered with 1000", func(t *testing.T) {
		d := run(Config{}, fr(true, 0, clos, ""), 0)
		if code, ok := d.e.CloseReply(); !ok || code != 1000 {
			t.Fatalf("reply %d %v", code, ok)
		}
	})
	t.Run("we close first", func(t *testing.T) {
		e := New(Config{})
		if _, ok := e.CloseReply(); ok {
			t.Fatal("reply before any close")
		}
		b, err := appendClose(e, nil, 1000, strings.Repeat("é", 100), [4]byte{})
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 2+4+125-1 || !utf8.Valid(b[8:]) {
			t.Fatalf("close frame of %d bytes", len(b))
		}
		if _, err := appendClose(e, nil, 1000, "", key); err != ErrCloseSent {
			t.Fatalf("second close: %v", err)
		}
		if p, err := e.AppendFrame(nil, true, 0, pong, []byte("x"), key); len(p) != 0 || err != ErrCloseSent {
			t.Fatalf("pong after close: % x %v", p, err)
		}
		if s := e.State(); !s.Started {
			t.Fatalf("state %+v: not started here", s)
		}
		d := driver{e: e}
		d.feed(cat(fr(true, 0, text, "still read"), fr(true, 0, clos, closePayload(1000, ""))))
		if d.err != nil || !e.State().Done() {
			t.Fatalf("%v %+v", d.err, e.State())
		}
		if _, ok := e.FailClose(1002); ok {
			t.Fatal("fail close after close sent")
		}
	})
	t.Run("invalid codes", func(t *testing.T) {
		for _, code := range []int{0, 999, 1004, 1006, 1015, 2999, 5000} {
			if _, err := appendClose(New(Config{}), nil, code, "", key); err != ErrCloseCode {
				t.Errorf("code %d: %v", code, err)
			}
		}
		b, err := appendClose(New(Config{}), nil, frame.CloseNoStatus, "ignored", [4]byte{})
		if err != nil || !bytes.Equal(b, []byte{0x88, 0x80, 0, 0, 0, 0}) {
			t.Fatalf("1005: % x %v", b, err)
		}
	})
	t.Run("MarkClosed", func(t *testing.T) {
		e := New(Config{})
		e.MarkClosed()
		if !e.CloseSent() || e.State().SentCode != 0 {
			t.Fatal("MarkClosed")
		}
	})
}

// A pong answers with the ping's payload, masked.
func TestPong(t *testing.T) {
	b, err := New(Config{}).AppendFrame(nil, true, 0, pong, []byte("ab"), [4]byte{0xff, 0, 0xff, 0})
	if want := []byte{0x8a, 0x82, 0xff, 0, 0xff, 0, 'a' ^ 0xff, 'b'}; err != nil || !bytes.Equal(b, want) {
		t.Fatalf("% x %v, want % x", b, err, want)
	}
}

// Calls out of order are caller bugs, reported rather than obeyed.
func TestOutOfOrder(t *testing.T) {
	e := New(Config{})
	if _, _, err := e.Control(nil); err != errState {
		t.Fatalf("Control without a control frame: %v", err)
	}
	if err := e.EndMessage(); err != errState {
		t.Fatalf("EndMessage outside a message: %v", err)
	}
	if _, _, err := e.Receive(fr(false, 0, bin, "abc")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Receive(fr(true, 0, cont, "")); err != errState {
		t.Fatalf("Receive with payload pending: %v", err)
	}
	if err := e.Payload(make([]byte, 4)); err != errState {
		t.Fatalf("Payload past the frame: %v", err)
	}
}

// The steady state allocates nothing.
func TestNoAllocs(t *testing.T) {
	e := New(Config{MaxMessage: 1 << 20})
	msg := fr(true, 0, text, "hello, world")
	ctl := fr(true, 0, ping, "p")
	allocs := testing.AllocsPerRun(1000, func() {
		ev, n, err := e.Receive(ctl)
		if err != nil || ev.Kind != Control {
			panic(err)
		}
		if _, _, err := e.Control(ctl[n:]); err != nil {
			panic(err)
		}
		ev, n, err = e.Receive(msg)
		if err != nil || ev.Kind != MessageStart {
			panic(err)
		}
		if err := e.Payload(msg[n:]); err != nil {
			panic(err)
		}
		if err := e.EndMessage(); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per message", allocs)
	}
}

func BenchmarkReceive(b *testing.B) {
	e := New(Config{MaxMessage: 1 << 20})
	msg := fr(true, 0, text, strings.Repeat("x", 64))
	b.ReportAllocs()
	for range b.N {
		_, n, _ := e.Receive(msg)
		_ = e.Payload(msg[n:])
		_ = e.EndMessage()
	}
}
