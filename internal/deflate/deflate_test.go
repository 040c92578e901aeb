package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/flate"

	"github.com/wsclient/wsclient/internal/test/flatecheck"
	"github.com/wsclient/wsclient/internal/test/race"
)

// stdPeer plays the server with the standard library: it compresses
// messages as a server would (persistent writer with takeover, fresh state
// without) and decompresses the client's messages with an independent
// reader.
type stdPeer struct {
	takeover bool
	buf      bytes.Buffer
	fw       *stdflate.Writer
}

func (s *stdPeer) compress(t *testing.T, msg []byte) []byte {
	t.Helper()
	if s.fw == nil {
		s.fw, _ = stdflate.NewWriter(&s.buf, 5)
	}
	s.buf.Reset()
	if !s.takeover {
		s.fw.Reset(&s.buf)
	}
	s.fw.Write(msg)
	s.fw.Flush()
	out := s.buf.Bytes()
	if !bytes.HasSuffix(out, syncTail[:]) {
		t.Fatal("std flate: no sync tail")
	}
	return bytes.Clone(out[:len(out)-4])
}

func testMessages() [][]byte {
	msgs := jsonMessages(8, 4096)
	r := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 70000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	return append(msgs, nil, []byte("x"), bytes.Repeat([]byte("abc"), 50000), random, msgs[0], msgs[0])
}

// TestRoundTripStdPeer runs all four takeover combinations against
// compress/flate as the peer, in both directions.
func TestRoundTripStdPeer(t *testing.T) {
	msgs := testMessages()
	for _, clientNCT := range []bool{false, true} {
		for _, serverNCT := range []bool{false, true} {
			p := Params{ClientNoContextTakeover: clientNCT, ServerNoContextTakeover: serverNCT, ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}
			t.Run(fmt.Sprintf("clientNCT=%t/serverNCT=%t", clientNCT, serverNCT), func(t *testing.T) {
				// Client -> server: our compressor, std decompressor.
				c := NewCompressor(Options{Threshold: -1}, p)
				var stream bytes.Buffer
				var fr io.ReadCloser
				for i, m := range msgs {
					comp, err := c.AppendCompress(nil, m)
					if err != nil {
						t.Fatal(err)
					}
					var got []byte
					if !clientNCT {
						// One std reader over the continuing stream.
						stream.Write(comp)
						stream.Write(syncTail[:])
						if fr == nil {
							fr = stdflate.NewReader(&stream)
						}
						got = make([]byte, len(m))
						if _, err := io.ReadFull(fr, got); err != nil {
							t.Fatalf("msg %d: std reader: %v", i, err)
						}
					} else {
						got, err = io.ReadAll(stdflate.NewReader(io.MultiReader(bytes.NewReader(comp), bytes.NewReader(syncTail[:]))))
						if err != io.ErrUnexpectedEOF {
							t.Fatalf("msg %d: %v", i, err)
						}
					}
					if !bytes.Equal(got, m) {
						t.Fatalf("msg %d: client->server mismatch", i)
					}
				}
				// Server -> client: std compressor, our decompressor.
				peer := &stdPeer{takeover: !serverNCT}
				d := NewDecompressor(p)
				for i, m := range msgs {
					comp := peer.compress(t, m)
					got, err := d.AppendDecompress(nil, comp, 1<<20)
					if err != nil || !bytes.Equal(got, m) {
						t.Fatalf("msg %d: server->client: err %v, equal %t", i, err, bytes.Equal(got, m))
					}
				}
			})
		}
	}
}

