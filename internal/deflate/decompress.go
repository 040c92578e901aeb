package deflate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/klauspost/compress/flate"
)

// ErrTooBig is matched (errors.Is) by the *TooBigError a message Reader
// returns when the decompressed message would exceed its limit. The
// connection should close with 1009 (message too big).
var ErrTooBig = errors.New("deflate: decompressed message too big")

// TooBigError reports that a decompressed message exceeded Limit bytes.
// Decompression stopped after at most Limit+1 bytes of output, using
// bounded memory.
type TooBigError struct {
	Limit int64
}

// Error describes the TooBigError.
func (e *TooBigError) Error() string {
	return fmt.Sprintf("deflate: decompressed message exceeds the limit of %d bytes", e.Limit)
}

// Is makes errors.Is(err, ErrTooBig) true.
func (e *TooBigError) Is(target error) bool { return target == ErrTooBig }

// ErrCorrupt is wrapped by the error a message Reader returns when the
// compressed payload is not valid DEFLATE data (or has data after a final
// block). The connection must fail (1002 or 1007: the lead's call).
var ErrCorrupt = errors.New("deflate: corrupt compressed message")

// Decompressor decompresses a connection's incoming compressed messages
// (RSV1 set on the first frame). It is not safe for concurrent use: the
// connection's read path owns it and reads one message at a time.
//
// The flate readers come from a process-wide sync.Pool in both modes. With
// server context takeover the Decompressor keeps the last
// 2^Params.ServerMaxWindowBits bytes of output (at most 32 KiB, allocated at
// the first compressed message) and hands them to the pooled reader as its
// dictionary at the start of each message; without takeover an idle
// connection holds no decompressor memory.
type Decompressor struct {
	takeover bool
	window   int
	hist     []byte // ring of the last window bytes of output
	pos      int    // next write position in hist
	full     bool   // hist has wrapped
	r        Reader
}

// NewDecompressor returns the decompressor for a connection that negotiated
// p.
func NewDecompressor(p Params) *Decompressor {
	bits := p.ServerMaxWindowBits
	if bits < 8 || bits > 15 {
		bits = 15
	}
	d := &Decompressor{takeover: !p.ServerNoContextTakeover, window: 1 << bits}
	d.r.d = d
	return d
}

// inflater is a pooled flate reader with its input adapter.
type inflater struct {
	fr  io.ReadCloser // also a flate.Resetter
	br  *bufio.Reader // over &src
	src source
}

var (
	readerPools sync.Pool // *inflater
	bufPool     = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
)

// NewReader starts decompressing one message. src yields the concatenated
// payloads of the message's frames (unmasked) and then io.EOF; the Reader
// appends the 00 00 ff ff tail itself. limit is the largest decompressed
// size accepted (negative: no limit); past it Read returns a *TooBigError.
//
// The Reader is owned by the Decompressor and reused: one message at a time.
// Read it to io.EOF, or call Close, before the next message: with server
// context takeover the rest of the message must still be decompressed to
// keep the dictionary in step. After any error other than io.EOF the
// Decompressor is unusable and the connection must fail.
func (d *Decompressor) NewReader(src io.Reader, limit int64) *Reader {
	d.start(limit)
	d.r.inf.src.r = src
	return &d.r
}

func (d *Decompressor) start(limit int64) {
	if limit < 0 {
		limit = math.MaxInt64
	}
	inf, _ := readerPools.Get().(*inflater)
	if inf == nil {
		inf = new(inflater)
		inf.br = bufio.NewReaderSize(&inf.src, 4096)
	}
	inf.br.Reset(&inf.src)
	d.r = Reader{d: d, inf: inf, limit: limit}
	inf.src = source{}
	var dict []byte
	var tmp *[]byte
	if d.takeover && d.hist != nil {
		if !d.full {
			dict = d.hist[:d.pos]
		} else {
			tmp = bufPool.Get().(*[]byte)
			n := copy(*tmp, d.hist[d.pos:])
			copy((*tmp)[n:], d.hist[:d.pos])
			dict = (*tmp)[:len(d.hist)]
		}
	}
	if inf.fr == nil {
		inf.fr = flate.NewReaderDict(inf.br, dict)
	} else {
		// Reset copies dict into the reader's own window.
		_ = inf.fr.(flate.Resetter).Reset(inf.br, dict)
	}
	if tmp != nil {
		bufPool.Put(tmp)
	}
}

// record appends decompressed output to the takeover history.
func (d *Decompressor) record(p []byte) {
	if !d.takeover || len(p) == 0 {
		return
	}
	if d.hist == nil {
		d.hist = make([]byte, d.window)
	}
	if len(p) >= len(d.hist) {
		copy(d.hist, p[len(p)-len(d.hist):])
		d.pos, d.full = 0, true
		return
	}
	n := copy(d.hist[d.pos:], p)
	if n < len(p) {
		d.pos = copy(d.hist, p[n:])
		d.full = true
	} else {
		d.pos += n
		if d.pos == len(d.hist) {
			d.pos, d.full = 0, true
		}
	}
}

