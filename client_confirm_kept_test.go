//go:build !js

package wsclient

import (
	"bytes"
	"fmt"
	"testing"
)

// The kept list gives back, in order and intact, frames copied into its
// buffer and frames kept in their items, across pops that compact it.
func TestKeptListOrderAcrossCompaction(t *testing.T) {
	var k keptList
	payload := func(i int) []byte {
		if i%5 == 0 {
			return bytes.Repeat([]byte{byte(i)}, keepCopyMax+1) // kept in its item
		}
		return []byte(fmt.Sprintf("frame %d", i))
	}
	push := func(i int) {
		it := copyItem(Frame{Type: BinaryMessage, Data: payload(i)})
		if !k.push(it, uint64(i/10+1)) {
			freeItem(it)
		}
	}
	next := 0
	for ; next < 40; next++ {
		push(next)
	}
	// Confirm the first 30 (tags 1-3): more than half, so the list compacts.
	n, _, done := k.popUpTo(3, nil)
	if n != 30 || len(done) != 6 {
		t.Fatalf("popped %d frames, %d items; want 30, 6", n, len(done))
	}
	if k.head != 0 || k.from != 0 {
		t.Fatalf("not compacted: head %d, from %d", k.head, k.from)
	}
	// What compaction left behind the buffer's length is stale: reads
	// must not reach it.
	clear(k.data[len(k.data):cap(k.data)])
	for ; next < 50; next++ {
		push(next)
	}
	items := k.takeAll()
	if len(items) != 20 || !k.empty() {
		t.Fatalf("took %d frames, empty %v", len(items), k.empty())
	}
	for i, it := range items {
		if want := payload(30 + i); !bytes.Equal(it.f.Data, want) || it.f.Type != BinaryMessage {
			t.Fatalf("frame %d is %q (%v), want %q", 30+i, it.f.Data, it.f.Type, want)
		}
	}
}