// TestRoundTripSelf: our compressor to our decompressor, one-shot and
// streaming reads, with every takeover combination; a compressor that keeps
// context while the decompressor drops it must be detected as corrupt or
// mismatched, never silently equal.
func TestRoundTripSelf(t *testing.T) {
	msgs := testMessages()
	for _, compTakeover := range []bool{true, false} {
		for _, decTakeover := range []bool{true, false} {
			t.Run(fmt.Sprintf("comp=%t/dec=%t", compTakeover, decTakeover), func(t *testing.T) {
				c := NewCompressor(Options{Threshold: -1}, Params{ClientNoContextTakeover: !compTakeover})
				d := NewDecompressor(Params{ServerNoContextTakeover: !decTakeover})
				broken := false
				for i, m := range msgs {
					comp, err := c.AppendCompress(nil, m)
					if err != nil {
						t.Fatal(err)
					}
					var got []byte
					if i%2 == 0 {
						got, err = d.AppendDecompress(nil, comp, -1)
					} else {
						got, err = io.ReadAll(d.NewReader(iotest.HalfReader(bytes.NewReader(comp)), -1))
					}
					ok := err == nil && bytes.Equal(got, m)
					if compTakeover && !decTakeover {
						if !ok {
							broken = true
							break
						}
						continue
					}
					if !ok {
						t.Fatalf("msg %d: err %v equal %t", i, err, bytes.Equal(got, m))
					}
				}
				if compTakeover && !decTakeover && !broken {
					t.Fatal("a decompressor without the dictionary decoded takeover messages: the test proves nothing")
				}
			})
		}
	}
}

func TestContextTakeoverCompressesRepeats(t *testing.T) {
	m := jsonMessages(1, 4096)[0]
	for _, takeover := range []bool{true, false} {
		c := NewCompressor(Options{}, Params{ClientNoContextTakeover: !takeover})
		first, _ := c.AppendCompress(nil, m)
		second, _ := c.AppendCompress(nil, m)
		t.Logf("takeover=%t: first %d B, second %d B", takeover, len(first), len(second))
		if takeover && len(second)*10 > len(first) {
			t.Errorf("takeover: second identical message %d B, first %d B; want < 1/10", len(second), len(first))
		}
		if !takeover && len(second) != len(first) {
			t.Errorf("no takeover: second message %d B != first %d B", len(second), len(first))
		}
		d := NewDecompressor(Params{ServerNoContextTakeover: !takeover})
		for _, comp := range [][]byte{first, second} {
			if got, err := d.AppendDecompress(nil, comp, -1); err != nil || !bytes.Equal(got, m) {
				t.Fatalf("decode: %v", err)
			}
		}
	}
}

// recorder records what the streaming writer emits.
type recorder struct {
	bytes.Buffer
	writes int
}

func (r *recorder) Write(p []byte) (int, error) { r.writes++; return r.Buffer.Write(p) }

