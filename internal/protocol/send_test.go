package protocol

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/internal/frame"
)

// testKey is the masking key of the send tests.
var testKey = [4]byte{0x01, 0x02, 0x03, 0x04}

// wire is the reference encoding of a client frame: the header bytes given
// in hex (without the key), the key, then payload XOR the key byte by byte.
func wire(hdr, payload string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(hdr, " ", ""))
	if err != nil {
		panic(err)
	}
	b = append(b, testKey[:]...)
	for i := range len(payload) {
		b = append(b, payload[i]^testKey[i%4])
	}
	return b
}

// sendStep is one AppendFrame call and what it must give: the frame's
// bytes, or err (and no bytes).
type sendStep struct {
	fin     bool
	rsv     byte
	op      frame.Opcode
	payload string
	want    []byte
	err     error
}

var (
	long126 = strings.Repeat("a", 126)
	long64k = strings.Repeat("b", 65536)
	ctl125  = strings.Repeat("c", 125)
	ctl126  = strings.Repeat("c", 126)
)

var sendCases = []struct {
	name  string
	cfg   Config
	steps []sendStep
}{
	{name: "text", steps: []sendStep{
		{fin: true, op: text, payload: "hello", want: []byte{0x81, 0x85, 1, 2, 3, 4, 'h' ^ 1, 'e' ^ 2, 'l' ^ 3, 'l' ^ 4, 'o' ^ 1}},
	}},
	{name: "empty binary", steps: []sendStep{{fin: true, op: bin, want: wire("82 80", "")}}},
	{name: "16-bit length", steps: []sendStep{{fin: true, op: bin, payload: long126, want: wire("82 fe 00 7e", long126)}}},
	{name: "64-bit length", steps: []sendStep{{fin: true, op: bin, payload: long64k, want: wire("82 ff 00 00 00 00 00 01 00 00", long64k)}}},
	{name: "fragments with control frames between", steps: []sendStep{
		{op: text, payload: "he", want: wire("01 82", "he")},
		{fin: true, op: ping, payload: "p", want: wire("89 81", "p")},
		{op: cont, payload: "", want: wire("00 80", "")},
		{fin: true, op: pong, payload: ctl125, want: wire("8a fd", ctl125)},
		{fin: true, op: cont, payload: "llo", want: wire("80 83", "llo")},
		{fin: true, op: bin, payload: "next", want: wire("82 84", "next")},
	}},
	{name: "continuation with no message", steps: []sendStep{
		{fin: true, op: cont, payload: "x", err: ErrFragment},
		{fin: true, op: text, payload: "x", want: wire("81 81", "x")}, // the refusal changed nothing
	}},
	{name: "new message inside a fragmented one", steps: []sendStep{
		{op: bin, payload: "a", want: wire("02 81", "a")},
		{fin: true, op: text, payload: "b", err: ErrFragment},
		{fin: true, op: bin, payload: "b", err: ErrFragment},
		{fin: true, op: cont, payload: "b", want: wire("80 81", "b")},
	}},
	{name: "control payload over 125 bytes", steps: []sendStep{
		{fin: true, op: ping, payload: ctl126, err: ErrControlTooLong},
		{fin: true, op: pong, payload: ctl126, err: ErrControlTooLong},
		{fin: true, op: ping, payload: ctl125, want: wire("89 fd", ctl125)},
	}},
	{name: "fragmented control frame", steps: []sendStep{{op: ping, err: ErrFragment}}},
	{name: "RSV1 without deflate", steps: []sendStep{{fin: true, rsv: frame.RSV1, op: text, payload: "z", err: ErrRSV}}},
	{name: "RSV1 on a compressed message's first frame only", cfg: Config{Deflate: true}, steps: []sendStep{
		{rsv: frame.RSV1, op: bin, payload: "z", want: wire("42 81", "z")},
		{rsv: frame.RSV1, op: cont, payload: "z", err: ErrRSV},
		{fin: true, rsv: frame.RSV1, op: ping, err: ErrRSV},
		{fin: true, op: cont, payload: "z", want: wire("80 81", "z")},
		{fin: true, rsv: frame.RSV1, op: text, payload: "y", want: wire("c1 81", "y")},
	}},
	{name: "RSV2 and RSV3", cfg: Config{Deflate: true}, steps: []sendStep{
		{fin: true, rsv: frame.RSV2, op: text, err: ErrRSV},
		{fin: true, rsv: frame.RSV1 | frame.RSV3, op: text, err: ErrRSV},
	}},
	{name: "reserved opcodes", steps: []sendStep{
		{fin: true, op: 3, err: ErrOpcode},
		{fin: true, op: 0xb, err: ErrOpcode},
	}},
	{name: "bad close payloads", steps: []sendStep{
		{fin: true, op: clos, payload: "\x03", err: ErrCloseCode},
		{fin: true, op: clos, payload: "\x03\xed", err: ErrCloseCode},     // 1005
		{fin: true, op: clos, payload: "\x03\xee", err: ErrCloseCode},     // 1006
		{fin: true, op: clos, payload: "\x13\x88", err: ErrCloseCode},     // 5000
		{fin: true, op: clos, payload: "\x03\xe8\xff", err: ErrCloseCode}, // reason not UTF-8
		{fin: true, op: clos, payload: "\x03\xe8" + ctl126, err: ErrControlTooLong},
		{fin: true, op: text, payload: "open", want: wire("81 84", "open")}, // none of them closed
	}},
	{name: "nothing after the close frame", steps: []sendStep{
		{fin: true, op: clos, payload: "\x03\xe8ok", want: wire("88 84", "\x03\xe8ok")},
		{fin: true, op: text, payload: "late", err: ErrCloseSent},
		{fin: true, op: ping, err: ErrCloseSent},
		{fin: true, op: pong, err: ErrCloseSent},
		{fin: true, op: clos, err: ErrCloseSent},
	}},
	{name: "close inside a fragmented message", steps: []sendStep{
		{op: text, payload: "a", want: wire("01 81", "a")},
		{fin: true, op: clos, want: wire("88 80", "")},
		{fin: true, op: cont, payload: "b", err: ErrCloseSent},
	}},
}

