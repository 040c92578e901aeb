package wsclient

import (
	"errors"
	"net"
	"testing"
)

// lostErr's error matches ErrConnectionLost and its cause, says both, and
// formats nothing until asked.
func TestLostErr(t *testing.T) {
	cause := &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
	err := lostErr(cause)
	if !errors.Is(err, ErrConnectionLost) || !errors.Is(err, net.ErrClosed) {
		t.Errorf("%v: does not match ErrConnectionLost and net.ErrClosed", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe != cause {
		t.Errorf("%v: errors.As finds %v, want the cause", err, oe)
	}
	if got, want := err.Error(), ErrConnectionLost.Error()+": "+cause.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _ = lostErr(cause) }); n > 1 {
		t.Errorf("lostErr: %v allocations, want 1", n)
	}
	if lostErr(nil) != ErrConnectionLost {
		t.Error("lostErr(nil) is not ErrConnectionLost")
	}
}
