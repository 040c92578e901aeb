//go:build !js

package wsclient

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

// writeLock is the connection's write lock. Whoever holds it owns the
// socket's write side. It is also a combining queue: a writer that finds the
// lock held hands its frame over (a waiter) and sleeps; the holder writes its
// own frame together with the queued ones in one system call and wakes each
// waiter with its frame's result (flat combining). A writer that needs the
// lock itself (close paths, the pending pong) queues as a lock waiter, and
// unlock hands the lock straight to the first waiter that may go next.
//
// The uncontended path is one compare-and-swap to lock and one to unlock.
// Waiting can end with a context (lockCtx) or a timer (lockTimeout), which
// the channel-based lock this replaces allowed too.
//
// The frames of a fragmented message must not interleave with other data
// frames on the wire (control frames may go between them). inFrag records
// that a fragmented message is open: a text or binary frame that would start
// another message waits in the queue, skipped, until the final continuation
// frame has been committed.
type writeLock struct {
	state atomic.Int32 // lkHeld | lkQueued
	mu    sync.Mutex   // guards the queue and waiter states
	head  *waiter
	tail  *waiter
	// inFrag is owned by the lock holder: a fragmented message is open on
	// the wire.
	inFrag bool
	// conn, if set, is the connection whose frames this lock orders: once
	// its writing has ended (closeSent or werr, read by the holder) every
	// frame may go, to fail at once.
	conn *Conn
}

const (
	lkHeld   = 1 // someone holds the lock
	lkQueued = 2 // the queue is not empty: unlock must look at it
)

// Waiter states, guarded by writeLock.mu.
const (
	wQueued  = iota // in the queue
	wTaken          // a combiner took the frame and will complete it
	wDone           // completed: err holds the frame's result
	wGranted        // the lock was handed to this waiter
)

// waiter is a writer waiting on the lock: for the lock itself, or for its
// frame to be written by the holder. Waiters are pooled; ch is reused and
// receives exactly one signal per wait (when state leaves wQueued by another
// goroutine's hand).
type waiter struct {
	next  *waiter // queue link
	tnext *waiter // combiner's list of taken frames
	ch    chan struct{}
	state int
	ctx   context.Context

	isFrame bool
	fin     bool
	rsv     byte
	op      frame.Opcode
	p       []byte
	err     error
}

var waiterPool = sync.Pool{New: func() any { return &waiter{ch: make(chan struct{}, 1)} }}

func getWaiter() *waiter { return waiterPool.Get().(*waiter) }

func putWaiter(w *waiter) {
	w.next, w.tnext, w.ctx, w.p, w.err = nil, nil, nil, nil, nil
	w.isFrame = false
	waiterPool.Put(w)
}

// eligible reports whether a frame with op and this fin bit may be written
// next. The caller holds the lock.
func (l *writeLock) eligible(op frame.Opcode) bool {
	return !l.inFrag || op.IsControl() || op == frame.OpContinuation ||
		(l.conn != nil && (l.conn.proto.CloseSent() || l.conn.werr != nil))
}

// commit records that a frame is about to be written. The caller holds the
// lock.
func (l *writeLock) commit(op frame.Opcode, fin bool) {
	if !op.IsControl() {
		l.inFrag = !fin
	}
}

func (l *writeLock) tryLock() bool {
	for {
		s := l.state.Load()
		if s&lkHeld != 0 {
			return false
		}
		if l.state.CompareAndSwap(s, s|lkHeld) {
			return true
		}
	}
}

// lock waits as long as it takes.
func (l *writeLock) lock() {
	if l.state.CompareAndSwap(0, lkHeld) {
		return
	}
	w := getWaiter()
	if l.enqueue(w) {
		putWaiter(w)
		return
	}
	<-w.ch
	putWaiter(w)
}

// lockCtx waits for the lock until ctx ends. If the lock is free it is taken
// even when ctx has ended.
func (l *writeLock) lockCtx(ctx context.Context) error {
	if l.state.CompareAndSwap(0, lkHeld) {
		return nil
	}
	w := getWaiter()
	w.ctx = ctx
	if l.enqueue(w) {
		putWaiter(w)
		return nil
	}
	select {
	case <-w.ch:
		putWaiter(w)
		return nil
	case <-ctx.Done():
	}
	if l.cancel(w) {
		putWaiter(w)
		return ctx.Err()
	}
	// Granted meanwhile: keep the lock.
	<-w.ch
	putWaiter(w)
	return nil
}