// Each AppendFrame gives the reference bytes of its frame, masked with the
// key given, or refuses it with the rule it breaks and records nothing.
func TestAppendFrame(t *testing.T) {
	for _, tc := range sendCases {
		t.Run(tc.name, func(t *testing.T) {
			e := New(tc.cfg)
			for i, s := range tc.steps {
				// CheckFrame refuses what AppendFrame refuses, except
				// a close payload, which it does not see.
				if cerr := e.CheckFrame(s.fin, s.rsv, s.op, int64(len(s.payload))); cerr != s.err && (s.op != clos || cerr != nil) {
					t.Fatalf("step %d: CheckFrame %v, want %v", i, cerr, s.err)
				}
				prefix := []byte("kept")
				b, err := e.AppendFrame(prefix, s.fin, s.rsv, s.op, []byte(s.payload), testKey)
				if err != s.err {
					t.Fatalf("step %d: error %v, want %v", i, err, s.err)
				}
				if !bytes.HasPrefix(b, []byte("kept")) {
					t.Fatalf("step %d: dst's bytes not kept", i)
				}
				if got := b[4:]; !bytes.Equal(got, s.want) && (len(got) > 0 || len(s.want) > 0) {
					t.Fatalf("step %d: % x\nwant % x", i, got, s.want)
				}
			}
		})
	}
}

