//go:build !js

package wsclient

import (
	"encoding/binary"
	"math/rand/v2"
)

// maskKey returns a fresh, unpredictable masking key (RFC 6455 section
// 5.3). The top-level functions of math/rand/v2 draw from the runtime's
// per-thread ChaCha8 generator, seeded from the operating system's CSPRNG:
// a cryptographically secure stream with no lock, no pool and no memory per
// connection, at a few nanoseconds a key.
func maskKey() [4]byte {
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], rand.Uint32())
	return k
}
