package deflate

import (
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// syncTail is the empty stored block that ends a sync flush. The sender
// strips it from every message; the receiver appends it back (RFC 7692
// section 7.2.1 and 7.2.2).
var syncTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// errNoTail should never happen: the flate writer's sync flush did not end
// with 00 00 ff ff.
var errNoTail = errors.New("deflate: internal error: compressed message does not end with a sync flush")

// Compressor compresses a connection's outgoing messages. It is not safe for
// concurrent use: the connection's write path owns it and compresses one
// message at a time (control frames are never compressed).
//
// With context takeover (Params.ClientNoContextTakeover false) it keeps one
// flate writer for the life of the connection, allocated at the first
// compressed message; without it, it takes a writer from a process-wide
// sync.Pool per message and returns it at the end of the message, so an idle
// connection holds no compressor memory.
type Compressor struct {
	level      int
	windowBits int // 8..14 when the server asked for a small client window, else 0
	takeover   bool
	threshold  int
	d          *deflater // persistent with takeover; per message otherwise
	w          Writer
}

// deflater is a flate writer with its output sink. The writer writes only
// to d.s, so it never needs to learn a new destination.
type deflater struct {
	fw *flate.Writer
	s  sink
}

// writerPools holds idle deflaters, one pool per level -2..9; windowPools
// one per small client window of 8..14 bits.
var (
	writerPools [12]sync.Pool
	windowPools [7]sync.Pool
)

// NewCompressor returns the compressor for a connection that negotiated p,
// with the level and threshold of o (o is assumed valid: see
// Options.Validate). When p.ClientMaxWindowBits < 15 the compressor uses
// klauspost's window-limited encoder (flate.NewWriterWindow), whose
// back-references never reach further than 2^ClientMaxWindowBits bytes, so
// the output is valid for the window the server asked for; the level then
// only matters for Huffman-only (-2), which is honoured as such.
func NewCompressor(o Options, p Params) *Compressor {
	c := &Compressor{
		level:     o.Level,
		takeover:  !p.ClientNoContextTakeover,
		threshold: o.Threshold,
	}
	if c.level == 0 {
		c.level = DefaultLevel
	}
	if c.threshold == 0 {
		c.threshold = DefaultThreshold
	}
	if p.ClientMaxWindowBits != 0 && p.ClientMaxWindowBits < 15 && c.level != flate.HuffmanOnly {
		c.windowBits = p.ClientMaxWindowBits
	}
	c.w.c = c
	return c
}

// Level returns the flate level.
func (c *Compressor) Level() int { return c.level }

// WindowBits returns the size of the compression window the compressor keeps
// to: 15 (32 KiB) unless the server asked for a smaller client window.
func (c *Compressor) WindowBits() int {
	if c.windowBits != 0 {
		return c.windowBits
	}
	return 15
}

func (c *Compressor) pool() *sync.Pool {
	if c.windowBits != 0 {
		return &windowPools[c.windowBits-8]
	}
	return &writerPools[c.level+2]
}

// ShouldCompress reports whether a message of n bytes should be compressed
// (n >= the threshold). A message sent uncompressed goes out with RSV1 clear
// and does not touch the compressor state.
func (c *Compressor) ShouldCompress(n int) bool { return n >= c.threshold }

func (c *Compressor) get() *deflater {
	if c.d != nil {
		return c.d
	}
	d, _ := c.pool().Get().(*deflater)
	if d == nil {
		d = new(deflater)
		var fw *flate.Writer
		var err error
		if c.windowBits != 0 {
			fw, err = flate.NewWriterWindow(&d.s, 1<<c.windowBits)
		} else {
			fw, err = flate.NewWriter(&d.s, c.level)
		}
		if err != nil {
			panic(err) // unreachable: the level was validated
		}
		d.fw = fw
	} else {
		d.fw.Reset(&d.s)
	}
	if c.takeover {
		c.d = d
	}
	return d
}

// put ends a message: without takeover the deflater goes back to its pool.
// After an error it is dropped (its state is unknown).
func (c *Compressor) put(d *deflater, err error) {
	d.s = sink{}
	if c.takeover {
		if err != nil {
			c.d = nil // the connection must fail anyway
		}
		return
	}
	if err == nil {
		c.pool().Put(d)
	}
}

// AppendCompress appends the compressed form of the whole message msg to dst
// and returns the extended slice: the payload to send with RSV1 set on the
// first frame, without the trailing 00 00 ff ff. It reuses dst's capacity and
// allocates nothing in the steady state with a large enough dst. An error
// means the compressor state is lost; the connection must fail.
func (c *Compressor) AppendCompress(dst, msg []byte) ([]byte, error) {
	d := c.get()
	d.s.dst = dst
	start := len(dst)
	_, err := d.fw.Write(msg)
	if err == nil {
		err = d.fw.Flush()
	}
	out := d.s.dst
	if err == nil && (len(out)-start < 4 || [4]byte(out[len(out)-4:]) != syncTail) {
		err = errNoTail
	}
	c.put(d, err)
	if err != nil {
		return dst, err
	}
	return out[:len(out)-4], nil
}

// NewWriter starts a streamed compressed message: bytes written to the
// returned Writer are compressed and the compressed bytes are written to w
// as they become available (in many small writes: buffer w), except the
// last four, held back so that Close can drop the 00 00 ff ff tail. Close
// ends the message; everything written to w by then is the message
// payload (RSV1 on its first frame).
//
// The Writer is owned by the Compressor and reused: at most one message may
// be open at a time, and the Writer must not be used after Close.
func (c *Compressor) NewWriter(w io.Writer) *Writer {
	d := c.get()
	d.s.w = w
	c.w = Writer{c: c, d: d}
	return &c.w
}

// Writer is a streamed compressed message; see Compressor.NewWriter.
type Writer struct {
	c   *Compressor
	d   *deflater
	err error
}

var errWriterClosed = errors.New("deflate: write to a closed message writer")

// Write compresses p. Errors come from the destination writer; after one
// the message and the compressor state are lost (fail the connection).
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.d == nil {
		return 0, errWriterClosed
	}
	n, err := w.d.fw.Write(p)
	if err != nil {
		w.fail(err)
	}
	return n, err
}

