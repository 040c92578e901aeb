//go:build !js

package wsclient

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/wsclient/wsclient/internal/sock"
)

// Over a plain socket a large frame goes out in single writev calls over
// a ring of masked bytes (addLargeRaw): through a peer that reads
// slowly (so most calls are partial), with a small frame before it in the
// same write and one after it, every byte arrives, in order, and the
// caller's data is untouched.
func TestConnWriteLargeRawPartialWrites(t *testing.T) {
	conn, s := rawConnPair(t)
	if !conn.stream.Raw() {
		t.Skip("no raw socket access here")
	}
	big := make([]byte, 9<<20+123)
	for i := range big {
		big[i] = byte(i>>8 ^ i)
	}
	orig := bytes.Clone(big)
	want := [][]byte{[]byte("before"), orig, []byte("after")}
	got := readFramesSlowly(s, len(want))
	n, err := conn.WriteBatch(testCtx(t), BinaryMessage, [][]byte{[]byte("before"), big, []byte("after")})
	if n != 3 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	ps := recv(t, got)
	if len(ps) != len(want) {
		t.Fatalf("server read %d frames, want %d", len(ps), len(want))
	}
	for i := range want {
		if !bytes.Equal(ps[i], want[i]) {
			t.Fatalf("frame %d: %d bytes differing from the %d sent", i, len(ps[i]), len(want[i]))
		}
	}
	if !bytes.Equal(big, orig) {
		t.Fatal("the caller's data was modified")
	}
}

// When the peer goes away in the middle of a large frame, the write fails
// with ErrConnectionLost, and a frame written before it in the same batch
// (whole on the wire) is reported as written.
func TestConnWriteLargeRawPeerGone(t *testing.T) {
	conn, s := rawConnPair(t)
	go func() {
		io.CopyN(io.Discard, s, 1<<20)
		s.Close()
	}()
	big := make([]byte, 32<<20)
	n, err := conn.WriteBatch(testCtx(t), BinaryMessage, [][]byte{[]byte("before"), big})
	if n != 1 || !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("WriteBatch = %d, %v; want 1 and ErrConnectionLost", n, err)
	}
}

// withRings makes addLargeRaw take rings of size bytes from a fresh pool
// for the rest of the test.
func withRings(t *testing.T, size int) {
	old := rawWindows
	rawWindows = &sync.Pool{New: func() any { b := make([]byte, size); return &b }}
	t.Cleanup(func() { rawWindows = old })
}

// The ring wraps: through a ring of an odd size, far smaller than the
// frame, and a peer that reads slowly (writev calls take parts of one
// span, or of both when the masked bytes wrap), every byte arrives in
// order with the frames around it.
func TestConnWriteLargeRawRingWraps(t *testing.T) {
	conn, s := rawConnPair(t)
	if !conn.stream.Raw() || !sock.HasWritev {
		t.Skip("no raw writev here")
	}
	withRings(t, 70001)
	big := make([]byte, 3<<20+5)
	for i := range big {
		big[i] = byte(i>>8 ^ i)
	}
	want := [][]byte{[]byte("before"), bytes.Clone(big), []byte("after")}
	got := readFramesSlowly(s, len(want))
	if n, err := conn.WriteBatch(testCtx(t), BinaryMessage, [][]byte{[]byte("before"), big, []byte("after")}); n != 3 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	ps := recv(t, got)
	if len(ps) != len(want) {
		t.Fatalf("server read %d frames, want %d", len(ps), len(want))
	}
	for i := range want {
		if !bytes.Equal(ps[i], want[i]) {
			t.Fatalf("frame %d: %d bytes differing from the %d sent", i, len(ps[i]), len(want[i]))
		}
	}
}

// A large frame over a plain socket holds one ring of rawWindow bytes
// (sized to stay in the cache) for its masked bytes, not a window of
// chunks: writing 16 MiB with an empty pool allocates one ring.
func TestConnWriteLargeRawOneRing(t *testing.T) {
	conn, s := rawConnPair(t)
	if !conn.stream.Raw() || !sock.HasWritev {
		t.Skip("no raw writev here")
	}
	withRings(t, rawWindow)
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, s)
		close(done)
	}()
	big := make([]byte, 16<<20)
	ctx := testCtx(t)
	if err := conn.WriteMessage(ctx, BinaryMessage, []byte("warm")); err != nil {
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if err := conn.WriteMessage(ctx, BinaryMessage, big); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	if got := m1.TotalAlloc - m0.TotalAlloc; got < uint64(rawWindow) || got > uint64(rawWindow)+256<<10 {
		t.Errorf("a 16 MiB write allocated %d bytes with an empty pool, want one ring of %d", got, rawWindow)
	}
	conn.CloseNow()
	s.Close()
	<-done
}
