package h2

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// Tests of a stream whose server stops reading: the windows are open, the
// socket is full, and Write blocks in the kernel.

// stalledStream opens a stream on a server that grants every window and
// then reads nothing more until the test ends.
func stalledStream(t *testing.T) *Stream {
	t.Helper()
	done := make(chan struct{})
	nc := scripted(t, func(p *peer) {
		p.settings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
		p.fr.WriteWindowUpdate(0, 1<<31-1-initialSendWindow)
		p.accept()
		<-done
	})
	t.Cleanup(func() { close(done) })
	return openT(t, newConnT(t, nc))
}

// stuffing is more than the sockets' buffers hold.
var stuffing = make([]byte, 64<<20)

// The write deadline interrupts a Write blocked on the socket.
func TestStreamWriteDeadlineOnStalledServer(t *testing.T) {
	s := stalledStream(t)
	s.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	errc := make(chan error, 1)
	go func() { _, err := s.Write(stuffing); errc <- err }()
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write: %v, want a deadline error", err)
		}
	case <-time.After(10 * time.Second):
		s.c.nc.Close()
		<-errc
		t.Fatal("the write deadline did not end a Write blocked on the socket")
	}
}

// Close (the Conn's CloseNow) returns at once and ends a Write blocked on
// the socket.
func TestStreamCloseUnblocksStalledWrite(t *testing.T) {
	s := stalledStream(t)
	errc := make(chan error, 1)
	go func() { _, err := s.Write(stuffing); errc <- err }()
	// Wait until the Write is writing (it cannot finish).
	for {
		s.c.mu.Lock()
		writing := s.c.writer == s
		s.c.mu.Unlock()
		if writing {
			break
		}
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		s.c.nc.Close()
		<-closed
		t.Fatal("Close blocked behind a Write on a server that does not read")
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Write: %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the blocked Write")
	}
}
