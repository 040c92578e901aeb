package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wsclient/wsclient/internal/frame"
)

// FuzzReceive feeds arbitrary bytes to the engine, whole and in pieces: it
// must never panic, must give the same transcript and error either way,
// fail only with the codes it documents, and never deliver a text message
// that is not UTF-8 or a message over the limit.
func FuzzReceive(f *testing.F) {
	for _, tc := range recvCases {
		f.Add(tc.in, tc.cfg.Deflate, uint16(tc.cfg.MaxMessage), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, deflate bool, limit uint16, step uint8) {
		cfg := Config{Deflate: deflate, MaxMessage: int64(limit)}
		whole := run(cfg, in, 0)
		pieces := run(cfg, in, int(step))
		if a, b := strings.Join(whole.log, "|"), strings.Join(pieces.log, "|"); a != b {
			t.Fatalf("transcript depends on how bytes arrive:\n%q\n%q", a, b)
		}
		if (whole.err == nil) != (pieces.err == nil) {
			t.Fatalf("errors differ: %v / %v", whole.err, pieces.err)
		}
		texts := 0
		for _, entry := range whole.log {
			if strings.HasPrefix(entry, "text ") {
				texts++
			}
		}
		for _, m := range whole.msgs {
			if limit > 0 && len(m) > int(limit) {
				t.Fatalf("message of %d bytes over the %d limit", len(m), limit)
			}
		}
		for _, m := range whole.texts {
			if !utf8.Valid(m) {
				t.Fatalf("invalid UTF-8 delivered: %q", m)
			}
		}
		if texts != len(whole.texts) {
			t.Fatalf("%d text messages logged, %d kept", texts, len(whole.texts))
		}
		if whole.err == nil {
			return
		}
		var pe *Error
		if !errors.As(whole.err, &pe) {
			t.Fatalf("error of type %T: %v", whole.err, whole.err)
		}
		want := map[int]error{1002: ErrProtocol, 1007: ErrInvalidUTF8, 1009: ErrTooBig}[pe.Code]
		if want == nil || !errors.Is(pe, want) {
			t.Fatalf("error %v with code %d", pe, pe.Code)
		}
		if pe == errState {
			t.Fatalf("driver misused the engine: %v", pe)
		}
	})
}

// sent is a frame the send side produced, as the fuzz program asked for it.
type sent struct {
	fin     bool
	rsv     byte
	op      frame.Opcode
	payload []byte
}

