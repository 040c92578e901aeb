package wsclient

import (
	"context"
	"log/slog"
	"runtime/debug"
)

// The callback lock, the recover guard around callbacks, and logging.

// lock takes the callback lock.
func (c *Client) lock()   { c.mu.Lock() }
func (c *Client) unlock() { c.mu.Unlock() }

// enterCallback and leaveCallback bracket a callback; the caller holds the
// callback lock. cbSeq is odd while a callback runs: the goroutine that
// runs it made it so before calling the handler, so a Stop or Send made
// from the callback sees it (see inCallback).
func (c *Client) enterCallback() { c.cbSeq.Add(1) }
func (c *Client) leaveCallback() { c.cbSeq.Add(1) }

// inCallback reports whether a callback of this client runs now, and its
// number. Go has no goroutine identity: the client cannot tell the
// callback's own goroutine from another one calling it meanwhile. It only
// knows that a call made while no callback runs does not come from one,
// and that a call made while callback seq runs does not come from it once
// seq has changed (the callback has returned and the caller has not).
func (c *Client) inCallback() (seq uint32, running bool) {
	seq = c.cbSeq.Load()
	return seq, seq&1 == 1
}

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
	if c.m.panic != nil {
		var zero R
		return zero, false
	}
	c.enterCallback()
	defer c.leaveCallback()
	return protect(fn, func(v any, stack []byte) { c.crash(name, v, stack) })
}

// crash ends the client after a panic in a callback: no callback runs
// again in this run (but Terminate), and once the event that ran it is
// done the client stops, the connection closed with 1011 at once, the
// reason a *PanicError (see panicked). Only the first panic is kept: the
// callbacks after it do not run.
func (c *Client) crash(cb string, v any, stack []byte) {
	pe := &PanicError{Callback: cb, Value: v, Stack: stack}
	c.log(slog.LevelError, "wsclient: panic in callback", "callback", cb, "panic", v)
	c.m.panic = pe
	if s := c.m.st.state(); (s == Stopping || s == Terminated) && c.m.reason == nil {
		c.m.reason = pe // before the run's end, which finish may reach first
	}
}

func (c *Client) log(level slog.Level, msg string, args ...any) {
	if l := c.cfg.logger; l != nil {
		l.Log(context.Background(), level, msg, append(args, "url", c.url)...)
	}
}
