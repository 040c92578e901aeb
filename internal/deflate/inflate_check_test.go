package deflate

import (
	"errors"
	"fmt"
)

// checkInflate is an independent, deliberately simple DEFLATE decoder (RFC
// 1951, after zlib's puff) used to verify what the compressor emits: it
// decodes a raw stream that ends at a block boundary (or a final block) and
// returns the output and the largest back-reference distance used. It is
// slow and meant for tests only.
func checkInflate(in []byte) (out []byte, maxDist int, err error) {
	s := &bitState{in: in}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && errors.Is(e, errInflateEOF) {
				err = e
				return
			}
			panic(r)
		}
	}()
	for s.pos < len(s.in) {
		final := s.bits(1)
		switch s.bits(2) {
		case 0:
			s.bitbuf, s.bitcnt = 0, 0
			if s.pos+4 > len(s.in) {
				return out, maxDist, errInflateEOF
			}
			n := int(s.in[s.pos]) | int(s.in[s.pos+1])<<8
			nn := int(s.in[s.pos+2]) | int(s.in[s.pos+3])<<8
			if n != ^nn&0xffff {
				return out, maxDist, fmt.Errorf("stored length mismatch")
			}
			s.pos += 4
			if s.pos+n > len(s.in) {
				return out, maxDist, errInflateEOF
			}
			out = append(out, s.in[s.pos:s.pos+n]...)
			s.pos += n
		case 1:
			out, err = s.codes(out, &fixedLit, &fixedDist, &maxDist)
		case 2:
			var lit, dist huffman
			if err = s.dynamic(&lit, &dist); err == nil {
				out, err = s.codes(out, &lit, &dist, &maxDist)
			}
		default:
			return out, maxDist, fmt.Errorf("invalid block type 3")
		}
		if err != nil {
			return out, maxDist, err
		}
		if final == 1 {
			break
		}
	}
	return out, maxDist, nil
}

var errInflateEOF = errors.New("checkInflate: unexpected end of input")

type bitState struct {
	in     []byte
	pos    int
	bitbuf uint32
	bitcnt uint
}

func (s *bitState) bits(n uint) int {
	v := s.bitbuf
	for s.bitcnt < n {
		if s.pos >= len(s.in) {
			panic(errInflateEOF)
		}
		v |= uint32(s.in[s.pos]) << s.bitcnt
		s.pos++
		s.bitcnt += 8
	}
	s.bitbuf = v >> n
	s.bitcnt -= n
	return int(v & (1<<n - 1))
}

type huffman struct {
	count  [16]int
	symbol [288]int
}

func (h *huffman) build(lengths []int) {
	*h = huffman{}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	var offs [16]int
	for l := 1; l < 16; l++ {
		offs[l] = offs[l-1] + h.count[l-1]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = sym
			offs[l]++
		}
	}
}

func (s *bitState) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		code |= s.bits(1)
		count := h.count[l]
		if code-count < first {
			return h.symbol[index+(code-first)], nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, fmt.Errorf("invalid Huffman code")
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

func (s *bitState) codes(out []byte, lit, dist *huffman, maxDist *int) ([]byte, error) {
	for {
		sym, err := s.decode(lit)
		if err != nil {
			return out, err
		}
		switch {
		case sym < 256:
			out = append(out, byte(sym))
		case sym == 256:
			return out, nil
		default:
			sym -= 257
			if sym >= 29 {
				return out, fmt.Errorf("invalid length symbol")
			}
			n := lenBase[sym] + s.bits(lenExtra[sym])
			ds, err := s.decode(dist)
			if err != nil {
				return out, err
			}
			if ds >= 30 {
				return out, fmt.Errorf("invalid distance symbol")
			}
			d := distBase[ds] + s.bits(distExtra[ds])
			if d > len(out) {
				return out, fmt.Errorf("distance %d beyond output %d", d, len(out))
			}
			*maxDist = max(*maxDist, d)
			for range n {
				out = append(out, out[len(out)-d])
			}
		}
	}
}

func (s *bitState) dynamic(lit, dist *huffman) error {
	nlen := s.bits(5) + 257
	ndist := s.bits(5) + 1
	ncode := s.bits(4) + 4
	order := [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
	lengths := make([]int, 19)
	for i := range ncode {
		lengths[order[i]] = s.bits(3)
	}
	var lencode huffman
	lencode.build(lengths)
	lengths = make([]int, nlen+ndist)
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
		var l, rep int
		switch sym {
		case 16:
			if i == 0 {
				return fmt.Errorf("repeat with no first length")
			}
			l, rep = lengths[i-1], 3+s.bits(2)
		case 17:
			rep = 3 + s.bits(3)
		default:
			rep = 11 + s.bits(7)
		}
		if i+rep > nlen+ndist {
			return fmt.Errorf("too many lengths")
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
