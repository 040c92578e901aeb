//go:build !js

package wsclient

import (
	"math"
	"testing"
)

// Every size over bigMin gets a class at least as large and at most
// 25% larger, and a buffer of a class's size goes back to that class.
func TestBigClass(t *testing.T) {
	for _, n64 := range []int64{bigMin + 1, 80 << 10, 96<<10 + 1, 128 << 10, 1 << 20, 1<<20 + 1, 16 << 20, 16<<20 + 3, 1 << (bigClassMax - 1), 1 << bigClassMax} {
		if n64 > math.MaxInt {
			continue // (a 32-bit int)
		}
		n := int(n64)
		i, size := bigClass(n)
		if i < 0 || i >= len(bigBufPools) || size < n || float64(size) > 1.25*float64(n) {
			t.Fatalf("bigClass(%d) = %d, %d", n, i, size)
		}
		if j, s := bigClass(size); j != i || s != size {
			t.Fatalf("bigClass(%d) = %d, %d; of its size %d: %d, %d", n, i, size, size, j, s)
		}
		if n > 16<<20+3 {
			continue // (not allocated)
		}
		p := bigBufGet(n)
		if len(*p) != size {
			t.Fatalf("bigBufGet(%d) has %d bytes, want %d", n, len(*p), size)
		}
		bigBufPut(p)
		if q := bigBufGet(size); len(*q) != size {
			t.Fatalf("bigBufGet(%d) after a Put has %d bytes", size, len(*q))
		}
	}
	if huge := int64(1)<<bigClassMax + 1; huge <= math.MaxInt {
		if i, _ := bigClass(int(huge)); i != -1 {
			t.Fatalf("a huge size is pooled in class %d", i)
		}
	}
}

// bigBufCopy copies into a new array (never src's) of a class's size.
func TestBigBufCopy(t *testing.T) {
	for _, n := range []int{bigMin + 1, 1 << 20, 1<<20 + 1, 5<<20 + 77} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i * 7)
		}
		p := bigBufCopy(src)
		_, size := bigClass(n)
		if len(*p) != size || cap(*p) != size {
			t.Fatalf("bigBufCopy of %d bytes: len %d cap %d, want %d", n, len(*p), cap(*p), size)
		}
		if &(*p)[0] == &src[0] {
			t.Fatalf("bigBufCopy of %d bytes shares src's array", n)
		}
		for i := range src {
			if (*p)[i] != src[i] {
				t.Fatalf("bigBufCopy of %d bytes differs at %d", n, i)
			}
		}
		bigBufPut(p)
	}
}
