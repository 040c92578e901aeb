package wsclient

import (
	"math"
	"math/rand/v2"
	"time"
)

// Backoff computes reconnect delays that grow exponentially with the number
// of consecutive failed connection attempts, up to a cap, with random jitter
// so that many clients cut off by the same server outage do not all return at
// the same instant.
//
// A zero field takes the value of defaultBackoff, Jitter included, so that
// Backoff{Max: time.Minute} changes the cap and nothing else. For delays
// without jitter set Jitter to a negative value.
type Backoff struct {
	// Initial is the delay before the first reconnect (attempt 0).
	Initial time.Duration
	// Max caps the delay.
	Max time.Duration
	// Multiplier is the growth factor per failed attempt (at least 1).
	Multiplier float64
	// Jitter is the fraction of each delay that is random, in (0, 1]: the
	// delay is drawn uniformly from [d*(1-Jitter), d]. 1 is "full jitter"
	// (uniform in [0, d]); values above 1 count as 1. 0 means the default
	// (defaultBackoff.Jitter); a negative value makes delays deterministic.
	Jitter float64
}

// defaultBackoff is the backoff a Client uses unless Options.Backoff says
// otherwise: 500ms, 1s, 2s, 4s ... up to 30s, each reduced by up to half at
// random.
var defaultBackoff = Backoff{
	Initial:    500 * time.Millisecond,
	Max:        30 * time.Second,
	Multiplier: 2,
	Jitter:     0.5,
}

// Base returns the delay for attempt without jitter: Initial *
// Multiplier^attempt, capped at Max. Attempt 0 is the first reconnect after
// a connection ended; attempt n follows n failed attempts in a row.
func (b Backoff) base(attempt int) time.Duration {
	initial, maxD, mult := b.Initial, b.Max, b.Multiplier
	if initial <= 0 {
		initial = defaultBackoff.Initial
	}
	if maxD <= 0 {
		maxD = defaultBackoff.Max
	}
	if mult == 0 {
		mult = defaultBackoff.Multiplier
	}
	if mult < 1 {
		mult = 1
	}
	if attempt < 0 {
		attempt = 0
	}
	d := float64(initial) * math.Pow(mult, float64(attempt))
	if d >= float64(maxD) || math.IsInf(d, 0) || math.IsNaN(d) {
		return maxD
	}
	return time.Duration(d)
}

// next returns the delay before reconnect attempt attempt: base(attempt)
// with jitter applied. It is safe for concurrent use.
func (b Backoff) next(attempt int) time.Duration {
	d := b.base(attempt)
	j := b.Jitter
	if j == 0 {
		j = defaultBackoff.Jitter
	}
	j = min(j, 1)
	if j <= 0 || d <= 0 || math.IsNaN(j) {
		return d
	}
	return d - time.Duration(j*rand.Float64()*float64(d))
}
