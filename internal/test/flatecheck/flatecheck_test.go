package flatecheck

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

var syncTail = []byte{0, 0, 0xff, 0xff}

// testData is compressible text with repeats both near and far apart.
func testData(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, `{"id":%d,"name":"user%d","ok":%v},`, r.IntN(5000), r.IntN(300), r.IntN(2) == 0)
		if r.IntN(8) == 0 {
			for range 64 {
				b.WriteByte(byte(r.Uint32()))
			}
		}
	}
	return b.Bytes()[:n]
}

// flush compresses p with w (a sync flush) and returns the new output
// without the 00 00 ff ff tail, as a permessage-deflate message.
func flush(t *testing.T, w *flate.Writer, buf *bytes.Buffer, p []byte) []byte {
	t.Helper()
	buf.Reset()
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	msg := bytes.Clone(buf.Bytes())
	if !bytes.HasSuffix(msg, syncTail) {
		t.Fatalf("flush output does not end with 00 00 ff ff")
	}
	return bytes.TrimSuffix(msg, syncTail)
}

func TestRoundTripCompressFlate(t *testing.T) {
	data := testData(100 << 10)
	for _, level := range []int{flate.HuffmanOnly, flate.BestSpeed, 5, flate.DefaultCompression, flate.BestCompression} {
		// One-shot, closed stream (final block).
		var buf bytes.Buffer
		w, err := flate.NewWriter(&buf, level)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
		out, maxDist, err := Inflate(buf.Bytes())
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("level %d: %v (%d of %d bytes, equal %t)", level, err, len(out), len(data), bytes.Equal(out, data))
		}
		switch {
		case level == flate.HuffmanOnly && maxDist != 0:
			t.Errorf("Huffman-only: max distance %d, want 0", maxDist)
		case level != flate.HuffmanOnly && (maxDist <= 256 || maxDist > MaxWindow):
			t.Errorf("level %d: max distance %d, want within (256, %d]", level, maxDist, MaxWindow)
		}

		// Two messages with context takeover: the second refers into the
		// first.
		buf.Reset()
		w.Reset(&buf)
		first := flush(t, w, &buf, data[:50<<10])
		second := flush(t, w, &buf, data[50<<10:])
		z := &Inflater{Takeover: true}
		out1, _, err := z.Inflate(append(first, syncTail...))
		if err != nil || !bytes.Equal(out1, data[:50<<10]) {
			t.Fatalf("level %d: first message: %v (%d bytes)", level, err, len(out1))
		}
		out2, _, err := z.Inflate(append(second, syncTail...))
		if err != nil || !bytes.Equal(out2, data[50<<10:]) {
			t.Fatalf("level %d: second message: %v (%d bytes)", level, err, len(out2))
		}
		if level == flate.HuffmanOnly {
			continue
		}
		// Without takeover the second message refers to data it lacks.
		if _, _, err := (&Inflater{}).Inflate(append(second, syncTail...)); err == nil {
			t.Errorf("level %d: second message decoded without the first's history", level)
		}
		// A 256-byte window rejects what a 32 KiB window emits.
		small := &Inflater{Window: 256}
		if _, _, err := small.Inflate(append(first, syncTail...)); !errors.Is(err, ErrWindow) {
			t.Errorf("level %d: 256-byte window: got %v, want ErrWindow", level, err)
		}
	}
}

// bitWriter builds hand-made fixed-Huffman streams.
type bitWriter struct {
	out []byte
	n   uint // bits used in the last byte
}

// bits writes v's n low bits, least significant first (header and extra
// bits).
func (w *bitWriter) bits(v int, n uint) {
	for i := range n {
		if w.n == 0 {
			w.out = append(w.out, 0)
		}
		w.out[len(w.out)-1] |= byte(v>>i&1) << w.n
		w.n = (w.n + 1) % 8
	}
}

// code writes a Huffman code of n bits, most significant first.
func (w *bitWriter) code(c int, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.bits(c>>i&1, 1)
	}
}

func (w *bitWriter) lit(b byte) {
	if b < 144 {
		w.code(0x30+int(b), 8)
	} else {
		w.code(0x190+int(b)-144, 9)
	}
}

// match writes a length 3..10 (symbols 257..264, no extra bits) and a
// distance given as symbol and extra bits.
func (w *bitWriter) match(length, dsym, extra int, nextra uint) {
	w.code(length-2, 7) // symbol 254+length: 7-bit code length-2
	w.code(dsym, 5)
	w.bits(extra, nextra)
}

