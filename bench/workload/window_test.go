package workload

import (
	"testing"
	"time"
)

// TestWindowBoundsInFlight sends messages through a channel standing for
// the connection: the writer never has more than the window outstanding,
// it waits when the window is full, and every message gets through.
func TestWindowBoundsInFlight(t *testing.T) {
	const size, n = 8, 1000
	f := newFailer()
	w := newWindow(size)
	wire := make(chan uint64, 4*size) // room for more than the window
	var maxOut uint64
	waited := 0
	go func() {
		defer close(wire)
		for seq := uint64(0); seq < n; seq++ {
			full := seq >= w.got.Load()+size
			if !w.admit(seq, f) {
				return
			}
			if full {
				waited++
			}
			maxOut = max(maxOut, seq+1-w.got.Load())
			wire <- seq
		}
	}()
	var got uint64
	timeout := time.After(10 * time.Second)
	for got < n {
		select {
		case seq, ok := <-wire:
			if !ok {
				t.Fatalf("writer stopped after %d echoes", got)
			}
			if seq != got {
				t.Fatalf("echo %d, want %d", seq, got)
			}
			got++
			w.received(got)
		case <-timeout:
			t.Fatalf("stuck after %d echoes", got)
		}
	}
	if maxOut > size {
		t.Errorf("%d messages in flight, window %d", maxOut, size)
	}
	if waited == 0 {
		t.Errorf("the writer never waited for the window")
	}
}

// TestWindowUnbounded: a window of size 0 never waits.
func TestWindowUnbounded(t *testing.T) {
	f := newFailer()
	w := newWindow(0)
	for seq := uint64(0); seq < 1000; seq++ {
		if !w.admit(seq, f) {
			t.Fatal("admit failed")
		}
	}
}

// TestWindowFailEndsWait: a writer waiting for the window returns false
// when the run fails.
func TestWindowFailEndsWait(t *testing.T) {
	f := newFailer()
	w := newWindow(4)
	done := make(chan bool)
	go func() { done <- w.admit(10, f) }()
	f.fail(errShort)
	select {
	case ok := <-done:
		if ok {
			t.Error("admit returned true after the run failed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("admit still waiting after the run failed")
	}
}
