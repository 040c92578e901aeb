// Package flatecheck is an independent, deliberately simple and strict
// DEFLATE decoder (RFC 1951, in the manner of zlib's puff) for tests: it
// proves what a compressor emits by decoding it without compress/flate,
// reporting the largest back-reference distance used and failing on any
// distance beyond a given window, as zlib's raw inflate with a window of
// 2^bits bytes fails with "invalid distance too far back".
//
// It decodes a raw stream (no zlib or gzip header) up to its end or up to
// its final block; a stream must end at a block boundary, so a
// permessage-deflate payload needs its 00 00 ff ff tail appended first. It
// is slow and keeps whole messages in memory: it is not for production use.
package flatecheck

import (
	"errors"
	"fmt"
)

// MaxWindow is the largest window DEFLATE allows, and the window an
// [Inflater] uses when its Window is 0.
const MaxWindow = 32 << 10

var (
	// ErrTruncated reports a stream that ends inside a block.
	ErrTruncated = errors.New("flatecheck: deflate stream ends early")
	// ErrWindow reports a back-reference further back than the window.
	ErrWindow = errors.New("flatecheck: back-reference beyond the window")
)

// Inflater decodes a sequence of raw DEFLATE messages. With Takeover set it
// keeps the last Window bytes of output across calls to [Inflater.Inflate]
// (permessage-deflate context takeover), so a message may refer back into
// the previous ones; without it each message must decode on its own. The
// zero value decodes independent messages with a 32 KiB window.
type Inflater struct {
	// Window is the largest back-reference distance allowed, in bytes
	// (1<<bits); 0 means MaxWindow.
	Window int
	// Takeover keeps history across messages.
	Takeover bool

	hist []byte
}

// Inflate decodes one message and returns its output and the largest
// back-reference distance it used. A distance beyond the window fails with
// an error wrapping [ErrWindow]; one before the start of the available
// data, an invalid code or block, or a stream ending inside a block (error
// wrapping [ErrTruncated]) fails too. On error out is nil and the history
// is left as it was.
func (z *Inflater) Inflate(payload []byte) (out []byte, maxDist int, err error) {
	window := z.Window
	if window <= 0 {
		window = MaxWindow
	}
	s := &bitReader{in: payload}
	buf := append([]byte{}, z.hist...)
	base := len(buf)
	defer func() {
		if r := recover(); r != nil {
			if r != errShort {
				panic(r)
			}
			out, err = nil, ErrTruncated
		}
	}()
	for s.pos < len(s.in) {
		final := s.bits(1)
		switch s.bits(2) {
		case 0:
			s.buf, s.cnt = 0, 0
			if s.pos+4 > len(s.in) {
				return nil, maxDist, ErrTruncated
			}
			n := int(s.in[s.pos]) | int(s.in[s.pos+1])<<8
			if n != ^(int(s.in[s.pos+2])|int(s.in[s.pos+3])<<8)&0xffff {
				return nil, maxDist, errors.New("flatecheck: stored block length mismatch")
			}
			s.pos += 4
			if s.pos+n > len(s.in) {
				return nil, maxDist, ErrTruncated
			}
			buf = append(buf, s.in[s.pos:s.pos+n]...)
			s.pos += n
		case 1:
			buf, err = s.codes(buf, &fixedLit, &fixedDist, window, &maxDist)
		case 2:
			var lit, dist huffman
			if err = s.dynamic(&lit, &dist); err == nil {
				buf, err = s.codes(buf, &lit, &dist, window, &maxDist)
			}
		default:
			return nil, maxDist, errors.New("flatecheck: invalid block type 3")
		}
		if err != nil {
			return nil, maxDist, err
		}
		if final == 1 {
			break
		}
	}
	out = append([]byte{}, buf[base:]...)
	if z.Takeover {
		z.hist = append(z.hist[:0], buf[max(0, len(buf)-window):]...)
	}
	return out, maxDist, nil
}