// A frame written in pieces (AppendHeader, then Mask) is the frame
// AppendFrame gives; close frames must go through AppendFrame.
func TestAppendHeaderMask(t *testing.T) {
	payload := []byte(strings.Repeat("0123456789", 7001))
	whole, err := New(Config{}).AppendFrame(nil, true, 0, bin, payload, testKey)
	if err != nil {
		t.Fatal(err)
	}
	e := New(Config{})
	b, err := e.AppendHeader(nil, true, 0, bin, int64(len(payload)), testKey)
	if err != nil {
		t.Fatal(err)
	}
	pos := 0
	for rest := payload; len(rest) > 0; {
		n := min(len(rest), 997) // pieces that do not keep the key's phase
		piece := make([]byte, n)
		pos = Mask(piece, rest[:n], testKey, pos)
		b = append(b, piece...)
		rest = rest[n:]
	}
	if !bytes.Equal(b, whole) {
		t.Fatal("pieces differ from the whole frame")
	}
	if _, err := e.AppendHeader(nil, false, 0, cont, 1, testKey); err != ErrFragment {
		t.Fatalf("continuation after a whole message: %v", err)
	}
	if _, err := e.AppendHeader(nil, true, 0, clos, 2, testKey); err != ErrOpcode {
		t.Fatalf("close frame header: %v", err)
	}
	if e.CloseSent() {
		t.Fatal("a refused close header closed")
	}
}

// appendClose is how the Conn sends a close: ClosePayload, then AppendFrame.
func appendClose(e *Engine, dst []byte, code int, reason string, key [4]byte) ([]byte, error) {
	var p [frame.MaxControlPayload]byte
	payload, err := ClosePayload(p[:0], code, reason)
	if err != nil {
		return dst, err
	}
	return e.AppendFrame(dst, true, 0, frame.OpClose, payload, key)
}

// One rule for close codes: what a close may be given.
func TestSendableCloseCode(t *testing.T) {
	for code, want := range map[int]bool{
		0: false, 999: false, 1000: true, 1003: true, 1004: false, 1005: true,
		1006: false, 1007: true, 1014: true, 1015: false, 2999: false, 3000: true, 4999: true, 5000: false,
	} {
		if SendableCloseCode(code) != want {
			t.Errorf("SendableCloseCode(%d) = %v", code, !want)
		}
		_, err := ClosePayload(nil, code, "")
		if (err == nil) != want {
			t.Errorf("ClosePayload(%d): %v", code, err)
		}
	}
}

// Who started the close is the engine's to say.
func TestStartedClose(t *testing.T) {
	e := New(Config{})
	e.MarkClosed()
	if e.StartedClose() {
		t.Fatal("MarkClosed started a close handshake")
	}
	d := run(Config{}, fr(true, 0, clos, ""), 0)
	code, ok := d.e.CloseReply()
	if !ok {
		t.Fatal("no reply")
	}
	if _, err := appendClose(d.e, nil, code, "", testKey); err != nil || d.e.StartedClose() {
		t.Fatalf("echo: %v, started %v", err, d.e.StartedClose())
	}
	e = New(Config{})
	if _, err := appendClose(e, nil, frame.CloseNoStatus, "", testKey); err != nil || !e.StartedClose() {
		t.Fatalf("our close: %v, started %v", err, e.StartedClose())
	}
	if code, ok := e.FailClose(1002); ok {
		t.Fatalf("FailClose after our close: %d", code)
	}
}

// Sending allocates nothing when dst has room.
func TestSendNoAllocs(t *testing.T) {
	e := New(Config{})
	buf := make([]byte, 0, 256)
	p := []byte(strings.Repeat("x", 64))
	allocs := testing.AllocsPerRun(1000, func() {
		b, err := e.AppendFrame(buf, true, 0, bin, p, MaskKey())
		if err != nil || len(b) != 2+4+64 {
			panic(err)
		}
		if _, err := e.AppendFrame(buf, true, 0, ping, p, testKey); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per frame", allocs)
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	e := New(Config{})
	buf := make([]byte, 0, 256)
	p := []byte(strings.Repeat("x", 64))
	b.ReportAllocs()
	for range b.N {
		_, _ = e.AppendFrame(buf, true, 0, bin, p, testKey)
	}
}