func TestStreamingWriteEqualsOneShot(t *testing.T) {
	msgs := testMessages()
	r := rand.New(rand.NewPCG(5, 6))
	for _, takeover := range []bool{true, false} {
		p := Params{ClientNoContextTakeover: !takeover, ServerNoContextTakeover: !takeover}
		one := NewCompressor(Options{}, p)
		str := NewCompressor(Options{}, p)
		d1, d2 := NewDecompressor(p), NewDecompressor(p)
		for i, m := range msgs {
			want, err := one.AppendCompress(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			var rec recorder
			w := str.NewWriter(&rec)
			for rest := m; len(rest) > 0; {
				n := min(len(rest), 1+r.IntN(5000))
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if _, err := w.Write([]byte("x")); err == nil {
				t.Fatal("Write after Close succeeded")
			}
			if bytes.HasSuffix(rec.Bytes(), syncTail[:]) && len(m) > 0 {
				t.Fatalf("msg %d: streamed output still ends with the sync tail", i)
			}
			a, err1 := d1.AppendDecompress(nil, want, -1)
			b, err2 := d2.AppendDecompress(nil, rec.Bytes(), -1)
			if err1 != nil || err2 != nil || !bytes.Equal(a, m) || !bytes.Equal(b, m) {
				t.Fatalf("msg %d (takeover=%t): one-shot err %v equal %t; streamed err %v equal %t",
					i, takeover, err1, bytes.Equal(a, m), err2, bytes.Equal(b, m))
			}
			if len(m) > 100000 && rec.writes < 2 {
				t.Errorf("msg %d: %d B arrived in %d write(s): not streamed", i, len(m), rec.writes)
			}
		}
	}
}

func TestSinkHoldsBackTail(t *testing.T) {
	data := []byte("0123456789abcdefghij")
	for split := range 8 {
		var out bytes.Buffer
		s := sink{w: &out}
		for rest := data; len(rest) > 0; {
			n := min(len(rest), split+1)
			s.Write(rest[:n])
			rest = rest[n:]
			if out.Len()+s.n != len(data)-len(rest) || (len(data)-len(rest) >= 4 && s.n != 4) {
				t.Fatalf("split %d: emitted %d held %d after %d", split, out.Len(), s.n, len(data)-len(rest))
			}
		}
		if out.String() != string(data[:len(data)-4]) || string(s.tail[:]) != "ghij" {
			t.Fatalf("split %d: emitted %q held %q", split, out.String(), s.tail[:s.n])
		}
	}
}

func TestEmptyMessage(t *testing.T) {
	c := NewCompressor(Options{Threshold: -1}, Params{})
	got, err := c.AppendCompress(nil, nil)
	if err != nil || !bytes.Equal(got, []byte{0}) {
		t.Fatalf("empty message compressed to %x, %v; want 00", got, err)
	}
	d := NewDecompressor(Params{})
	for _, payload := range [][]byte{{0}, {}} {
		if out, err := d.AppendDecompress(nil, payload, 0); err != nil || len(out) != 0 {
			t.Fatalf("decompress %x: %q %v", payload, out, err)
		}
	}
}

func TestThreshold(t *testing.T) {
	c := NewCompressor(Options{}, Params{})
	if c.ShouldCompress(DefaultThreshold-1) || !c.ShouldCompress(DefaultThreshold) {
		t.Error("default threshold")
	}
	c = NewCompressor(Options{Threshold: 10}, Params{})
	if c.ShouldCompress(9) || !c.ShouldCompress(10) {
		t.Error("threshold 10")
	}
	c = NewCompressor(Options{Threshold: -1}, Params{})
	if !c.ShouldCompress(0) {
		t.Error("negative threshold must compress everything")
	}
}

// TestSmallClientWindow: below 15 bits the compressor uses a window-limited
// encoder, and an independent strict decoder proves that no back-reference
// reaches further than 2^bits, across a takeover sequence and per message
// without takeover, while back-references do occur (so the encoder is not
// merely Huffman-only). Level -2 stays Huffman-only.
func TestSmallClientWindow(t *testing.T) {
	msgs := testMessages()
	for _, takeover := range []bool{true, false} {
		for bits := 8; bits <= 15; bits++ {
			c := NewCompressor(Options{Level: 9}, Params{ClientMaxWindowBits: bits, ClientNoContextTakeover: !takeover})
			if c.WindowBits() != bits {
				t.Fatalf("bits %d: compressor window %d", bits, c.WindowBits())
			}
			var stream, want []byte
			var total, plain int
			for _, m := range msgs {
				comp, err := c.AppendCompress(nil, m)
				if err != nil {
					t.Fatal(err)
				}
				stream = append(append(stream, comp...), syncTail[:]...)
				want = append(want, m...)
				total += len(comp)
				plain += len(m)
			}
			if !takeover {
				// Each message must decode on its own; check the first.
				comp, _ := c.AppendCompress(nil, msgs[0])
				stream = append(comp, syncTail[:]...)
				want = msgs[0]
			}
			out, maxDist, err := flatecheck.Inflate(stream)
			if err != nil || !bytes.Equal(out, want) {
				t.Fatalf("bits %d: independent decoder: %v, equal %t", bits, err, bytes.Equal(out, want))
			}
			if maxDist > 1<<bits {
				t.Fatalf("bits %d: back-reference distance %d beyond the %d-byte window", bits, maxDist, 1<<bits)
			}
			if maxDist == 0 {
				t.Fatalf("bits %d: no back-reference at all: the window-limited encoder is not in use", bits)
			}
			if bits == 15 && maxDist <= 1<<8 {
				t.Fatalf("bits 15: max distance %d; the check cannot tell windows apart", maxDist)
			}
			if bits == 8 || bits == 12 || bits == 15 {
				t.Logf("takeover %v, client window %d bits: %d -> %d bytes, max distance %d", takeover, bits, plain, total, maxDist)
			}
		}
	}
	// Huffman-only stays Huffman-only, whatever the window.
	c := NewCompressor(Options{Level: flate.HuffmanOnly}, Params{ClientMaxWindowBits: 9})
	comp, err := c.AppendCompress(nil, msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, maxDist, err := flatecheck.Inflate(append(comp, syncTail[:]...)); err != nil || maxDist != 0 {
		t.Fatalf("Huffman-only: distance %d, %v", maxDist, err)
	}
}

// bomb returns a compressed message (tail stripped) that expands to n MiB of
// zeros: a first flushed MiB, then a MiB block that only references the
// preceding zeros, repeated.
func bomb(t testing.TB, mib int) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, 9)
	zeros := make([]byte, 1<<20)
	fw.Write(zeros)
	fw.Flush()
	first := bytes.Clone(buf.Bytes())
	buf.Reset()
	fw.Write(zeros)
	fw.Flush()
	rep := buf.Bytes()
	out := make([]byte, 0, len(first)+len(rep)*(mib-1))
	out = append(out, first...)
	for range mib - 1 {
		out = append(out, rep...)
	}
	return out[:len(out)-4]
}

func TestDecompressionBomb(t *testing.T) {
	payload := bomb(t, 1024) // 1 GiB of zeros
	t.Logf("bomb: %d bytes compressed, 1 GiB decompressed", len(payload))
	const limit = 1 << 20
	d := NewDecompressor(Params{})

	// Sanity: the bomb is what it claims (a small one decodes fully).
	small := bomb(t, 3)
	if out, err := d.AppendDecompress(nil, small, 3<<20); err != nil || len(out) != 3<<20 {
		t.Fatalf("3 MiB bomb: %d bytes, %v", len(out), err)
	}

	// Streaming reader through a fixed buffer.
	var ms0, ms1 runtime.MemStats
	buf := make([]byte, 32<<10)
	runtime.ReadMemStats(&ms0)
	r := d.NewReader(bytes.NewReader(payload), limit)
	var n int64
	var err error
	for err == nil {
		var k int
		k, err = r.Read(buf)
		n += int64(k)
	}
	runtime.ReadMemStats(&ms1)
	var tb *TooBigError
	if !errors.As(err, &tb) || !errors.Is(err, ErrTooBig) || tb.Limit != limit || n != limit {
		t.Fatalf("streaming: read %d, err %v; want %d and a TooBigError", n, err, limit)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 256<<10 {
		t.Errorf("streaming: allocated %d bytes", alloc)
	} else {
		t.Logf("streaming: allocated %d bytes", alloc)
	}
	if r.Close() == nil {
		t.Error("Close after TooBig returned nil")
	}

	// One-shot append: the output buffer may grow to the limit, no further.
	d = NewDecompressor(Params{})
	runtime.ReadMemStats(&ms0)
	out, err := d.AppendDecompress(nil, payload, limit)
	runtime.ReadMemStats(&ms1)
	if !errors.Is(err, ErrTooBig) || len(out) != limit {
		t.Fatalf("append: %d bytes, %v", len(out), err)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 2*limit+256<<10 {
		t.Errorf("append: allocated %d bytes for a %d limit", alloc, limit)
	} else {
		t.Logf("append: allocated %d bytes for a %d limit (doubling growth)", alloc, limit)
	}
	// With a preallocated buffer, almost nothing.
	d = NewDecompressor(Params{})
	dst := make([]byte, 0, limit+1)
	runtime.ReadMemStats(&ms0)
	_, err = d.AppendDecompress(dst, payload, limit)
	runtime.ReadMemStats(&ms1)
	if !errors.Is(err, ErrTooBig) {
		t.Fatal(err)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 128<<10 {
		t.Errorf("append into a preallocated buffer: allocated %d bytes", alloc)
	}
}

func TestLimitExact(t *testing.T) {
	m := bytes.Repeat([]byte("0123456789"), 1000)
	c := NewCompressor(Options{}, Params{ClientNoContextTakeover: true})
	comp, _ := c.AppendCompress(nil, m)
	d := NewDecompressor(Params{ServerNoContextTakeover: true})
	if out, err := d.AppendDecompress(nil, comp, int64(len(m))); err != nil || !bytes.Equal(out, m) {
		t.Fatalf("limit == size: %v", err)
	}
	if _, err := d.AppendDecompress(nil, comp, int64(len(m)-1)); !errors.Is(err, ErrTooBig) {
		t.Fatalf("limit == size-1: %v", err)
	}
	d = NewDecompressor(Params{ServerNoContextTakeover: true})
	r := d.NewReader(iotest.OneByteReader(bytes.NewReader(comp)), int64(len(m)-1))
	got, err := io.ReadAll(r)
	if !errors.Is(err, ErrTooBig) || len(got) != len(m)-1 {
		t.Fatalf("streaming limit: %d %v", len(got), err)
	}
}

func TestCorruptAndErrors(t *testing.T) {
	d := NewDecompressor(Params{ServerNoContextTakeover: true})
	if _, err := d.AppendDecompress(nil, []byte{0xff, 0xff, 0xff}, -1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("garbage: %v", err)
	}
	// A final block followed by more data.
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, 5)
	fw.Write([]byte("hello hello hello"))
	fw.Close()
	final := bytes.Clone(buf.Bytes())
	d = NewDecompressor(Params{})
	if out, err := d.AppendDecompress(nil, final, -1); err != nil || string(out) != "hello hello hello" {
		t.Errorf("final block: %q %v", out, err)
	}
	if _, err := d.AppendDecompress(nil, append(bytes.Clone(final), 1, 2, 3), -1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("data after final block: %v", err)
	}
	// A failing source: its error comes through.
	boom := errors.New("boom")
	d = NewDecompressor(Params{})
	comp, _ := NewCompressor(Options{}, Params{}).AppendCompress(nil, jsonMessages(1, 4096)[0])
	r := d.NewReader(io.MultiReader(bytes.NewReader(comp[:100]), iotest.ErrReader(boom)), -1)
	if _, err := io.ReadAll(r); !errors.Is(err, boom) {
		t.Errorf("source error: %v", err)
	}
}

// TestReaderCloseDrains: an unread rest of a message is still decompressed
// on Close, so the takeover dictionary stays in step for the next message.
func TestReaderCloseDrains(t *testing.T) {
	msgs := jsonMessages(3, 4096)
	c := NewCompressor(Options{}, Params{})
	d := NewDecompressor(Params{})
	for i, m := range msgs {
		comp, _ := c.AppendCompress(nil, m)
		r := d.NewReader(bytes.NewReader(comp), -1)
		if i == 0 {
			head := make([]byte, 10)
			io.ReadFull(r, head)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("msg %d after a drained message: %v", i, err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSmallServerWindowHistory(t *testing.T) {
	// With server_max_window_bits=9 the client keeps only 512 bytes of
	// history, enough for a peer whose references stay within 512 bytes.
	d := NewDecompressor(Params{ServerMaxWindowBits: 9})
	var enc bytes.Buffer
	fw, _ := flate.NewWriterWindow(&enc, 512)
	m := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz0123456789"), 100)
	for i := range 5 {
		enc.Reset()
		fw.Write(m)
		fw.Flush()
		comp := enc.Bytes()[:enc.Len()-4]
		got, err := d.AppendDecompress(nil, comp, -1)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("msg %d: %v", i, err)
		}
	}
	if len(d.hist) != 512 {
		t.Fatalf("history %d bytes, want 512", len(d.hist))
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	if testing.Short() || race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	m := jsonMessages(1, 4096)[0]
	for _, takeover := range []bool{true, false} {
		p := Params{ClientNoContextTakeover: !takeover, ServerNoContextTakeover: !takeover}
		c := NewCompressor(Options{}, p)
		d := NewDecompressor(p)
		comp := make([]byte, 0, 8192)
		out := make([]byte, 0, 8192)
		allocs := testing.AllocsPerRun(200, func() {
			comp, _ = c.AppendCompress(comp[:0], m)
			out, _ = d.AppendDecompress(out[:0], comp, 1<<20)
		})
		if !bytes.Equal(out, m) {
			t.Fatal("mismatch")
		}
		if allocs > 0.1 {
			t.Errorf("takeover=%t: %.2f allocs per message round trip", takeover, allocs)
		}
	}
}