func (w *Writer) fail(err error) {
	w.err = err
	w.c.put(w.d, err)
	w.d = nil
}

// Close flushes the compressor (a sync flush), writes the remaining
// compressed bytes to the destination without the 00 00 ff ff tail, and
// ends the message. Closing twice returns the first result (nil if it
// succeeded).
func (w *Writer) Close() error {
	if w.err != nil || w.d == nil {
		if w.err == errWriterClosed {
			return nil
		}
		return w.err
	}
	d := w.d
	err := d.fw.Flush()
	if err == nil && (d.s.n != 4 || d.s.tail != syncTail) {
		err = errNoTail
	}
	if err != nil {
		w.fail(err)
		return err
	}
	w.c.put(d, nil)
	w.d = nil
	w.err = errWriterClosed
	return nil
}

// sink receives the flate writer's output: appended to dst when w is nil,
// otherwise forwarded to w holding back the last four bytes.
type sink struct {
	dst  []byte
	w    io.Writer
	tail [4]byte
	n    int // bytes held in tail
	err  error
}

func (s *sink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.w == nil {
		s.dst = append(s.dst, p...)
		return len(p), nil
	}
	if s.n+len(p) <= len(s.tail) {
		s.n += copy(s.tail[s.n:], p)
		return len(p), nil
	}
	emit := s.n + len(p) - len(s.tail) // bytes that are no longer among the last four
	if k := min(emit, s.n); k > 0 {
		if _, err := s.w.Write(s.tail[:k]); err != nil {
			s.err = err
			return 0, err
		}
		s.n = copy(s.tail[:], s.tail[k:s.n])
		emit -= k
	}
	if emit > 0 {
		if _, err := s.w.Write(p[:emit]); err != nil {
			s.err = err
			return 0, err
		}
	}
	s.n += copy(s.tail[s.n:], p[emit:])
	return len(p), nil
}
