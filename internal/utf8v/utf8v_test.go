package utf8v

import (
	"testing"
	"unicode/utf8"
)

func feed(chunks ...[]byte) (ok bool, done bool) {
	var v Validator
	for _, c := range chunks {
		if !v.Write(c) {
			return false, false
		}
	}
	return true, v.Done()
}

func TestSplitsMatchUTF8Valid(t *testing.T) {
	inputs := [][]byte{
		[]byte("hello"), []byte("κόσμε"), []byte("\xf0\x9f\x98\x80 smile"),
		{0xed, 0xa0, 0x80}, {0xf4, 0x90, 0x80, 0x80}, {0xc0, 0xaf}, {0xe0, 0x80, 0xaf},
		{0xce, 0xba, 0xe1, 0xbd}, {0xff}, []byte("a\xc3"), {0xf0, 0x9f, 0x98},
		[]byte("Hello-µ@ßöäüàá-UTF-8!!"), {0xef, 0xbf, 0xbf}, {0xf4, 0x8f, 0xbf, 0xbf},
	}
	for _, in := range inputs {
		want := utf8.Valid(in)
		for i := 0; i <= len(in); i++ {
			for j := i; j <= len(in); j++ {
				ok, done := feed(in[:i], in[i:j], in[j:])
				if got := ok && done; got != want {
					t.Errorf("%x split at %d,%d: got %v want %v", in, i, j, got, want)
				}
			}
		}
	}
}

func TestFailFast(t *testing.T) {
	// Each prefix below can never become valid, whatever follows.
	for _, p := range [][]byte{{0xf4, 0x90}, {0xed, 0xa0}, {0xe0, 0x80}, {0xc0}, {0xf5}, {0xce, 0xba, 0xe1, 0xbd, 0xbd, 0xff}} {
		var v Validator
		if v.Write(p) {
			t.Errorf("%x: accepted an impossible prefix", p)
		}
	}
}

func FuzzValidator(f *testing.F) {
	f.Add([]byte("κόσμε"), uint8(3))
	f.Add([]byte{0xf4, 0x90, 0x80, 0x80}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, step uint8) {
		s := int(step)%7 + 1
		var v Validator
		ok := true
		for i := 0; i < len(b) && ok; i += s {
			ok = v.Write(b[i:min(i+s, len(b))])
		}
		if got, want := ok && v.Done(), utf8.Valid(b); got != want {
			t.Fatalf("%x step %d: got %v want %v", b, s, got, want)
		}
	})
}
