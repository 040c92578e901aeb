package wsclient

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

// A large frame read first with a large buffer (the mark goes up) and then
// with small ones (reads through the read buffer) must still put the mark
// back before the frame ends: else the next message, smaller than the
// mark, is never woken for.
func TestConnReadLowatLoweredAfterSmallReads(t *testing.T) {
	conn, s := rawConnPair(t)
	const size = 4 << 20
	msg := largePayload(size)
	next := make(chan struct{})
	go func() {
		s.Write(serverFrameHead(frame.OpBinary, size))
		s.Write(msg)
		<-next
		s.Write(append(serverFrameHead(frame.OpText, 2), "ok"...))
	}()
	defer func() {
		select {
		case <-next:
		default:
			close(next)
		}
	}()
	_, r, err := conn.NextReader(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 512<<10)
	got := 0
	for i := 0; rcvLowat(t, conn.nc) <= 1; i++ {
		if i == 100 {
			t.Fatal("the mark never went up")
		}
		n, err := r.Read(big)
		got += n
		if err != nil {
			t.Fatal(err)
		}
	}
	small := make([]byte, 1000)
	for {
		n, err := r.Read(small)
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got != size {
		t.Fatalf("read %d bytes, want %d", got, size)
	}
	if v := rcvLowat(t, conn.nc); v != 1 {
		t.Errorf("SO_RCVLOWAT is %d after the frame, want 1", v)
	}
	close(next)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, p, err := conn.ReadMessage(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the small message after the large one was never read (stalled behind the raised mark)")
	}
	if err != nil || string(p) != "ok" {
		t.Fatalf("next message: %q, %v", p, err)
	}
}
