package wsclient

import (
	cryptorand "crypto/rand"
	"math/rand/v2"
	"sync"
)

// maskRNGs holds ChaCha8 generators, each seeded from crypto/rand: a
// cryptographically secure source of masking keys that costs no memory per
// connection and about 20 ns per frame (crypto/rand.Read itself costs four
// times that).
var maskRNGs = sync.Pool{New: func() any {
	var seed [32]byte
	fillRandom(seed[:])
	return rand.NewChaCha8(seed)
}}

// maskKey returns a fresh, unpredictable masking key.
func maskKey() uint32 {
	r := maskRNGs.Get().(*rand.ChaCha8)
	k := uint32(r.Uint64())
	maskRNGs.Put(r)
	return k
}

// fillRandom fills b from the operating system's CSPRNG.
// Since Go 1.24, crypto/rand.Read never returns an error (it crashes the
// program irrecoverably if the OS fails to supply randomness).
func fillRandom(b []byte) {
	cryptorand.Read(b)
}
