//go:build !amd64 || purego

package frame

const hasVectorMask = false

func maskVector(dst, src []byte, k64 uint64) int { return 0 }
