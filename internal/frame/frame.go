// Package frame is the sans-I/O WebSocket frame codec of RFC 6455 section 5:
// header parsing and encoding, masking, and close-frame payloads. It performs
// no I/O; the caller feeds it bytes and acts on the results.
package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Opcode is a frame opcode (RFC 6455 section 5.2).
type Opcode byte

// Opcodes defined by RFC 6455.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (close, ping, pong, or a
// reserved control opcode).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// IsReserved reports whether op is one of the opcodes RFC 6455 reserves
// (0x3-0x7 and 0xB-0xF).
func (op Opcode) IsReserved() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the name of the Opcode.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("opcode(%#x)", byte(op))
}

// RSV bits as they appear in the first header byte.
const (
	RSV1 byte = 0x40
	RSV2 byte = 0x20
	RSV3 byte = 0x10
)

// MaxControlPayload is the largest payload a control frame may carry.
const MaxControlPayload = 125

// MaxHeaderLen is the longest possible frame header: 2 bytes, an 8-byte
// extended length and a 4-byte masking key.
const MaxHeaderLen = 14

// Header is a decoded frame header.
type Header struct {
	Fin    bool
	RSV    byte // RSV1|RSV2|RSV3 bits, in their wire positions
	Opcode Opcode
	Masked bool
	Mask   [4]byte
	Length int64
}

// Errors returned by Parse. All of them are protocol errors (close 1002).
var (
	ErrShort            = errors.New("frame: header incomplete")
	ErrReservedOpcode   = errors.New("frame: reserved opcode")
	ErrFragmentedCtl    = errors.New("frame: fragmented control frame")
	ErrControlTooLong   = errors.New("frame: control frame payload over 125 bytes")
	ErrLengthTopBit     = errors.New("frame: 64-bit payload length has its most significant bit set")
	ErrNonMinimalLength = errors.New("frame: payload length not minimally encoded")
)

// HeaderLen returns the length of the header that begins with bytes b0 b1.
func HeaderLen(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// Parse decodes the frame header at the start of b. It returns the header and
// the number of bytes it occupies. When b does not hold a complete header it
// returns ErrShort and the total header length needed (at least 2).
//
// Parse checks what does not depend on the connection's role or negotiated
// extensions: reserved opcodes, control-frame rules and the 64-bit length's
// top bit. The caller checks the MASK bit and RSV bits.
func Parse(b []byte) (Header, int, error) {
	var h Header
	if len(b) < 2 {
		return h, 2, ErrShort
	}
	n := HeaderLen(b[0], b[1])
	if len(b) < n {
		return h, n, ErrShort
	}
	h.Fin = b[0]&0x80 != 0
	h.RSV = b[0] & 0x70
	h.Opcode = Opcode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	p := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		p = 4
	case 127:
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return h, n, ErrLengthTopBit
		}
		h.Length = int64(u)
		p = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Mask[:], b[p:p+4])
	}
	if h.Opcode.IsReserved() {
		return h, n, ErrReservedOpcode
	}
	if h.Opcode.IsControl() {
		if !h.Fin {
			return h, n, ErrFragmentedCtl
		}
		if h.Length > MaxControlPayload {
			return h, n, ErrControlTooLong
		}
	}
	return h, n, nil
}

// Append encodes h onto dst and returns the extended slice. The length is
// always encoded in its shortest form.
func Append(dst []byte, h Header) []byte {
	b0 := byte(h.Opcode) | h.RSV
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch {
	case h.Length <= 125:
		dst = append(dst, b0, b1|byte(h.Length))
	case h.Length <= 0xffff:
		dst = append(dst, b0, b1|126, byte(h.Length>>8), byte(h.Length))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// Put encodes h into b, which must have room for MaxHeaderLen bytes, and
// returns the number of bytes written.
func Put(b []byte, h Header) int {
	return len(Append(b[:0], h))
}
