package sock

import (
	"bytes"
	"io"
	"testing"
)

// WritevOnce writes the head and the vectors in order with one call each,
// taking what the socket has room for, and allocates nothing once its
// state has its vector.
func TestStreamWritevOnce(t *testing.T) {
	s, srv := newStream(t, false)
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(i>>8 ^ i)
	}
	want := append([]byte("head"), big...)
	want = append(want, "tail"...)
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(srv)
		got <- b
	}()
	var w Writev
	head, rest, tail := []byte("head"), big, []byte("tail")
	calls := 0
	for len(head)+len(rest)+len(tail) > 0 {
		iov := make([][]byte, 0, 2)
		if len(rest) > 0 {
			iov = append(iov, rest)
		}
		if len(tail) > 0 {
			iov = append(iov, tail)
		}
		n, err := s.WritevOnce(&w, head, iov)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		k := min(n, len(head))
		head, n = head[k:], n-k
		k = min(n, len(rest))
		rest, n = rest[k:], n-k
		tail = tail[min(n, len(tail)):]
	}
	for _, v := range w.vec[:cap(w.vec)] {
		if v.Base != nil {
			t.Fatal("the state still refers to the caller's memory")
		}
	}
	s.Conn().Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the server read %d bytes differing from the %d written", len(b), len(want))
	}
	t.Logf("%d writev calls for %d bytes", calls, len(want))
}

// A writev on a closed socket reports it as a socket Write does.
func TestStreamWritevOnceClosed(t *testing.T) {
	s, _ := newStream(t, false)
	s.Conn().Close()
	var w Writev
	_, err := s.WritevOnce(&w, []byte("x"), nil)
	assertOpError(t, err, "write")
}
