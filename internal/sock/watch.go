package sock

import (
	"context"
	"runtime"
	"sync"
	"weak"
)

// watch interrupts one direction's I/O when the watched context ends (see
// context.go). It refers to its Stream weakly: a context that outlives an
// abandoned connection keeps only the watch, and a cleanup on the Stream
// unregisters it.
type watch struct {
	s     weak.Pointer[Stream]
	read  bool
	armed bool   // armed by ArmRead or armWrite (owned by the caller, as rctx/wctx)
	fire  func() // w.onDone, allocated once

	mu          sync.Mutex
	cond        sync.Cond       // signalled when fired becomes true
	ctx         context.Context // the context registered with context.AfterFunc
	last        context.Context // the previous watched call's context
	stop        func() bool     // unregisters from ctx
	fired       bool            // ctx is done and onDone has run
	active      bool            // a watched call is under way
	moved       bool            // the deadline was moved for the active call
	once        bool            // ctx is registered for the active call only
	readerWrite bool            // the reader writes (BeginBoundedWrite): its deadline moves too
}

func newWatch(s *Stream, read bool) *watch {
	w := &watch{s: weak.Make(s), read: read}
	w.cond.L = &w.mu
	w.fire = w.onDone
	runtime.AddCleanup(s, (*watch).release, w)
	return w
}

// start begins a watched call under ctx.
func (w *watch) start(ctx context.Context) {
	w.mu.Lock()
	switch {
	case ctx == w.ctx:
		// Registered already.
	case ctx == w.last:
		// The second call in a row with this context: keep it registered.
		w.releaseLocked()
		w.ctx = ctx
		w.stop = context.AfterFunc(ctx, w.fire)
	default:
		// Watch this call only.
		w.releaseLocked()
		w.ctx = ctx
		w.stop = context.AfterFunc(ctx, w.fire)
		w.once = true
	}
	w.last = ctx
	w.active = true
	if w.fired {
		w.moveLocked()
	}
	w.mu.Unlock()
}

// releaseLocked unregisters from the registered context, waiting for its
// callback if the context ended (so that it cannot act on a later call).
func (w *watch) releaseLocked() {
	if w.stop == nil {
		return
	}
	if !w.stop() {
		for !w.fired {
			w.cond.Wait()
		}
	}
	w.ctx, w.stop, w.fired = nil, nil, false
}

// release unregisters from the context (the Stream's cleanup).
func (w *watch) release() {
	w.mu.Lock()
	w.releaseLocked()
	w.last = nil
	w.mu.Unlock()
}

// onDone is the registered context's callback.
func (w *watch) onDone() {
	w.mu.Lock()
	w.fired = true
	if w.active {
		w.moveLocked()
	}
	w.cond.Broadcast()
	w.mu.Unlock()
}

// moveLocked moves the deadline into the past. For reads, a write of the
// reader's under way (see BeginBoundedWrite) ends with the read too.
func (w *watch) moveLocked() {
	if s := w.s.Value(); s != nil {
		if w.read {
			s.nc.SetReadDeadline(aLongTimeAgo)
			if w.readerWrite {
				s.nc.SetWriteDeadline(aLongTimeAgo)
			}
		} else {
			s.nc.SetWriteDeadline(aLongTimeAgo)
		}
	}
	w.moved = true
}

// end ends the watched call, putting back the user's deadline if it was
// moved.
func (w *watch) end() {
	w.mu.Lock()
	w.active = false
	if w.once {
		w.once = false
		w.releaseLocked()
	}
	moved := w.moved
	w.moved = false
	w.mu.Unlock()
	if !moved {
		return
	}
	s := w.s.Value()
	if s == nil {
		return
	}
	dl := s.userDeadline(w.read)
	if w.read {
		s.nc.SetReadDeadline(dl)
	} else {
		s.nc.SetWriteDeadline(dl)
	}
}

// What tests observe of the watches: a test that watches a call from
// another goroutine makes the watch (PrepareWatch) before the call starts.

// PrepareWatch makes the context watch of one direction, if not made yet.
func (s *Stream) PrepareWatch(read bool) { s.watcher(read) }

// WatchMade reports whether a call of one direction has watched its
// context (or PrepareWatch made its watch).
func (s *Stream) WatchMade(read bool) bool {
	if read {
		return s.rwatch != nil
	}
	return s.wwatch != nil
}

// Watching reports whether a call of one direction waits with its context
// watched now. The watch must have been made before the call began.
func (s *Stream) Watching(read bool) bool {
	w := s.watcher(read)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.active
}

// Registered returns the context one direction's watch keeps registered
// with context.AfterFunc, or nil.
func (s *Stream) Registered(read bool) context.Context {
	w := s.watcher(read)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ctx
}
