// Package deflate implements the permessage-deflate WebSocket extension
// (RFC 7692) for the client side, without I/O: negotiation of the
// Sec-WebSocket-Extensions header, per-message compression and bounded
// per-message decompression. The connection does the framing: RSV1 on the
// first frame of a compressed message, never on control frames.
//
// # Use
//
//	offer, err := opts.Offer()                 // request header value
//	p, ok, err := opts.Accept(resp.Header.Values("Sec-WebSocket-Extensions"))
//	// err: fail the handshake; !ok: the server declined, go on uncompressed
//	c := deflate.NewCompressor(opts, p)        // write side
//	d := deflate.NewDecompressor(p)            // read side
//
//	if c.ShouldCompress(len(msg)) { payload, err = c.AppendCompress(buf[:0], msg) } // RSV1
//	w := c.NewWriter(frameWriter); w.Write(...); w.Close()                          // streamed
//
//	data, err := d.AppendDecompress(dst, payload, maxMessageSize)  // whole message
//	r := d.NewReader(framePayloads, maxMessageSize); io.Copy(x, r); r.Close()
//	// errors.Is(err, deflate.ErrTooBig): close 1009; errors.Is(err, deflate.ErrCorrupt): fail
//
// # Windows
//
// Flate encoders at levels 1..9 search a 32 KiB window. A server may ask
// the client for a smaller one (client_max_window_bits 8..14); the client
// honours it with klauspost's window-limited encoder (flate.NewWriterWindow),
// whose back-references never reach further than the window, so the ratio
// stays close to a full window's (on the tests' JSON, 83 KB at 8 bits and
// 80.5 KB at 12 bits against 78.4 KB at 15). Huffman-only output (no
// back-references at all) is the floor and stays available as level -2.
// That is why the default offer carries client_max_window_bits without a
// value (as browsers do): every answer the server may give can be honoured.
// The decompressor accepts every server window and keeps only
// 2^server_max_window_bits bytes of dictionary with server context takeover.
//
// # Memory
//
// Flate readers are pooled (sync.Pool) in all modes: with server context
// takeover the Decompressor keeps its own dictionary (the last 32 KiB of
// output at most) and passes it to a pooled reader at each message start.
// Flate writers are pooled without client context takeover and kept per
// connection with it (allocated at the first compressed message: about
// 500 KB at level 1, 330 KB Huffman-only, 1 MB at level 9). An idle
// connection with client_no_context_takeover and server_no_context_takeover
// holds no flate state at all.
//
// # Implementation choice: klauspost/compress/flate
//
// BenchmarkFlateImpl compares compress/flate (Go 1.26.8) with
// github.com/klauspost/compress/flate v1.20.4 on 4 KiB JSON-like messages
// (64 distinct messages with shared keys), one message per op with a sync
// flush, in the pattern this package uses. AMD EPYC, 2 CPUs, a shared and
// noisy machine: medians of 6 runs of 0.5 s (spread 10-30%, worse in a few
// rows); ratio = compressed/original size.
//
//	                                   compress/flate            klauspost/compress/flate
//	compress   level 1, takeover     ~44 µs   92 MB/s 0 allocs  0.303 | ~15-18 µs 230-270 MB/s 0 allocs 0.258
//	compress   level 1, no takeover  ~47 µs   88 MB/s 0 allocs  0.312 | ~18-21 µs 190-230 MB/s 0 allocs 0.306
//	compress   level 6, takeover    ~110 µs   37 MB/s 0 allocs  0.209 | ~27 µs    150 MB/s     0 allocs 0.219
//	compress   level 6, no takeover  ~76 µs   54 MB/s 0 allocs  0.271 | ~27 µs    150 MB/s     0 allocs 0.277
//	decompress level 1, takeover     ~25 µs  160 MB/s 3 allocs        | ~15-17 µs 240-270 MB/s 0 allocs
//	decompress level 1, no takeover  ~19 µs  220 MB/s 4 allocs        | ~14 µs    290 MB/s     0 allocs
//	decompress level 6, takeover     ~15 µs  270 MB/s 2 allocs        | ~14 µs    300 MB/s     0 allocs
//	decompress level 6, no takeover  ~16 µs  250 MB/s 3 allocs        | ~14-16 µs 250-340 MB/s 0 allocs
//
// klauspost compresses 2.5-4x faster at equal or better ratio at level 1
// (0.258 vs 0.303 with takeover: compress/flate's BestSpeed encoder does not
// match across flushes), decompresses as fast or faster with no
// allocations (compress/flate allocates 2-4 times per message on Reset),
// and its writers cost half the memory (500 KB vs 1.2 MB at level 1). It
// is a widely used, actively maintained library in Go with no cgo and no
// dependencies (its unaligned little-endian loads use unsafe, which the
// purego or nounsafe build tag turns off), API-compatible with
// compress/flate. It is the implementation here; DefaultLevel is 1, the fastest (level 6 buys
// ~15% smaller messages for ~1.7x the time).
//
// The package's own paths (BenchmarkCompressor, BenchmarkDecompressor, same
// messages, DefaultLevel) measure ~15-19 µs (210-270 MB/s) to compress and
// ~15-22 µs (180-270 MB/s) to decompress a 4 KiB message, 0 allocations
// per message in the steady state with and without context takeover.
package deflate
