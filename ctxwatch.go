//go:build !js

package wsclient

import (
	"context"
	"runtime"
	"sync"
	"time"
	"weak"
)

// Contexts of blocking calls.
//
// A context that ends while a call waits on the socket interrupts the wait
// by moving the socket's deadline into the past (a ctxWatch does it). Most
// calls never wait: a write the socket takes at once, a read served from
// buffered bytes or by a socket read that returns data. So a call only
// records its context (beginRead, beginWrite) and checks whether it has
// already ended; the context is watched only from the point where the call
// is about to wait (armRead, armWrite): on a plain socket, when a read or
// write attempt finds the socket not ready (see sockRead and sockWrite); on
// any other connection (TLS, an HTTP/2 stream, a wrapper), before each
// socket read or write, which may wait without saying so.
//
// A watched context is registered with context.AfterFunc (see
// ctxWatch.start). A context used by two watched calls in a row stays
// registered, which then costs nothing per call; any other context is
// registered for the call only, which on a fresh context costs its done
// channel and AfterFunc's allocations (the callback's context, the
// parent's children map and its group, the stop function), five in all.
// Watching such a call from a goroutine waiting on ctx.Done() instead
// costs only the done channel, but two goroutine wake-ups per call (a
// fresh-context round trip took 38 µs against 32 µs with AfterFunc and 28
// µs with context.Background()) and a goroutine stack per waiting call
// (about 2.5 KB, against well under 1 KB), so a connection blocked in a
// long read costs more: AfterFunc it is.

// beginRead records ctx as the context of the read under way, unless it
// can never end (ctx.Done returns nil, as for context.Background and the
// contexts derived from it without a cancel). The caller holds readMu and
// calls endRead when the read is over.
func (c *Conn) beginRead(ctx context.Context) {
	if ctx.Done() != nil {
		c.rctx = ctx
	}
}

// armRead watches the context of the read under way, if it can end and is
// not watched yet: the read is about to wait.
func (c *Conn) armRead() {
	if ctx := c.rctx; ctx != nil {
		c.rctx = nil
		c.arm(ctx, true)
	}
}

// endRead ends the read's watch, putting the read deadline back if the
// context moved it.
func (c *Conn) endRead() {
	c.rctx = nil
	if w := c.rwatch; w != nil && w.armed {
		w.armed = false
		w.end()
	}
}

// beginWrite, armWrite and endWrite do the same for a write; the caller
// holds wmu.
func (c *Conn) beginWrite(ctx context.Context) {
	if ctx.Done() != nil {
		c.wctx = ctx
	}
}

func (c *Conn) armWrite() {
	if ctx := c.wctx; ctx != nil {
		c.wctx = nil
		c.arm(ctx, false)
	}
}

func (c *Conn) endWrite() {
	c.wctx = nil
	if w := c.wwatch; w != nil && w.armed {
		w.armed = false
		w.end()
	}
}

func (c *Conn) arm(ctx context.Context, read bool) {
	if ctx.Done() == nil {
		return
	}
	w := c.watcher(read)
	w.armed = true
	w.start(ctx)
}

// watcher returns the watch of one direction, made on first use.
func (c *Conn) watcher(read bool) *ctxWatch {
	p := &c.wwatch
	if read {
		p = &c.rwatch
	}
	if *p == nil {
		*p = newCtxWatch(c, read)
	}
	return *p
}

// ctxWatch interrupts one direction's I/O when the watched context ends.
// It refers to its Conn weakly: a context that outlives an abandoned Conn
// keeps only the watcher, and a cleanup on the Conn unregisters it.
type ctxWatch struct {
	conn  weak.Pointer[Conn]
	read  bool
	armed bool   // armed by armRead or armWrite (owned by the caller, as rctx/wctx)
	fire  func() // w.onDone, allocated once

	mu     sync.Mutex
	cond   sync.Cond       // signalled when fired becomes true
	ctx    context.Context // the context registered with context.AfterFunc
	last   context.Context // the previous watched call's context
	stop   func() bool     // unregisters from ctx
	fired  bool            // ctx is done and onDone has run
	active bool            // a watched call is under way
	moved  bool            // the deadline was moved for the active call
	once   bool            // ctx is registered for the active call only
}

func newCtxWatch(c *Conn, read bool) *ctxWatch {
	w := &ctxWatch{conn: weak.Make(c), read: read}
	w.cond.L = &w.mu
	w.fire = w.onDone
	runtime.AddCleanup(c, (*ctxWatch).release, w)
	return w
}

// start begins a watched call under ctx.
func (w *ctxWatch) start(ctx context.Context) {
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
func (w *ctxWatch) releaseLocked() {
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

// release unregisters from the context (the Conn's cleanup).
func (w *ctxWatch) release() {
	w.mu.Lock()
	w.releaseLocked()
	w.last = nil
	w.mu.Unlock()
}

// onDone is the registered context's callback.
func (w *ctxWatch) onDone() {
	w.mu.Lock()
	w.fired = true
	if w.active {
		w.moveLocked()
	}
	w.cond.Broadcast()
	w.mu.Unlock()
}

// moveLocked moves the deadline into the past. For reads, a pong the
// reader is writing (see sendPendingPongLocked) ends with the read too.
func (w *ctxWatch) moveLocked() {
	if c := w.conn.Value(); c != nil {
		c.setDeadline(w.read, aLongTimeAgo)
		if w.read {
			c.dlMu.Lock()
			c.readCtxDone = true
			if c.readerPong {
				c.nc.SetWriteDeadline(aLongTimeAgo)
			}
			c.dlMu.Unlock()
		}
	}
	w.moved = true
}

// end ends the watched call, putting back the user's deadline if it was
// moved.
func (w *ctxWatch) end() {
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
	c := w.conn.Value()
	if c == nil {
		return
	}
	c.dlMu.Lock()
	dl := c.wdl
	if w.read {
		dl = c.rdl
		c.readCtxDone = false
	}
	c.dlMu.Unlock()
	c.setDeadline(w.read, dl)
}

func (c *Conn) setDeadline(read bool, t time.Time) {
	if read {
		c.nc.SetReadDeadline(t)
	} else {
		c.nc.SetWriteDeadline(t)
	}
}

// ctxErr turns an I/O error caused by a done context into the context's
// error, closing the connection (its stream is now in an unknown state).
func (c *Conn) ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		c.nc.Close()
		return ctx.Err()
	}
	return err
}
