// Package utf8v validates UTF-8 incrementally, for text messages that arrive
// in pieces (fragments, partial reads). It fails as soon as the bytes seen so
// far cannot be the start of valid UTF-8, so a bad message is rejected at the
// first invalid fragment rather than at its end.
package utf8v

import "unicode/utf8"

// Validator checks a byte stream for UTF-8 validity. The zero value is ready
// to use.
type Validator struct {
	pend [4]byte // bytes of an incomplete trailing sequence
	np   int     // number of bytes in pend
}

// Reset forgets any pending partial sequence.
func (v *Validator) Reset() { v.np = 0 }

// Write feeds p to the validator. It returns false if the stream is invalid
// (no continuation can make it valid). After false the state is undefined
// until Reset.
func (v *Validator) Write(p []byte) bool {
	if v.np > 0 {
		need := seqLen(v.pend[0])
		for v.np < need && len(p) > 0 {
			v.pend[v.np] = p[0]
			v.np++
			p = p[1:]
		}
		if v.np < need {
			return validPrefix(v.pend[:v.np])
		}
		if !utf8.Valid(v.pend[:v.np]) {
			return false
		}
		v.np = 0
	}
	// Find a possibly incomplete sequence at the tail.
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-3; i-- {
		b := p[i]
		if b < 0x80 {
			break
		}
		if b >= 0xC0 {
			if n := seqLen(b); n > len(p)-i {
				cut = i
			}
			break
		}
	}
	if !utf8.Valid(p[:cut]) {
		return false
	}
	if cut < len(p) {
		v.np = copy(v.pend[:], p[cut:])
		return validPrefix(v.pend[:v.np])
	}
	return true
}

// Done reports whether the stream seen so far ends on a complete sequence.
// Call it at the end of a message: a true Write followed by a false Done
// means the message ended inside a multi-byte sequence.
func (v *Validator) Done() bool { return v.np == 0 }

// seqLen returns the length of the sequence a lead byte announces, or 0 for
// a byte that cannot lead one.
func seqLen(b byte) int {
	switch {
	case b < 0x80:
		return 1
	case b >= 0xC2 && b <= 0xDF:
		return 2
	case b >= 0xE0 && b <= 0xEF:
		return 3
	case b >= 0xF0 && b <= 0xF4:
		return 4
	}
	return 0
}

// validPrefix reports whether p (shorter than the sequence its first byte
// announces) can still be completed into a valid sequence.
func validPrefix(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	n := seqLen(p[0])
	if n == 0 || len(p) >= n {
		return n != 0 && utf8.Valid(p)
	}
	if len(p) >= 2 {
		lo, hi := byte(0x80), byte(0xBF)
		switch p[0] {
		case 0xE0:
			lo = 0xA0
		case 0xED:
			hi = 0x9F
		case 0xF0:
			lo = 0x90
		case 0xF4:
			hi = 0x8F
		}
		if p[1] < lo || p[1] > hi {
			return false
		}
		for _, b := range p[2:] {
			if b < 0x80 || b > 0xBF {
				return false
			}
		}
	}
	return true
}
