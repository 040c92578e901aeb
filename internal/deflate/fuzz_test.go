package deflate

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func FuzzAccept(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits=10; server_no_context_takeover",
		`permessage-deflate; client_max_window_bits="9"; server_max_window_bits=8`,
		`permessage-deflate; client_no_context_takeover, x; y="a\"b"`,
		"PerMessage-Deflate ;\tserver_max_window_bits = 15",
		"permessage-deflate; server_max_window_bits=010",
		"permessage-deflate;;",
		`permessage-deflate; a="\`,
		"",
		" , ,",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(0xff))
	}
	f.Fuzz(func(t *testing.T, header string, flags uint8) {
		o := Options{
			ClientNoContextTakeover: flags&1 != 0,
			ServerNoContextTakeover: flags&2 != 0,
			ClientMaxWindowBits:     []int{0, NotOffered, 8, 12}[flags>>2&3],
			ServerMaxWindowBits:     []int{0, 9, 12, 15}[flags>>4&3],
		}
		exts, perr := ParseExtensions(strings.Split(header, "\n"))
		if perr == nil {
			for _, e := range exts {
				if !isToken(e.Name) {
					t.Fatalf("extension name %q is not a token", e.Name)
				}
				for _, p := range e.Params {
					if !isToken(p.Name) || (p.HasValue && !isToken(p.Value)) {
						t.Fatalf("parameter %+v is not made of tokens", p)
					}
				}
			}
		}
		p, ok, err := o.Accept(strings.Split(header, "\n"))
		if err != nil {
			if !errors.Is(err, ErrNegotiation) || ok {
				t.Fatalf("error %v (ok %t) does not match ErrNegotiation", err, ok)
			}
			return
		}
		if perr != nil {
			t.Fatalf("Accept succeeded on a header ParseExtensions rejects: %v", perr)
		}
		if !ok {
			if len(exts) != 0 {
				t.Fatalf("declined with extensions %+v", exts)
			}
			return
		}
		if p.ClientMaxWindowBits < 8 || p.ClientMaxWindowBits > 15 || p.ServerMaxWindowBits < 8 || p.ServerMaxWindowBits > 15 {
			t.Fatalf("window bits out of range: %+v", p)
		}
		if o.ServerMaxWindowBits != 0 && p.ServerMaxWindowBits > o.ServerMaxWindowBits {
			t.Fatalf("server window %d above the offered %d", p.ServerMaxWindowBits, o.ServerMaxWindowBits)
		}
		if o.ClientMaxWindowBits > 0 && p.ClientMaxWindowBits > o.ClientMaxWindowBits {
			t.Fatalf("client window %d above the offered %d", p.ClientMaxWindowBits, o.ClientMaxWindowBits)
		}
		if o.ClientMaxWindowBits == NotOffered && p.ClientMaxWindowBits != 15 {
			t.Fatalf("client window %d not offered", p.ClientMaxWindowBits)
		}
		if o.ServerNoContextTakeover && !p.ServerNoContextTakeover {
			t.Fatal("server_no_context_takeover offered and lost")
		}
	})
}

// FuzzDecompress: arbitrary payloads never panic, never produce more than
// the limit, fail only with the documented errors, and a Decompressor with
// takeover survives a sequence of them (until the first error).
func FuzzDecompress(f *testing.F) {
	c := NewCompressor(Options{Threshold: -1}, Params{})
	for _, m := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte("ab"), 3000), jsonMessages(1, 4096)[0]} {
		comp, _ := c.AppendCompress(nil, m)
		f.Add(comp, uint16(100), false)
		f.Add(comp, uint16(10000), true)
	}
	f.Add(bomb(f, 2), uint16(5000), false)
	f.Add([]byte{0xff, 0xff}, uint16(1), true)
	f.Add([]byte{0x01, 0x00, 0x00, 0xff, 0xff, 0x03}, uint16(1), false)
	f.Fuzz(func(t *testing.T, payload []byte, limit uint16, streaming bool) {
		for _, takeover := range []bool{true, false} {
			d := NewDecompressor(Params{ServerNoContextTakeover: !takeover, ServerMaxWindowBits: 10})
			for range 2 { // two messages: the second uses the first's history
				var out []byte
				var err error
				if streaming {
					out, err = io.ReadAll(d.NewReader(iotest.HalfReader(bytes.NewReader(payload)), int64(limit)))
				} else {
					out, err = d.AppendDecompress(nil, payload, int64(limit))
				}
				if len(out) > int(limit) {
					t.Fatalf("%d bytes out with limit %d", len(out), limit)
				}
				if err != nil {
					if !errors.Is(err, ErrTooBig) && !errors.Is(err, ErrCorrupt) {
						t.Fatalf("undocumented error %v", err)
					}
					break
				}
			}
		}
	})
}
