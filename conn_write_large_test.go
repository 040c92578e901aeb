package wsclient

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// Over a plain socket a large frame goes out in single writev calls over
// a window of masked chunks (addLargeRaw): through a peer that reads
// slowly (so most calls are partial), with a small frame before it in the
// same write and one after it, every byte arrives, in order, and the
// caller's data is untouched.
func TestConnWriteLargeRawPartialWrites(t *testing.T) {
	conn, s := rawConnPair(t)
	if conn.raw == nil {
		t.Skip("no raw socket access here")
	}
	big := make([]byte, 9<<20+123)
	for i := range big {
		big[i] = byte(i>>8 ^ i)
	}
	orig := bytes.Clone(big)
	want := [][]byte{[]byte("before"), orig, []byte("after")}
	got := make(chan [][]byte, 1)
	go func() {
		r := bufio.NewReaderSize(&slowReader{r: s}, 4096)
		var ps [][]byte
		for range want {
			_, p, err := readFrame(r)
			if err != nil {
				break
			}
			ps = append(ps, p)
		}
		got <- ps
	}()
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