// fixedBlock returns a final fixed-Huffman block: lits, then one match.
func fixedBlock(lits string, length, dsym, extra int, nextra uint) []byte {
	var w bitWriter
	w.bits(1, 1) // BFINAL
	w.bits(1, 2) // BTYPE 01: fixed codes
	for i := range len(lits) {
		w.lit(lits[i])
	}
	if length > 0 {
		w.match(length, dsym, extra, nextra)
	}
	w.code(0, 7) // end of block
	return w.out
}

func TestHandMadeStreams(t *testing.T) {
	// "abc", then length 6 at distance 3 (symbol 2): "abcabcabc".
	s := fixedBlock("abc", 6, 2, 0, 0)
	if ref, err := io.ReadAll(flate.NewReader(bytes.NewReader(s))); err != nil || string(ref) != "abcabcabc" {
		t.Fatalf("compress/flate on the hand-made stream: %q, %v", ref, err)
	}
	out, maxDist, err := Inflate(s)
	if err != nil || string(out) != "abcabcabc" || maxDist != 3 {
		t.Fatalf("got %q, max distance %d, %v; want abcabcabc, 3", out, maxDist, err)
	}
	if _, _, err := (&Inflater{Window: 3}).Inflate(s); err != nil {
		t.Errorf("distance 3 in a 3-byte window: %v", err)
	}
	if _, _, err := (&Inflater{Window: 2}).Inflate(s); !errors.Is(err, ErrWindow) {
		t.Errorf("distance 3 in a 2-byte window: got %v, want ErrWindow", err)
	}

	// Distance 4 (symbol 3) after 3 bytes: before the start.
	if out, _, err := Inflate(fixedBlock("abc", 3, 3, 0, 0)); err == nil || errors.Is(err, ErrWindow) || out != nil {
		t.Errorf("distance before the start: got %q, %v", out, err)
	}

	// Truncated: every proper prefix of the stream fails.
	for n := range len(s) {
		if out, _, err := Inflate(s[:n]); n > 0 && !errors.Is(err, ErrTruncated) {
			t.Errorf("prefix of %d bytes: got %q, %v; want ErrTruncated", n, out, err)
		}
	}

	// Block type 3.
	if _, _, err := Inflate([]byte{0x07}); err == nil {
		t.Error("block type 3 accepted")
	}
}

func TestTakeoverWindow(t *testing.T) {
	// Message 1: 300 literals. Message 2: length 3 at distance 300 (symbol
	// 16: base 257, 7 extra bits = 43) into message 1.
	lits := make([]byte, 300)
	for i := range lits {
		lits[i] = 'a' + byte(i%26)
	}
	m1 := fixedBlock(string(lits), 0, 0, 0, 0)
	m2 := fixedBlock("", 3, 16, 43, 7)
	want := string(lits[:3])
	if ref, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(m2), lits)); err != nil || string(ref) != want {
		t.Fatalf("compress/flate on message 2: %q, %v", ref, err)
	}

	z := &Inflater{Takeover: true, Window: 512}
	if out, _, err := z.Inflate(m1); err != nil || !bytes.Equal(out, lits) {
		t.Fatalf("message 1: %v", err)
	}
	out, maxDist, err := z.Inflate(m2)
	if err != nil || string(out) != want || maxDist != 300 {
		t.Fatalf("message 2: got %q, max distance %d, %v; want %q, 300", out, maxDist, err, want)
	}

	// Without takeover, message 2 has nothing to refer to.
	nz := &Inflater{Window: 512}
	nz.Inflate(m1)
	if _, _, err := nz.Inflate(m2); err == nil || errors.Is(err, ErrWindow) {
		t.Errorf("no takeover: got %v, want a before-the-start error", err)
	}

	// With takeover but a 256-byte window the same reference is too far.
	sz := &Inflater{Takeover: true, Window: 256}
	sz.Inflate(m1)
	if _, _, err := sz.Inflate(m2); !errors.Is(err, ErrWindow) {
		t.Errorf("256-byte window: got %v, want ErrWindow", err)
	}

	// A failed message leaves the history as it was.
	ez := &Inflater{Takeover: true, Window: 512}
	ez.Inflate(m1)
	if _, _, err := ez.Inflate(m2[:1]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated message: %v", err)
	}
	if out, _, err := ez.Inflate(m2); err != nil || string(out) != want {
		t.Errorf("after a failed message: got %q, %v", out, err)
	}
}
