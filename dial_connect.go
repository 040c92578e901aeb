//go:build !js

package wsclient

// The TCP connect of a direct dial to an IP address, without a timer
// context.

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"os"
	"time"
)

// isIPHost reports whether u's host is an IP address (no name to resolve).
func isIPHost(u *url.URL) bool {
	_, err := netip.ParseAddr(u.Hostname())
	return err == nil
}

// dialIP connects to addr, an IP address and port, within ctx and before
// deadline.
//
// A context.WithDeadline would cost a timer context, its timer, its
// cancel function, and for the connect's own context.AfterFunc a done
// channel and a children map on it (some eight allocations, against the
// connectCtx's one; 42 -> 36 per handshake in the bench module). For an
// address that needs no name resolution, net.Dialer uses its context
// only for the connect, which takes the time limit from the context's
// Deadline (the socket's write deadline while it waits) and watches Done
// for cancellation. A connectCtx gives it exactly that: the caller's
// cancellation and values, and the earlier deadline, without a timer.
// (DNS lookups, proxies and a Dialer.NetDialContext, which may rely on
// Done closing at the deadline, get a real context.WithDeadline.)
//
// With ab (only for a ctx that never ends), the connect ends when ab is
// aborted: the connectCtx is then ab's, and its AfterFunc method has ab
// call the connect's callback (context.AfterFunc uses such a method), so
// that no cancelable context is made for the attempt.
func dialIP(ctx context.Context, deadline time.Time, addr string, ab *dialAbort) (net.Conn, error) {
	var nc net.Conn
	var err error
	if dl, ok := ctx.Deadline(); ok && !dl.After(deadline) {
		// The caller's deadline is the limit (and ctx closes Done at it).
		nc, err = netDialer.DialContext(ctx, "tcp", addr)
	} else {
		if !time.Now().Before(deadline) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errConnectTimeout{}}
		}
		var cc *connectCtx
		if ab != nil {
			cc = &ab.cc
			*cc = connectCtx{parent: ctx, never: true, deadline: deadline, ab: ab}
		} else {
			cc = &connectCtx{parent: ctx, never: ctx.Done() == nil, deadline: deadline}
		}
		nc, err = netDialer.DialContext(cc, "tcp", addr)
	}
	if err != nil {
		oe, ok := err.(*net.OpError)
		if ab != nil && ab.isAborted() {
			if ok {
				oe.Err = context.Canceled
			} else {
				err = context.Canceled
			}
		} else if ok && errors.Is(oe.Err, os.ErrDeadlineExceeded) {
			// The socket's write deadline, which the connect sets from
			// the context's Deadline, ended it before the context's
			// timer (if any) did: report it as net.Dialer reports a
			// context's deadline.
			oe.Err = errConnectTimeout{}
		}
		return nil, err
	}
	return nc, nil
}

// neverClosed is the Done channel of a connectCtx whose caller's context
// never ends: net's connect applies the context's Deadline only when Done
// is not nil. Nobody closes it or sends on it: a value made once.
var neverClosed = make(chan struct{})

// connectCtx is the context of a TCP connect to an IP address (see
// dialIP): the parent's Done (neverClosed when the parent never ends),
// Err and values, and deadline, which the connect applies as the socket's
// write deadline. Its Done does not close at the deadline: it is for
// net.Dialer's connect alone, which never waits on Done for it.
//
// With ab, it ends when ab is aborted: Err reports it, and AfterFunc
// (which context.AfterFunc uses, finding no cancelCtx among the values)
// has ab call the callback. Its Done (neverClosed) never closes then: the
// connect only selects on it to choose its error, which dialIP replaces.
type connectCtx struct {
	parent   context.Context // the caller's context
	never    bool            // parent never ends: Done is neverClosed
	deadline time.Time
	ab       *dialAbort // the attempt's abort handle, if any
}

func (c *connectCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *connectCtx) Done() <-chan struct{} {
	if c.never {
		return neverClosed
	}
	return c.parent.Done()
}

func (c *connectCtx) Err() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if c.ab != nil && c.ab.isAborted() {
		return context.Canceled
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *connectCtx) Value(key any) any { return c.parent.Value(key) }

// AfterFunc is context.AfterFunc for the connectCtx: context.AfterFunc
// calls it when the values hold no cancelCtx whose Done is this Done (an
// ab's connectCtx, one whose parent never ends, or a caller's context of
// another kind).
func (c *connectCtx) AfterFunc(f func()) func() bool {
	switch {
	case c.ab != nil:
		return c.ab.afterFunc(f)
	case c.never:
		return stopNever // Done never closes: f is never called
	}
	return context.AfterFunc(c.parent, f)
}

// stopNever is the stop function of an AfterFunc whose f is never called.
func stopNever() bool { return true }

// errConnectTimeout is the error of a connect that the deadline of a
// connectCtx ended: "i/o timeout", matching context.DeadlineExceeded as
// net.Dialer's error for a context's deadline does, and
// os.ErrDeadlineExceeded as a socket deadline's does.
type errConnectTimeout struct{}

func (errConnectTimeout) Error() string   { return "i/o timeout" }
func (errConnectTimeout) Timeout() bool   { return true }
func (errConnectTimeout) Temporary() bool { return true }
func (errConnectTimeout) Is(target error) bool {
	return target == context.DeadlineExceeded || target == os.ErrDeadlineExceeded
}