// AppendDecompress decompresses a whole message whose compressed payload
// (all frames concatenated, without the tail) is payload, appends it to dst
// and returns the extended slice. More than limit decompressed bytes
// (negative: no limit) give a *TooBigError; dst then grew to at most
// limit+1 bytes beyond its length (capacity grows by doubling, capped
// there).
func (d *Decompressor) AppendDecompress(dst, payload []byte, limit int64) ([]byte, error) {
	d.start(limit)
	d.r.inf.src.b = payload
	r := &d.r
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			want := int64(max(2*cap(dst), 512))
			if lim := r.limit; lim < math.MaxInt64/2 {
				// Jump straight to the cap when close to it, so that a
				// buffer of limit+1 bytes is allocated once.
				if most := int64(start) + lim + 1; want > most/4*3 {
					want = most
				}
			}
			if want <= int64(len(dst)) {
				want = int64(len(dst)) + 1 // only when exceeding the limit
			}
			nd := make([]byte, len(dst), int(want))
			copy(nd, dst)
			dst = nd
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// Reader is one decompressed message; see Decompressor.NewReader.
type Reader struct {
	d     *Decompressor
	inf   *inflater
	limit int64
	n     int64 // bytes returned so far
	err   error // sticky: io.EOF at the end, or the failure
}

// Read reads decompressed bytes. It returns io.EOF at the end of the message,
// a *TooBigError past the limit, an error wrapping ErrCorrupt for invalid
// data, or the source's own error.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Ask for at most one byte more than the limit allows, to detect it.
	if rem := r.limit - r.n; rem < int64(len(p))-1 {
		p = p[:rem+1]
	}
	n, err := r.inf.fr.Read(p)
	if r.n+int64(n) > r.limit {
		n = int(r.limit - r.n)
		r.n = r.limit
		r.d.record(p[:n])
		return n, r.finish(&TooBigError{Limit: r.limit})
	}
	r.n += int64(n)
	r.d.record(p[:n])
	switch err {
	case nil:
		return n, nil
	case io.EOF:
		// A final block (BFINAL) ended the stream: only our own tail may
		// follow it.
		if !r.inf.src.onlyTailLeft(r.inf.br.Buffered()) {
			if r.inf.src.err != nil {
				return n, r.finish(r.inf.src.err)
			}
			return n, r.finish(fmt.Errorf("%w: data after the final deflate block", ErrCorrupt))
		}
		return n, r.finish(io.EOF)
	case io.ErrUnexpectedEOF:
		// The input, tail included, is exhausted: the normal end of a
		// message that ends with a sync flush.
		if r.inf.src.err != nil {
			return n, r.finish(r.inf.src.err)
		}
		return n, r.finish(io.EOF)
	default:
		if r.inf.src.err != nil {
			return n, r.finish(r.inf.src.err)
		}
		return n, r.finish(fmt.Errorf("%w: %w", ErrCorrupt, err))
	}
}

// finish ends the message with err (sticky) and releases the pooled reader.
func (r *Reader) finish(err error) error {
	r.err = err
	if inf := r.inf; inf != nil {
		r.inf = nil
		inf.src = source{}
		if err == io.EOF {
			readerPools.Put(inf)
		}
	}
	return err
}

// Close ends the message. If it was not read to the end, the rest is
// decompressed and discarded (within the limit) so that the takeover
// dictionary stays in step; the error is that of the rest of the message
// (nil if it ended well).
func (r *Reader) Close() error {
	if r.err == nil {
		bp := bufPool.Get().(*[]byte)
		for r.err == nil {
			_, _ = r.Read(*bp)
		}
		bufPool.Put(bp)
	}
	if r.err == io.EOF {
		return nil
	}
	return r.err
}

// source yields the message payload (a slice or a reader), then the
// 00 00 ff ff tail, then io.EOF. The flate reader reads it through a
// bufio.Reader (klauspost/compress/flate's fast path).
type source struct {
	b    []byte    // unread one-shot payload
	r    io.Reader // streaming payload, nil once exhausted
	tail int       // tail bytes delivered
	err  error     // non-EOF error from r
}

func (s *source) end(err error) {
	s.r = nil
	if err != io.EOF {
		s.err = err
	}
}

func (s *source) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(s.b) > 0 {
		n := copy(p, s.b)
		s.b = s.b[n:]
		return n, nil
	}
	if s.r != nil {
		n, err := s.r.Read(p)
		if err != nil {
			s.end(err)
		}
		if n > 0 || s.r != nil {
			return n, nil
		}
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.tail < len(syncTail) {
		n := copy(p, syncTail[s.tail:])
		s.tail += n
		return n, nil
	}
	return 0, io.EOF
}

// onlyTailLeft reports whether no payload byte remains unconsumed by the
// flate reader, given the bytes still buffered in br (the appended tail
// does not count).
func (s *source) onlyTailLeft(buffered int) bool {
	if buffered > s.tail || len(s.b) > 0 {
		return false
	}
	for range 100 {
		if s.r == nil {
			break
		}
		var one [1]byte
		n, err := s.r.Read(one[:])
		if n > 0 {
			return false
		}
		if err != nil {
			s.end(err)
		}
	}
	return s.r == nil && s.err == nil
}