// lockTimeout waits at most d for the lock.
func (l *writeLock) lockTimeout(d time.Duration) bool {
	if l.tryLock() {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	w := getWaiter()
	if l.enqueue(w) {
		putWaiter(w)
		return true
	}
	select {
	case <-w.ch:
		putWaiter(w)
		return true
	case <-t.C:
	}
	if l.cancel(w) {
		putWaiter(w)
		return false
	}
	<-w.ch
	putWaiter(w)
	return true
}

// enqueue takes the lock if it is free and w may go (returning true), or
// queues w (returning false). A frame that may not go yet is queued even
// when the lock is free.
func (l *writeLock) enqueue(w *waiter) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		s := l.state.Load()
		if s&lkHeld == 0 {
			if !l.state.CompareAndSwap(s, s|lkHeld) {
				continue
			}
			if !w.isFrame || l.eligible(w.op) {
				return true
			}
			// Held by us now, but this frame must wait for a fragmented
			// message to end: queue it and let go.
			l.push(w)
			l.releaseLocked()
			return false
		}
		if l.state.CompareAndSwap(s, s|lkQueued) {
			l.push(w)
			return false
		}
	}
}

func (l *writeLock) push(w *waiter) {
	w.state = wQueued
	w.next = nil
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
}

// remove unlinks w (which is queued) given its predecessor prev.
func (l *writeLock) remove(prev, w *waiter) {
	if prev == nil {
		l.head = w.next
	} else {
		prev.next = w.next
	}
	if l.tail == w {
		l.tail = prev
	}
	w.next = nil
}

// clearQueuedIfEmpty drops lkQueued when the queue has emptied. l.mu is held.
func (l *writeLock) clearQueuedIfEmpty() {
	if l.head != nil {
		return
	}
	for {
		s := l.state.Load()
		if s&lkQueued == 0 || l.state.CompareAndSwap(s, s&^lkQueued) {
			return
		}
	}
}

// cancel removes w from the queue if it is still there (true). Otherwise w
// has been taken, completed or granted, and a signal is on its way.
func (l *writeLock) cancel(w *waiter) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.state != wQueued {
		return false
	}
	var prev *waiter
	for q := l.head; q != nil; prev, q = q, q.next {
		if q == w {
			l.remove(prev, w)
			break
		}
	}
	l.clearQueuedIfEmpty()
	return true
}

// unlock releases the lock, handing it to the first waiter that may go.
func (l *writeLock) unlock() {
	if l.state.CompareAndSwap(lkHeld, 0) {
		return
	}
	l.mu.Lock()
	l.releaseLocked()
	l.mu.Unlock()
}

// releaseLocked hands the lock to the first eligible waiter, or frees it.
// The caller holds the lock and l.mu.
func (l *writeLock) releaseLocked() {
	var prev *waiter
	for w := l.head; w != nil; prev, w = w, w.next {
		if w.isFrame && !l.eligible(w.op) {
			continue
		}
		l.remove(prev, w)
		l.clearQueuedIfEmpty()
		w.state = wGranted
		w.ch <- struct{}{}
		return
	}
	if l.head != nil {
		l.state.Store(lkQueued)
	} else {
		l.state.Store(0)
	}
}

// take removes up to max eligible frames from the queue, in order, commits
// them and returns them linked through tnext. Frames whose writer's context
// has ended are completed with its error instead. The caller holds the lock.
func (l *writeLock) take(max int, maxBytes int) *waiter {
	if l.state.Load()&lkQueued == 0 {
		return nil
	}
	var first, last *waiter
	l.mu.Lock()
	var prev *waiter
	n, bytes := 0, 0
	for w := l.head; w != nil && n < max && bytes < maxBytes; {
		next := w.next
		if !w.isFrame || !l.eligible(w.op) {
			prev, w = w, next
			continue
		}
		l.remove(prev, w)
		if err := w.ctx.Err(); err != nil {
			w.err = err
			w.state = wDone
			w.ch <- struct{}{}
			w = next
			continue
		}
		l.commit(w.op, w.fin)
		w.state = wTaken
		if last == nil {
			first = w
		} else {
			last.tnext = w
		}
		last = w
		n++
		bytes += len(w.p)
		w = next
	}
	l.clearQueuedIfEmpty()
	l.mu.Unlock()
	return first
}

// complete finishes the taken frames from w on (a tnext list) with err.
func (l *writeLock) complete(w *waiter, err error) {
	if w == nil {
		return
	}
	l.mu.Lock()
	for q := w; q != nil; q = q.tnext {
		q.err = err
		q.state = wDone
	}
	l.mu.Unlock()
	for w != nil {
		next := w.tnext
		w.tnext = nil
		w.ch <- struct{}{}
		w = next
	}
}
