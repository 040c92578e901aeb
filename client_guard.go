package wsclient

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
)

// The callback lock, the recover guard around callbacks, and logging.

// lock takes the callback lock. gid, if not nil, caches the calling
// goroutine's ID for a goroutine that runs many callbacks: 0 until a
// callback first runs on it (finding it costs a stack read).
func (c *Client) lock(gid *uint64) {
	c.mu.Lock()
	c.m.gid = gid
}

func (c *Client) unlock() {
	c.m.gid = nil
	c.mu.Unlock()
}

// enterCallback marks the lock holder's goroutine as running a callback
// (for Stop and Send from callbacks); leaveCallback clears the mark.
func (c *Client) enterCallback() {
	gid := c.m.gid
	if gid == nil {
		c.cbG.Store(curGoid())
		return
	}
	if *gid == 0 {
		*gid = curGoid()
	}
	c.cbG.Store(*gid)
}

func (c *Client) leaveCallback() { c.cbG.Store(0) }

// inCallback reports whether the calling goroutine runs a callback of this
// client (Init aside: see inInit). It costs a stack read only while a
// callback runs.
func (c *Client) inCallback() bool {
	g := c.cbG.Load()
	return g != 0 && g == curGoid()
}

// sendableFromCallback reports whether a Send from the running callback can
// complete before the callback returns. The caller holds the callback lock.
func (c *Client) sendableFromCallback() bool {
	return c.m.st == Connected && !c.m.inOnConnect
}

// curGoid returns the calling goroutine's ID, from the first line of its
// stack ("goroutine 42 [running]:"). It is used only to recognise the
// goroutine running a callback: once per goroutine that runs one, and in
// Stop and Send while a callback runs.
func curGoid() uint64 {
	bp := goidBufs.Get().(*[64]byte)
	defer goidBufs.Put(bp)
	b := bp[:runtime.Stack(bp[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// goidBufs holds curGoid's buffers (runtime.Stack makes a local one escape).
var goidBufs = sync.Pool{New: func() any { return new([64]byte) }}

// protect runs the callback fn and recovers a panic in it, which it reports
// to onPanic with the panicking goroutine's stack; ok is false then.
func protect[R any](fn func() R, onPanic func(v any, stack []byte)) (r R, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			onPanic(v, debug.Stack())
		}
	}()
	return fn(), true
}

// call runs a callback named name unless an earlier one panicked; a panic
// crashes the client (see crash). The caller holds the callback lock.
func call[R any](c *Client, name string, fn func() R) (R, bool) {
	if c.m.crashed {
		var zero R
		return zero, false
	}
	c.enterCallback()
	defer c.leaveCallback()
	return protect(fn, func(v any, stack []byte) { c.crash(name, v, stack) })
}

// crash ends the client after a panic in a callback: the connection is
// closed with 1011 at once and the reason is a *PanicError.
func (c *Client) crash(cb string, v any, stack []byte) {
	pe := &PanicError{Callback: cb, Value: v, Stack: stack}
	c.log(slog.LevelError, "wsclient: panic in callback", "callback", cb, "panic", v)
	c.m.crashed = true
	switch c.m.st {
	case Stopping, Terminated:
		if c.m.reason == nil {
			c.m.reason = pe
		}
	default:
		c.m.pendingStop = &event{kind: evStop, err: pe, code: CloseInternalServerErr, urgent: true}
	}
}

func (c *Client) log(level slog.Level, msg string, args ...any) {
	if l := c.cfg.logger; l != nil {
		l.Log(context.Background(), level, msg, append(args, "url", c.url)...)
	}
}
