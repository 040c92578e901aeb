package sock

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// Large payloads over TCP are read with the socket's receive low-water mark
// (SO_RCVLOWAT) raised, so that the reader is woken once a good share of
// the frame has arrived instead of at every segment: a 16 MiB message then
// takes a few large reads where it took dozens of small ones, plus as many
// reads that found nothing after an early wake-up. The mark never exceeds
// the bytes the current frame still owes (they must arrive before anything
// else), and it goes back to 1 before the frame ends, so a small message,
// a frame header or a control frame is never waited for behind it. Linux
// makes room in the receive buffer for the mark (tcp_set_rcvlowat) and
// wakes the reader anyway when memory is short or the receive window
// closes, so a mark the buffer cannot reach does not stall the read.
const (
	LowatMin = 256 << 10 // reads smaller than this keep the default mark
	LowatMax = 2 << 20   // the mark for a large read
)

// lowat is the receive low-water mark state of a TCP connection; small,
// as every Stream carries one (the call state is allocated on first use).
type lowat struct {
	call *lowatCall // nil until the first large read
	cur  int32      // the mark set on the socket; 0 means 1
	tcp  bool       // the socket is TCP (the mark is honoured)
}

// lowatCall applies a mark through syscall.RawConn.Control.
type lowatCall struct {
	want int
	err  error
	fn   func(fd uintptr) // apply, made once
}

func (l *lowatCall) apply(fd uintptr) {
	l.err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, l.want)
}

// setLowat sets the mark on the socket, reporting success.
func (s *Stream) setLowat(v int) bool {
	l := s.lowat.call
	if l == nil {
		l = &lowatCall{}
		l.fn = l.apply
		s.lowat.call = l
	}
	l.want = v
	return s.raw.Control(l.fn) == nil && l.err == nil
}

// setupLowat enables the low-water mark for TCP sockets.
func (s *Stream) setupLowat() {
	if _, ok := s.nc.(*net.TCPConn); ok && s.raw != nil {
		s.lowat.tcp = true
	}
}

// RaiseLowat sets the low-water mark for a read of n bytes straight into
// the caller's memory, which are all owed by the current frame. The caller
// is the reader.
func (s *Stream) RaiseLowat(n int) {
	l := &s.lowat
	if !l.tcp || n < LowatMin || l.cur >= LowatMin {
		return
	}
	v := min(n, LowatMax)
	if s.setLowat(v) {
		l.cur = int32(v)
	} else {
		l.tcp = false
	}
}

// LowerLowat puts the mark back to 1 unless the current frame still owes
// at least the mark's bytes. The caller is the reader.
func (s *Stream) LowerLowat(owed int64) {
	l := &s.lowat
	if l.cur == 0 || owed >= int64(l.cur) {
		return
	}
	l.cur = 0
	if !s.setLowat(1) {
		// The mark could not be lowered (the socket is closed, or
		// broken): rather than risk waiting for bytes that never come,
		// close it.
		l.tcp = false
		s.nc.Close()
	}
}

// Unread returns how many bytes the kernel holds for the socket, not read
// yet (SIOCINQ), or 0 when it cannot tell. While the mark is raised,
// arriving bytes wait there until enough of them have come, so a liveness
// check counts them too.
func (s *Stream) Unread() uint64 {
	if s.raw == nil {
		return 0
	}
	var n int
	var err error
	if cerr := s.raw.Control(func(fd uintptr) {
		n, err = unix.IoctlGetInt(int(fd), unix.SIOCINQ)
	}); cerr != nil || err != nil || n < 0 {
		return 0
	}
	return uint64(n)
}
