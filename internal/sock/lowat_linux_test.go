package sock

import (
	"net"
	"path/filepath"
	"syscall"
	"testing"
)

// lowatSupported: the receive low-water mark is used here.
const lowatSupported = true

// rcvLowat returns the socket's SO_RCVLOWAT.
func rcvLowat(t testing.TB, s *Stream) int {
	t.Helper()
	var v int
	var gerr error
	if err := s.raw.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// The mark is raised for a large read only (to LowatMax at most, and not
// again while raised), and goes back to 1 once the frame owes less than
// it; a failed lowering closes the socket rather than risk a read that
// waits for bytes that never come.
func TestStreamLowat(t *testing.T) {
	s, _ := newStream(t, false)
	s.RaiseLowat(LowatMin - 1)
	if v := rcvLowat(t, s); v != 1 {
		t.Fatalf("after a small read's RaiseLowat the mark is %d, want 1", v)
	}
	s.RaiseLowat(LowatMin)
	if v := rcvLowat(t, s); v != LowatMin {
		t.Fatalf("mark %d, want %d", v, LowatMin)
	}
	s.RaiseLowat(4 * LowatMax) // raised already: unchanged
	if v := rcvLowat(t, s); v != LowatMin {
		t.Fatalf("mark %d after a second RaiseLowat, want %d", v, LowatMin)
	}
	s.LowerLowat(LowatMin) // the frame still owes the mark's bytes
	if v := rcvLowat(t, s); v != LowatMin {
		t.Fatalf("mark %d while the frame owes it, want %d", v, LowatMin)
	}
	s.LowerLowat(LowatMin - 1)
	if v := rcvLowat(t, s); v != 1 {
		t.Fatalf("mark %d once the frame owes less, want 1", v)
	}
	s.RaiseLowat(4 * LowatMax)
	if v := rcvLowat(t, s); v != LowatMax {
		t.Fatalf("mark %d for a very large read, want %d", v, LowatMax)
	}
	s.Conn().Close()
	s.LowerLowat(0)
	if s.lowat.cur != 0 || s.lowat.tcp {
		t.Fatal("a mark that could not be lowered is still in use")
	}
	s.RaiseLowat(LowatMax)
	if s.lowat.cur != 0 {
		t.Fatal("the mark was raised again after it could not be lowered")
	}
}

// The mark is left alone on a Unix socket and on a wrapper.
func TestStreamLowatTCPOnly(t *testing.T) {
	w, _ := newStream(t, true)
	w.RaiseLowat(LowatMax)
	if w.lowat.cur != 0 {
		t.Error("the mark was raised on a wrapped socket")
	}
	a, b, err := unixPair(t)
	if err != nil {
		t.Skip(err)
	}
	defer a.Close()
	defer b.Close()
	var s Stream
	s.Init(a)
	s.RaiseLowat(LowatMax)
	if v := rcvLowat(t, &s); v != 1 || s.lowat.cur != 0 {
		t.Errorf("the mark was raised on a Unix socket (%d)", v)
	}
}

// unixPair returns the two ends of a Unix stream socket.
func unixPair(t testing.TB) (net.Conn, net.Conn, error) {
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	a, err := net.Dial("unix", path)
	if err != nil {
		return nil, nil, err
	}
	return a, <-ch, nil
}