// Inflate decodes one raw DEFLATE stream on its own with a 32 KiB window
// and returns its output and the largest back-reference distance used.
func Inflate(stream []byte) (out []byte, maxDist int, err error) {
	var z Inflater
	return z.Inflate(stream)
}

// errShort is the panic value of bitReader.bits at the end of the input.
var errShort = errors.New("short")

type bitReader struct {
	in  []byte
	pos int
	buf uint32
	cnt uint
}

func (s *bitReader) bits(n uint) int {
	for s.cnt < n {
		if s.pos >= len(s.in) {
			panic(errShort)
		}
		s.buf |= uint32(s.in[s.pos]) << s.cnt
		s.pos++
		s.cnt += 8
	}
	v := int(s.buf & (1<<n - 1))
	s.buf >>= n
	s.cnt -= n
	return v
}

// huffman is a canonical Huffman code: the number of codes of each length
// and the symbols in code order.
type huffman struct {
	count [16]int
	sym   []int
}

func (h *huffman) build(lengths []int) {
	h.count = [16]int{}
	for _, l := range lengths {
		h.count[l]++
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.sym = make([]int, len(lengths))
	for sym, l := range lengths {
		if l != 0 {
			h.sym[offs[l]] = sym
			offs[l]++
		}
	}
}

func (s *bitReader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		code |= s.bits(1)
		count := h.count[l]
		if code-count < first {
			return h.sym[index+code-first], nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, errors.New("flatecheck: invalid Huffman code")
}

var (
	lenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	fixedLit, fixedDist huffman
)

func init() {
	l := make([]int, 288)
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	fixedLit.build(l)
	d := make([]int, 30)
	for i := range d {
		d[i] = 5
	}
	fixedDist.build(d)
}

func (s *bitReader) codes(out []byte, lit, dist *huffman, window int, maxDist *int) ([]byte, error) {
	for {
		sym, err := s.decode(lit)
		if err != nil {
			return out, err
		}
		if sym < 256 {
			out = append(out, byte(sym))
			continue
		}
		if sym == 256 {
			return out, nil
		}
		sym -= 257
		if sym >= 29 {
			return out, errors.New("flatecheck: invalid length symbol")
		}
		n := lenBase[sym] + s.bits(lenExtra[sym])
		dsym, err := s.decode(dist)
		if err != nil {
			return out, err
		}
		if dsym >= 30 {
			return out, errors.New("flatecheck: invalid distance symbol")
		}
		d := distBase[dsym] + s.bits(distExtra[dsym])
		if d > window {
			return out, fmt.Errorf("%w: distance %d, window %d bytes", ErrWindow, d, window)
		}
		if d > len(out) {
			return out, fmt.Errorf("flatecheck: back-reference distance %d before the start of the data (%d bytes)", d, len(out))
		}
		*maxDist = max(*maxDist, d)
		for range n {
			out = append(out, out[len(out)-d])
		}
	}
}

func (s *bitReader) dynamic(lit, dist *huffman) error {
	nlen := s.bits(5) + 257
	ndist := s.bits(5) + 1
	ncode := s.bits(4) + 4
	if nlen > 286 || ndist > 30 {
		return errors.New("flatecheck: bad dynamic block code counts")
	}
	order := [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
	var cl [19]int
	for i := range ncode {
		cl[order[i]] = s.bits(3)
	}
	var lencode huffman
	lencode.build(cl[:])
	lengths := make([]int, nlen+ndist)
	for i := 0; i < nlen+ndist; {
		sym, err := s.decode(&lencode)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = sym
			i++
			continue
		}
		l, rep := 0, 0
		switch sym {
		case 16:
			if i == 0 {
				return errors.New("flatecheck: repeat with no previous length")
			}
			l, rep = lengths[i-1], 3+s.bits(2)
		case 17:
			rep = 3 + s.bits(3)
		default:
			rep = 11 + s.bits(7)
		}
		if i+rep > nlen+ndist {
			return errors.New("flatecheck: too many code lengths")
		}
		for range rep {
			lengths[i] = l
			i++
		}
	}
	lit.build(lengths[:nlen])
	dist.build(lengths[nlen:])
	return nil
}
