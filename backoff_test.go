//go:build !js

package wsclient

import (
	"math"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: -1}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.next(i); got != w*time.Millisecond {
			t.Errorf("next(%d) = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	if got := b.base(math.MaxInt32); got != time.Second {
		t.Errorf("base(huge) = %v", got)
	}
	if got := (Backoff{}).base(0); got != defaultBackoff.Initial {
		t.Errorf("zero Backoff base(0) = %v", got)
	}
	b.Jitter = 0.5
	lo, hi := time.Hour, time.Duration(0)
	for range 1000 {
		d := b.next(2)
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 200*time.Millisecond || hi > 400*time.Millisecond || hi-lo < 100*time.Millisecond {
		t.Errorf("jittered next(2) in [%v, %v], want spread within [200ms, 400ms]", lo, hi)
	}
	b.Jitter = 1 // full jitter
	for range 1000 {
		if d := b.next(0); d < 0 || d > 100*time.Millisecond {
			t.Fatalf("full jitter next(0) = %v", d)
		}
	}
}

// A zero Jitter means the default, as the other zero fields do: a backoff
// that only sets a cap still spreads its clients out.
func TestBackoffZeroJitterIsDefault(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond}
	lo, hi := time.Hour, time.Duration(0)
	for range 1000 {
		d := b.next(1)
		lo, hi = min(lo, d), max(hi, d)
	}
	// defaultBackoff: multiplier 2, jitter 0.5: [100ms, 200ms].
	if lo < 100*time.Millisecond || hi > 200*time.Millisecond || hi-lo < 50*time.Millisecond {
		t.Fatalf("next(1) in [%v, %v], want spread within [100ms, 200ms]", lo, hi)
	}
	b.Jitter = -1
	for range 100 {
		if d := b.next(1); d != 200*time.Millisecond {
			t.Fatalf("no jitter: next(1) = %v", d)
		}
	}
}
