// Package deadline is a settable point in time that blocked operations can
// wait on, for byte streams that are not sockets (the HTTP/2 stream, the
// net.Conn over a Conn): their deadlines must interrupt a blocked Read or
// Write the way a socket's do, without harming the stream.
package deadline

import (
	"sync"
	"time"
)

// Deadline is a settable point in time with a channel that is closed when
// it passes. Setting a new time re-arms it; a timer of an earlier setting
// never fires into a later one. The zero value has no deadline; the
// channel is made only when someone waits or the deadline passes.
type Deadline struct {
	mu    sync.Mutex
	gen   uint64
	timer *time.Timer
	ch    chan struct{}
	fired bool
}

// Set moves the deadline to t; the zero time means none.
func (d *Deadline) Set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.fired {
		d.ch = nil
		d.fired = false
	}
	if t.IsZero() {
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		d.fireLocked()
		return
	}
	gen := d.gen
	d.timer = time.AfterFunc(dur, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.gen == gen && !d.fired {
			d.fireLocked()
		}
	})
}

func (d *Deadline) fireLocked() {
	if d.ch == nil {
		d.ch = make(chan struct{})
	}
	close(d.ch)
	d.fired = true
}

// Wait returns a channel closed when the deadline passes.
func (d *Deadline) Wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch == nil {
		d.ch = make(chan struct{})
	}
	return d.ch
}

// Expired reports whether the deadline has passed.
func (d *Deadline) Expired() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fired
}

// Stop cancels a pending timer.
func (d *Deadline) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}
