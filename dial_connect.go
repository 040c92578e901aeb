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
			*cc = connectCtx{parent: ctx, done: neverEnds, never: true, deadline: deadline, ab: ab}
		} else {
			cc = &connectCtx{parent: ctx, done: ctx, deadline: deadline}
			if ctx.Done() == nil {
				cc.done, cc.never = neverEnds, true
			}
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

// neverEnds is the done context of a connectCtx whose caller's context
// never ends: a context that is never cancelled, made once. net's connect
// registers its context.AfterFunc in it (as in any parent context that is
// a cancelCtx) instead of starting a goroutine for a context it does not
// know, and needs a Done channel to apply the Deadline at all.
var neverEnds, _ = context.WithCancel(context.Background())

// connectCtx is the context of a TCP connect to an IP address (see
// dialIP): done's Done and Err, the parent's values (done's when it has
// none: the cancelCtx that context.AfterFunc looks up), and deadline,
// which the connect applies as the socket's write deadline. Its Done does
// not close at the deadline: it is for net.Dialer's connect alone, which
// never waits on Done for it.
//
// With ab, it ends when ab is aborted: Err reports it, and AfterFunc
// (which context.AfterFunc uses, finding no cancelCtx among the values)
// has ab call the callback. Its Done (neverEnds') never closes then: the
// connect only selects on it to choose its error, which dialIP replaces.
type connectCtx struct {
	parent   context.Context // the caller's context
	done     context.Context // parent, or neverEnds when parent never ends
	never    bool            // done is neverEnds
	deadline time.Time
	ab       *dialAbort // the attempt's abort handle, if any
}

func (c *connectCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *connectCtx) Done() <-chan struct{}       { return c.done.Done() }

func (c *connectCtx) Err() error {
	if err := c.done.Err(); err != nil {
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

func (c *connectCtx) Value(key any) any {
	if v := c.parent.Value(key); v != nil || !c.never || c.ab != nil {
		return v
	}
	return c.done.Value(key)
}

// AfterFunc is context.AfterFunc for the connectCtx: context.AfterFunc
// calls it when the values hold no cancelCtx whose Done is this Done (an
// ab's connectCtx, or a caller's context of another kind).
func (c *connectCtx) AfterFunc(f func()) func() bool {
	if c.ab != nil {
		return c.ab.afterFunc(f)
	}
	return context.AfterFunc(c.done, f)
}

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
