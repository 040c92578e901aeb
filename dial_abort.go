//go:build !js

package wsclient

import (
	"context"
	"net"
	"sync"
)

// dialAbort is the Dialer's way to end one dial attempt from another
// goroutine without a context made per attempt (Dialer.dial takes one
// beside its context): abort cancels the context of the network dial
// while that runs, and moves the socket's deadline into the past while
// the upgrade runs. Its zero value is ready; one serves one attempt.
type dialAbort struct {
	mu      sync.Mutex
	aborted bool
	cancel  context.CancelFunc // the running network dial's
	nc      net.Conn           // the socket being upgraded
	onAbort func()             // the connect's context.AfterFunc callback (see connectCtx.AfterFunc)
	cc      connectCtx         // the connect's context (see dialIP), made with the attempt
}

// abort ends the attempt; it may be called more than once, from any
// goroutine.
func (a *dialAbort) abort() {
	a.mu.Lock()
	a.aborted = true
	if a.cancel != nil {
		a.cancel()
	}
	if a.nc != nil {
		a.nc.SetDeadline(aLongTimeAgo)
	}
	f := a.onAbort
	a.onAbort = nil
	a.mu.Unlock()
	if f != nil {
		go f() // as context.AfterFunc calls it
	}
}

// isAborted reports whether abort has been called.
func (a *dialAbort) isAborted() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.aborted
}

// afterFunc arranges for f to be called (on its own goroutine) when the
// attempt is aborted, as context.AfterFunc does for a context; the
// returned function cancels that, reporting whether it stopped f from
// being called. One f at a time.
func (a *dialAbort) afterFunc(f func()) func() bool {
	a.mu.Lock()
	if a.aborted {
		a.mu.Unlock()
		go f()
		return stopNothing
	}
	a.onAbort = f
	a.mu.Unlock()
	return a.stopAfterFunc
}

func (a *dialAbort) stopAfterFunc() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	stopped := a.onAbort != nil
	a.onAbort = nil
	return stopped
}

func stopNothing() bool { return false }

// setCancel installs (or, with nil, removes) the cancel function of the
// running network dial; it reports false, installing nothing, if the
// attempt was aborted.
func (a *dialAbort) setCancel(cancel context.CancelFunc) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cancel = cancel
	if a.aborted {
		a.cancel = nil
		return cancel == nil
	}
	return true
}

// setConn is setCancel for the socket being upgraded.
func (a *dialAbort) setConn(nc net.Conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nc = nc
	if a.aborted {
		a.nc = nil
		return false
	}
	return true
}