// FuzzSendReceive runs a random program of sends and receives on one
// engine: frames of any header bits and size, closes with any code, pongs,
// answers to the peer's close, MarkClosed, and server bytes in between. It
// must never panic; every byte it produced must decode (internal/frame) as
// RFC 6455 client frames, in the order and with the payloads of the calls
// it accepted; and what it refused must be exactly what the rules refuse.
func FuzzSendReceive(f *testing.F) {
	f.Add([]byte{1, 0x01, 3, 1, 0x80, 0, 2, 4}, fr(true, 0, clos, closePayload(1000, "bye")), false)
	f.Add([]byte{1, 0x41, 2, 6, 0x00, 200, 1, 0x89, 1, 3, 0, 0x03, 0xe8, 0}, cat(fr(true, 0, ping, "p"), fr(true, 0, text, "x")), true)
	f.Add([]byte{0, 9, 4, 1, 0x82, 0, 5, 1, 0x81, 0}, fr(true, 0, clos, ""), false)
	f.Fuzz(func(t *testing.T, prog, in []byte, deflate bool) {
		d := &driver{e: New(Config{Deflate: deflate, MaxMessage: 1 << 16})}
		e := d.e
		var out []byte
		var want []sent
		inMsg, closed, closeFrame := false, false, false
		next := func() byte {
			if len(prog) == 0 {
				return 0
			}
			b := prog[0]
			prog = prog[1:]
			return b
		}
		key := [4]byte{0x5a, 0xa5, 0x3c, 0xc3}
		// allowed is the send rules, written again from RFC 6455.
		allowed := func(fin bool, rsv byte, op frame.Opcode, n int) bool {
			switch {
			case closed:
				return false
			case op.IsReserved():
				return false
			case op.IsControl():
				return fin && rsv == 0 && n <= 125
			case op == frame.OpContinuation:
				return inMsg && rsv == 0
			}
			return !inMsg && (rsv == 0 || deflate && rsv == frame.RSV1)
		}
		accept := func(fin bool, rsv byte, op frame.Opcode, p []byte) {
			want = append(want, sent{fin, rsv, op, append([]byte(nil), p...)})
			if !op.IsControl() {
				inMsg = !fin
			}
			if op == frame.OpClose {
				closed, closeFrame = true, true
			}
		}
		for steps := 0; len(prog) > 0 && steps < 64; steps++ {
			switch next() % 7 {
			case 0: // server bytes
				n := min(int(next()), len(in))
				d.feed(in[:n])
				in = in[n:]
			case 1, 6: // any frame, whole or header and pieces
				h := next()
				fin, rsv, op := h&0x80 != 0, h&0x70, frame.Opcode(h&0x0f)
				p := bytes.Repeat([]byte{next()}, int(next())+int(next())%4*100)
				if op == frame.OpClose {
					p = append(frame.AppendClose(nil, 1000+int(next())%20, ""), p[:min(len(p), 3)]...)
				}
				var b []byte
				var err error
				if steps%2 == 0 || op == frame.OpClose {
					b, err = e.AppendFrame(out, fin, rsv, op, p, key)
				} else if b, err = e.AppendHeader(out, fin, rsv, op, int64(len(p)), key); err == nil {
					m := len(b)
					b = append(b, p...)
					pos := Mask(b[m:m+len(p)/2], p[:len(p)/2], key, 0)
					Mask(b[m+len(p)/2:], p[len(p)/2:], key, pos)
				}
				ok := allowed(fin, rsv, op, len(p))
				if op == frame.OpClose && ok && len(p) > 0 {
					ok = len(p) >= 2 && frame.ValidCloseCode(int(p[0])<<8|int(p[1])) && utf8.Valid(p[2:])
				}
				if (err == nil) != ok {
					t.Fatalf("frame fin=%v rsv=%#x %s len %d: error %v, rules allow: %v", fin, rsv, op, len(p), err, ok)
				}
				if err == nil {
					accept(fin, rsv, op, p)
				}
				out = b
			case 2: // a close of ours
				code := int(next())<<8 | int(next())
				var err error
				b := out
				out, err = appendClose(e, out, code, strings.Repeat("é", int(next()%80)), key)
				if ok := !closed && SendableCloseCode(code); (err == nil) != ok {
					t.Fatalf("close %d: error %v, rules allow: %v", code, err, ok)
				}
				if err == nil {
					accept(true, 0, frame.OpClose, out[len(b)+6:])
					unmask(want[len(want)-1].payload, key)
				}
			case 3: // a pong
				p := bytes.Repeat([]byte{'p'}, int(next())%130)
				var err error
				if out, err = e.AppendFrame(out, true, 0, frame.OpPong, p, key); (err == nil) != allowed(true, 0, frame.OpPong, len(p)) {
					t.Fatalf("pong of %d: %v", len(p), err)
				}
				if err == nil {
					accept(true, 0, frame.OpPong, p)
				}
			case 4: // answer the peer's close
				code, ok := e.CloseReply()
				if ok != (e.CloseReceived() && !closed) {
					t.Fatalf("CloseReply %v with received %v, closed %v", ok, e.CloseReceived(), closed)
				}
				if ok {
					b := out
					var err error
					if out, err = appendClose(e, out, code, "", key); err != nil {
						t.Fatalf("echo of %d: %v", code, err)
					}
					accept(true, 0, frame.OpClose, out[len(b)+6:])
					unmask(want[len(want)-1].payload, key)
					if e.StartedClose() {
						t.Fatal("an echo started the close")
					}
				}
			case 5:
				if next()%4 == 0 {
					e.MarkClosed()
					closed = true
				}
			}
			if e.CloseSent() != closed || e.SendInMessage() != inMsg {
				t.Fatalf("engine: sent %v in message %v; program: %v %v", e.CloseSent(), e.SendInMessage(), closed, inMsg)
			}
			if closeFrame && e.State().Started == e.peerFirst {
				t.Fatalf("state %+v, peer first %v", e.State(), e.peerFirst)
			}
		}
		got := decodeClient(t, out, deflate)
		if len(got) != len(want) {
			t.Fatalf("%d frames decoded, %d sent", len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.fin != w.fin || g.rsv != w.rsv || g.op != w.op || !bytes.Equal(g.payload, w.payload) {
				t.Fatalf("frame %d: %+v, sent %+v", i, g, w)
			}
		}
	})
}

func unmask(p []byte, key [4]byte) { frame.MaskCopy(p, p, key, 0) }

// decodeClient decodes b as a server would (internal/frame), checking
// every RFC 6455 rule for a client's frames.
func decodeClient(t *testing.T, b []byte, deflate bool) []sent {
	var fs []sent
	inMsg, closed := false, false
	for len(b) > 0 {
		h, n, err := frame.Parse(b)
		if err != nil {
			t.Fatalf("frame %d: %v", len(fs), err)
		}
		if !h.Masked {
			t.Fatalf("frame %d not masked", len(fs))
		}
		if closed {
			t.Fatalf("frame %d after the close frame", len(fs))
		}
		if int64(len(b)-n) < h.Length {
			t.Fatalf("frame %d cut short", len(fs))
		}
		p := append([]byte(nil), b[n:n+int(h.Length)]...)
		unmask(p, h.Mask)
		b = b[n+int(h.Length):]
		switch {
		case h.Opcode.IsControl():
			if h.RSV != 0 {
				t.Fatalf("frame %d: RSV on a control frame", len(fs))
			}
			if h.Opcode == frame.OpClose {
				if _, _, err := frame.ParseClose(p); err != nil || len(p) > 0 && int(p[0])<<8|int(p[1]) == frame.CloseNoStatus {
					t.Fatalf("frame %d: close payload % x: %v", len(fs), p, err)
				}
				closed = true
			}
		case h.Opcode == frame.OpContinuation:
			if !inMsg || h.RSV != 0 {
				t.Fatalf("frame %d: continuation (in message %v, RSV %#x)", len(fs), inMsg, h.RSV)
			}
			inMsg = !h.Fin
		default:
			if inMsg || h.RSV != 0 && !(deflate && h.RSV == frame.RSV1) {
				t.Fatalf("frame %d: %s frame (in message %v, RSV %#x)", len(fs), h.Opcode, inMsg, h.RSV)
			}
			inMsg = !h.Fin
		}
		fs = append(fs, sent{h.Fin, h.RSV, h.Opcode, p})
	}
	return fs
}
