//go:build !purego

package frame

import "golang.org/x/sys/cpu"

// hasVectorMask reports whether maskVector may be used.
var hasVectorMask = cpu.X86.HasAVX2

//go:noescape
func maskAVX2(dst, src *byte, n int, key uint64)

// maskVector masks the longest prefix of src whose length is a multiple of
// 128 into dst with the 8-byte key pattern k64 and returns its length.
func maskVector(dst, src []byte, k64 uint64) int {
	n := len(src) &^ 127
	if n > 0 {
		maskAVX2(&dst[0], &src[0], n, k64)
	}
	return n
}
