package frame

import (
	"crypto/subtle"
	"encoding/binary"
	"math/bits"
)

// maskStride is the length of the expanded key used for large payloads.
const maskStride = 512

// largeMask is the payload length from which masking uses
// crypto/subtle.XORBytes (vectorised on common architectures) over a key
// expanded to maskStride bytes.
const largeMask = 256

// Mask XORs b in place with the masking key, starting at key offset pos
// (the number of payload bytes already masked, modulo 4). It returns the key
// offset for the byte after b, so that a payload may be masked in pieces.
func Mask(key [4]byte, pos int, b []byte) int {
	return MaskCopy(b, b, key, pos)
}

// MaskCopy writes src XOR the masking key to dst (which must be at least
// len(src) long and may be src itself), starting at key offset pos. It
// returns the key offset after the last byte.
func MaskCopy(dst, src []byte, key [4]byte, pos int) int {
	n := len(src)
	if n == 0 {
		return pos & 3
	}
	_ = dst[n-1]
	k32 := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
	i := 0
	if hasVectorMask && n >= 128 {
		k64 := uint64(k32) | uint64(k32)<<32
		i = maskVector(dst[:n], src, k64)
		if i == n {
			return (pos + n) & 3
		}
		src = src[i:]
		dst = dst[i:]
		n -= i
		pos += i
		i = 0
	} else if n >= largeMask {
		var stride [maskStride]byte
		k64 := uint64(k32) | uint64(k32)<<32
		for j := 0; j < maskStride; j += 8 {
			binary.LittleEndian.PutUint64(stride[j:], k64)
		}
		for ; i+maskStride <= n; i += maskStride {
			subtle.XORBytes(dst[i:i+maskStride], src[i:i+maskStride], stride[:])
		}
		if rem := n - i; rem > 0 {
			subtle.XORBytes(dst[i:n], src[i:n], stride[:rem])
			i = n
		}
		return (pos + n) & 3
	}
	k64 := uint64(k32) | uint64(k32)<<32
	for ; i+8 <= n; i += 8 {
		v := binary.LittleEndian.Uint64(src[i:])
		binary.LittleEndian.PutUint64(dst[i:], v^k64)
	}
	if i+4 <= n {
		v := binary.LittleEndian.Uint32(src[i:])
		binary.LittleEndian.PutUint32(dst[i:], v^k32)
		i += 4
	}
	for ; i < n; i++ {
		dst[i] = src[i] ^ byte(k32>>(8*((i)&3)))
	}
	return (pos + n) & 3
}
