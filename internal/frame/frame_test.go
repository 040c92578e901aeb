package frame

import (
	"bytes"
	"errors"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	for _, l := range []int64{0, 1, 125, 126, 127, 65535, 65536, 1 << 32, 1<<63 - 1} {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, RSV: RSV1, Opcode: OpBinary, Masked: masked, Length: l}
			if masked {
				h.Mask = [4]byte{1, 2, 3, 4}
			}
			b := Append(nil, h)
			got, n, err := Parse(b)
			if err != nil || n != len(b) || got != h {
				t.Fatalf("len %d masked %v: got %+v n=%d err=%v", l, masked, got, n, err)
			}
			want := 2
			switch {
			case l > 65535:
				want += 8
			case l > 125:
				want += 2
			}
			if masked {
				want += 4
			}
			if len(b) != want {
				t.Errorf("len %d: header is %d bytes, want %d (shortest form)", l, len(b), want)
			}
			// Every strict prefix is short, and says how much is needed.
			for i := 0; i < len(b); i++ {
				if _, need, err := Parse(b[:i]); !errors.Is(err, ErrShort) || (i >= 2 && need != len(b)) {
					t.Fatalf("prefix %d: need=%d err=%v", i, need, err)
				}
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"reserved opcode 3", []byte{0x83, 0}, ErrReservedOpcode},
		{"reserved opcode 0xB", []byte{0x8B, 0}, ErrReservedOpcode},
		{"fragmented ping", []byte{0x09, 0}, ErrFragmentedCtl},
		{"long ping", []byte{0x89, 126, 0, 126}, ErrControlTooLong},
		{"64-bit top bit", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrLengthTopBit},
	}
	for _, c := range cases {
		if _, _, err := Parse(c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v want %v", c.name, err, c.want)
		}
	}
}

func naiveMask(key [4]byte, pos int, b []byte) {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
}

func TestMaskMatchesNaive(t *testing.T) {
	key := [4]byte{0xde, 0xad, 0xbe, 0xef}
	for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 255, 256, 257, 511, 512, 513, 1000, 4096 + 5} {
		for pos := 0; pos < 4; pos++ {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(i * 7)
			}
			want := bytes.Clone(src)
			naiveMask(key, pos, want)
			got := bytes.Clone(src)
			if next := Mask(key, pos, got); next != (pos+n)&3 {
				t.Fatalf("n=%d pos=%d: next pos %d", n, pos, next)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("n=%d pos=%d: in-place mask differs", n, pos)
			}
			dst := make([]byte, n)
			MaskCopy(dst, src, key, pos)
			if !bytes.Equal(dst, want) {
				t.Fatalf("n=%d pos=%d: MaskCopy differs", n, pos)
			}
		}
	}
}

func TestMaskInPieces(t *testing.T) {
	key := [4]byte{9, 8, 7, 6}
	src := bytes.Repeat([]byte("abcdefghij"), 100)
	want := bytes.Clone(src)
	naiveMask(key, 0, want)
	got := bytes.Clone(src)
	pos := 0
	for i := 0; i < len(got); i += 13 {
		pos = Mask(key, pos, got[i:min(i+13, len(got))])
	}
	if !bytes.Equal(got, want) {
		t.Fatal("masking in pieces differs from masking at once")
	}
}

func TestClosePayload(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		code int
		err  error
	}{
		{nil, CloseNoStatus, nil},
		{[]byte{3}, 0, ErrCloseShort},
		{[]byte{0x03, 0xe8}, 1000, nil},
		{[]byte{0x03, 0xe8, 'o', 'k'}, 1000, nil},
		{[]byte{0x03, 0xed}, 1005, ErrCloseCode},
		{[]byte{0x03, 0xee}, 1006, ErrCloseCode},
		{[]byte{0x03, 0xe7}, 999, ErrCloseCode},
		{[]byte{0x13, 0x88}, 5000, ErrCloseCode},
		{[]byte{0x0f, 0xa0}, 4000, nil},
		{[]byte{0x03, 0xe8, 0xff}, 1000, ErrCloseReasonUTF8},
	} {
		code, _, err := ParseClose(c.in)
		if !errors.Is(err, c.err) || (err == nil && code != c.code) {
			t.Errorf("%x: code %d err %v; want %d %v", c.in, code, err, c.code, c.err)
		}
	}
	long := string(bytes.Repeat([]byte("é"), 100)) // 200 bytes
	p := AppendClose(nil, 1000, long)
	if len(p) > MaxControlPayload {
		t.Fatalf("close payload %d bytes", len(p))
	}
	if _, _, err := ParseClose(p); err != nil {
		t.Fatalf("truncated reason invalid: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range [][]byte{
		{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}, {0x82, 126, 1, 0}, {0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0},
		{0x89, 0x80, 1, 2, 3, 4}, {0x88, 2, 3, 0xe8}, {0x0f, 0}, {0xff, 0xff},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := Parse(b)
		if errors.Is(err, ErrShort) {
			if n <= len(b) && len(b) >= 2 {
				t.Fatalf("short with need %d <= have %d", n, len(b))
			}
			return
		}
		if n > len(b) || n < 2 || n > MaxHeaderLen {
			t.Fatalf("bad header length %d for %d bytes", n, len(b))
		}
		if err != nil {
			return
		}
		if h.Length < 0 {
			t.Fatal("negative length")
		}
		// Re-encoding a parsed header and parsing it again is stable.
		h2, _, err := Parse(Append(nil, h))
		if err != nil || h2 != h {
			t.Fatalf("re-parse: %+v vs %+v (%v)", h2, h, err)
		}
	})
}

func FuzzParseClose(f *testing.F) {
	f.Add([]byte{0x03, 0xe8, 'o', 'k'})
	f.Add([]byte{0x03})
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClose(p)
		if err != nil {
			return
		}
		if len(p) > 0 {
			q := AppendClose(nil, code, reason)
			if !bytes.Equal(p, q) && len(p) <= MaxControlPayload {
				t.Fatalf("round trip %x -> %x", p, q)
			}
		}
	})
}

func BenchmarkMask(b *testing.B) {
	key := [4]byte{1, 2, 3, 4}
	for _, n := range []int{64, 4096, 1 << 20} {
		buf := make([]byte, n)
		b.Run("mask/"+itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				Mask(key, 0, buf)
			}
		})
		src := make([]byte, n)
		b.Run("maskcopy/"+itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				MaskCopy(buf, src, key, 0)
			}
		})
		b.Run("copy/"+itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, src)
			}
		})
	}
}

func itoa(n int) string {
	switch {
	case n >= 1<<20:
		return string(rune('0'+n>>20)) + "MiB"
	case n >= 1024:
		return fmtInt(n>>10) + "KiB"
	}
	return fmtInt(n) + "B"
}

func fmtInt(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return fmtInt(n/10) + string(rune('0'+n%10))
}
