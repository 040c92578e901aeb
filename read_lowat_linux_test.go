//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/sock"
)

// rcvLowat returns the socket's SO_RCVLOWAT.
func rcvLowat(t testing.TB, nc net.Conn) int {
	t.Helper()
	rc, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// While a large frame's payload is read, the reader waits for sock.LowatMax
// bytes at a time (SO_RCVLOWAT), not for the first segment; the mark is
// back to 1 once the frame has been read, so that a small message after it
// is read at once.
func TestConnReadLargeLowWaterMark(t *testing.T) {
	conn, s := rawConnPair(t)
	const size = 6 << 20
	msg := largePayload(size)
	type result struct {
		p   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		_, p, err := conn.appendMessage(testCtx(t), make([]byte, 0, size), false)
		got <- result{p, err}
	}()
	// The header and the first MiB: the reader then waits with the mark
	// raised for the rest of the frame.
	s.Write(serverFrameHead(frame.OpBinary, size))
	s.Write(msg[:1<<20])
	deadline := time.Now().Add(10 * time.Second)
	for rcvLowat(t, conn.nc) != sock.LowatMax {
		if time.Now().After(deadline) {
			t.Fatalf("SO_RCVLOWAT is %d during the large read, want %d", rcvLowat(t, conn.nc), sock.LowatMax)
		}
		time.Sleep(time.Millisecond) // polling the kernel's state: no event to wait for
	}
	s.Write(msg[1<<20:])
	r := recv(t, got)
	if r.err != nil || !bytes.Equal(r.p, msg) {
		t.Fatalf("large message: %d bytes, %v", len(r.p), r.err)
	}
	if v := rcvLowat(t, conn.nc); v != 1 {
		t.Fatalf("SO_RCVLOWAT is %d after the large message, want 1", v)
	}
	// A small message: read without waiting for more.
	s.Write(append(serverFrameHead(frame.OpText, 5), "hello"...))
	_, p, err := conn.ReadMessage(testCtx(t))
	if err != nil || string(p) != "hello" {
		t.Fatalf("small message after the large one: %q, %v", p, err)
	}
}

// A receive buffer the application fixed smaller than the mark (Linux
// does not grow it then) does not stall a large read: the kernel wakes the
// reader when the window closes.
func TestConnReadLargeSmallReceiveBuffer(t *testing.T) {
	conn, s := rawConnPair(t)
	if err := conn.nc.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	const size = 8 << 20
	msg := largePayload(size)
	go func() {
		s.Write(serverFrameHead(frame.OpBinary, size))
		s.Write(msg)
		s.Write(append(serverFrameHead(frame.OpText, 2), "ok"...))
	}()
	conn.setReadDeadline(time.Now().Add(20 * time.Second))
	dst := make([]byte, 0, size)
	_, p, err := conn.appendMessage(testCtx(t), dst, false)
	if err != nil || !bytes.Equal(p, msg) {
		t.Fatalf("large message: %d bytes, %v", len(p), err)
	}
	if _, p, err := conn.ReadMessage(testCtx(t)); err != nil || string(p) != "ok" {
		t.Fatalf("next message: %q, %v", p, err)
	}
}

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
