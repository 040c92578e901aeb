package wsclient

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Big buffers (over bigMin bytes: copies of large frames to send, read
// buffers for large messages; appendMessage grows a buffer to a class
// size) come in size classes, four per power of two, so a buffer is at most
// 25% larger than the data it holds and a stream of messages of one size
// reuses one class. The pools are global and emptied by the garbage
// collector (sync.Pool), so an idle client holds none of them; a buffer
// lives on in its pool for at most two collections after its last use.
const (
	bigMin      = 64 << 10 // a buffer over this is big
	bigClassMin = 17       // 2^(bigClassMin-1) = 64 KiB < the smallest class
	bigClassMax = 31       // sizes above 2^bigClassMax are not pooled
)

var bigBufPools [(bigClassMax - bigClassMin + 1) * 4]sync.Pool

// bigClass returns the pool index and size of the smallest class that
// holds n bytes (64 KiB < n), or -1 when n is too large to be pooled.
func bigClass(n int) (int, int) {
	k := bits.Len(uint(n - 1)) // 2^(k-1) < n <= 2^k
	if k < bigClassMin || k > bigClassMax {
		return -1, n
	}
	base := 1 << (k - 1)
	step := base / 4
	j := (n - base + step - 1) / step // 1..4
	return (k-bigClassMin)*4 + j - 1, base + j*step
}

// bigPooled reports whether a buffer of capacity n goes to a pool.
func bigPooled(n int) bool {
	i, size := bigClass(n)
	return i >= 0 && size == n
}

// bigBufGet returns a buffer of at least n bytes (n > bigMin),
// pooled unless n is huge.
func bigBufGet(n int) *[]byte {
	i, size := bigClass(n)
	if i >= 0 {
		if p, _ := bigBufPools[i].Get().(*[]byte); p != nil {
			return p
		}
	}
	b := make([]byte, size)
	return &b
}

// bigBufCopy returns a buffer like bigBufGet's holding a copy of src (its
// first len(src) bytes). A buffer the pool does not have is made by
// appending to src (full, so the append makes a new array), which copies
// src without first zeroing the bytes the copy overwrites, as make would:
// a pass over 16 MiB less per message.
func bigBufCopy(src []byte) *[]byte {
	n := len(src)
	i, size := bigClass(n)
	if i >= 0 {
		if p, _ := bigBufPools[i].Get().(*[]byte); p != nil {
			copy(*p, src)
			return p
		}
	}
	b := append(src[:n:n], 0) // grows by a quarter at least: a class's room
	if cap(b) < size {
		b = append(b[:cap(b)], make([]byte, size-cap(b))...)
	}
	b = b[:size:size]
	return &b
}

// bigBufPut gives a buffer of bigBufGet back.
func bigBufPut(p *[]byte) {
	if bigPooled(cap(*p)) {
		i, _ := bigClass(cap(*p))
		*p = (*p)[:cap(*p)]
		bigBufPools[i].Put(p)
	}
}

// takeBig returns a pooled big buffer (empty) for a message whose first
// frame is n bytes long, if the pool has one and dst is too small, or dst.
// It never allocates: a message that finds no buffer grows dst as it
// arrives (grow rounds it to a class), and putBig pools that buffer.
func (c *Conn) takeBig(n int64, dst []byte) []byte {
	if n <= bigMin || n <= int64(cap(dst)) || n > 1<<bigClassMax {
		return dst
	}
	i, _ := bigClass(int(n))
	p, _ := bigBufPools[i].Get().(*[]byte)
	if p == nil {
		return dst
	}
	c.bigp = p
	return (*p)[:0]
}

// putBig gives b, a buffer that appendMessage returned and its caller no
// longer uses, to the big-buffer pools if it is big and of a class size
// (a buffer takeBig took, or one grown for a message), and reports whether
// it did; the caller must then not use b again.
func (c *Conn) putBig(b []byte) bool {
	if cap(b) <= bigMin || !bigPooled(cap(b)) {
		return false
	}
	p := c.bigp
	c.bigp = nil
	if p == nil || unsafe.SliceData(*p) != unsafe.SliceData(b) {
		p = new([]byte)
	}
	*p = b
	bigBufPut(p)
	return true
}
