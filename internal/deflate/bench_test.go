package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"

	kpflate "github.com/klauspost/compress/flate"
)

// jsonMessages returns n distinct JSON-like messages of about size bytes
// each: the same keys in every message (what context takeover exploits),
// varied values, deterministic.
func jsonMessages(n, size int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"}
	msgs := make([][]byte, n)
	for i := range msgs {
		var b bytes.Buffer
		b.WriteString(`{"type":"update","seq":` + strconv.Itoa(i) + `,"items":[`)
		for j := 0; b.Len() < size-120; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":%d,"name":"%s-%s","price":%d.%02d,"qty":%d,"active":%t,"tag":"%x"}`,
				r.IntN(1000000), words[r.IntN(len(words))], words[r.IntN(len(words))],
				r.IntN(1000), r.IntN(100), r.IntN(50), r.IntN(2) == 0, r.Uint32())
		}
		b.WriteString(`],"ok":true}`)
		for b.Len() < size {
			b.WriteByte(' ')
		}
		msgs[i] = b.Bytes()[:size]
	}
	return msgs
}

// flateWriter and flateReader abstract the two implementations for the
// comparison benchmark below.
type flateWriter interface {
	io.Writer
	Flush() error
	Reset(io.Writer)
}

type impl struct {
	name      string
	newWriter func(w io.Writer, level int) flateWriter
	newReader func(r io.Reader) io.ReadCloser
}

var impls = []impl{
	{"std",
		func(w io.Writer, level int) flateWriter { fw, _ := stdflate.NewWriter(w, level); return fw },
		func(r io.Reader) io.ReadCloser { return stdflate.NewReader(r) }},
	{"klauspost",
		func(w io.Writer, level int) flateWriter { fw, _ := kpflate.NewWriter(w, level); return fw },
		func(r io.Reader) io.ReadCloser { return kpflate.NewReader(r) }},
}

// BenchmarkFlateImpl compares compress/flate with klauspost/compress/flate
// in the exact pattern permessage-deflate uses: one message per op, sync
// flush at message end; with context takeover one persistent writer, without
// it a Reset per message (what a pooled writer costs); decompression resets a
// reader per message, with the previous 32 KiB as dictionary (takeover) or
// none.
func BenchmarkFlateImpl(b *testing.B) {
	msgs := jsonMessages(64, 4096)
	for _, im := range impls {
		for _, level := range []int{1, 6} {
			for _, takeover := range []bool{true, false} {
				name := fmt.Sprintf("%s/level=%d/takeover=%t", im.name, level, takeover)
				b.Run("compress/"+name, func(b *testing.B) {
					var out bytes.Buffer
					fw := im.newWriter(&out, level)
					b.SetBytes(4096)
					b.ReportAllocs()
					var total int
					i := 0
					for b.Loop() {
						out.Reset()
						if !takeover {
							fw.Reset(&out)
						}
						fw.Write(msgs[i%len(msgs)])
						fw.Flush()
						total += out.Len() - 4
						i++
					}
					b.ReportMetric(float64(total)/float64(i)/4096, "ratio")
				})
				b.Run("decompress/"+name, func(b *testing.B) {
					// Precompute the compressed messages.
					var out bytes.Buffer
					fw := im.newWriter(&out, level)
					comp := make([][]byte, len(msgs))
					for i, m := range msgs {
						out.Reset()
						if !takeover {
							fw.Reset(&out)
						}
						fw.Write(m)
						fw.Flush()
						comp[i] = bytes.Clone(out.Bytes()) // keeps the 00 00 ff ff tail
					}
					fr := im.newReader(bytes.NewReader(nil))
					var src bytes.Reader
					var hist []byte
					buf := make([]byte, 8192)
					b.SetBytes(4096)
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						k := i % len(msgs)
						if k == 0 {
							hist = hist[:0]
						}
						src.Reset(comp[k])
						var dict []byte
						if takeover {
							dict = hist
						}
						fr.(interface {
							Reset(io.Reader, []byte) error
						}).Reset(&src, dict)
						n, err := io.ReadFull(fr, buf[:4096])
						if err != nil || n != 4096 {
							b.Fatal(n, err)
						}
						if takeover {
							hist = append(hist, buf[:n]...)
							if len(hist) > 32768 {
								hist = append(hist[:0], hist[len(hist)-32768:]...)
							}
						}
						i++
					}
				})
			}
		}
	}
}

// BenchmarkCompressor and BenchmarkDecompressor measure this package's own
// paths (klauspost/compress underneath, DefaultLevel) on the same 4 KiB
// JSON-like messages.
func BenchmarkCompressor(b *testing.B) {
	msgs := jsonMessages(64, 4096)
	for _, takeover := range []bool{true, false} {
		b.Run(fmt.Sprintf("takeover=%t", takeover), func(b *testing.B) {
			c := NewCompressor(Options{}, Params{ClientNoContextTakeover: !takeover})
			dst := make([]byte, 0, 8192)
			b.SetBytes(4096)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				dst, _ = c.AppendCompress(dst[:0], msgs[i%len(msgs)])
				i++
			}
		})
		b.Run(fmt.Sprintf("stream/takeover=%t", takeover), func(b *testing.B) {
			c := NewCompressor(Options{}, Params{ClientNoContextTakeover: !takeover})
			var out bytes.Buffer
			b.SetBytes(4096)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				out.Reset()
				w := c.NewWriter(&out)
				w.Write(msgs[i%len(msgs)])
				w.Close()
				i++
			}
		})
	}
}

func BenchmarkDecompressor(b *testing.B) {
	msgs := jsonMessages(64, 4096)
	for _, takeover := range []bool{true, false} {
		p := Params{ClientNoContextTakeover: !takeover, ServerNoContextTakeover: !takeover}
		c := NewCompressor(Options{}, p)
		comp := make([][]byte, len(msgs))
		for i, m := range msgs {
			comp[i], _ = c.AppendCompress(nil, m)
		}
		b.Run(fmt.Sprintf("takeover=%t", takeover), func(b *testing.B) {
			d := NewDecompressor(p)
			dst := make([]byte, 0, 8192)
			b.SetBytes(4096)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := i % len(msgs)
				if k == 0 {
					d = NewDecompressor(p) // the stream restarts
				}
				var err error
				if dst, err = d.AppendDecompress(dst[:0], comp[k], 1<<20); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
