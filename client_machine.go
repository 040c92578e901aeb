package wsclient

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"
)

// The state machine (see the table at Client). Every event is handled under
// the callback lock by the function of the current state; a state's timer
// is armed by the transition into it and disarmed by the next.

type evKind uint8

const (
	evConnect     evKind = iota // Client.Connect
	evDialed                    // a connection attempt ended: cc or err
	evFrame                     // a message or control frame was read on cc
	evInfo                      // a posted value
	evCloseConn                 // Client.CloseConn, a Close action
	evRemoteClose               // the server's close frame arrived on cc
	evCloseSent                 // our close frame went out on cc
	evConnEnd                   // cc ended with err
	evTimer                     // the state's timer fired
	evStop                      // stop with err (Stop, ctx, StopWith, CloseAndStop, panic)
	evForce                     // Stop's context ended: drop everything now
	evUndelivered               // the writer could not write f
)

type event struct {
	kind   evKind
	urgent bool // evStop: close at once, ahead of the outbox
	drop   bool // evStop: drop the connection without a close handshake
	cc     *clientConn
	ab     *dialAbort // evDialed: the attempt's handle, which names it
	err    error
	f      Frame
	msg    any
	code   int
	reason string
}

// phase is the machine's state: a public State, and within some of them a
// sub-state, written state/sub in the table at Client. What a sub-state
// decides is in the table; nothing else in machine does.
type phase uint8

const (
	phInit         phase = iota // disconnected/init: before the run, and while Init runs
	phIdle                      // disconnected
	phBackoff                   // disconnected/backoff
	phConnecting                // connecting
	phConnected                 // connected
	phClosing                   // closing: our close frame waits behind the outbox
	phCloseSent                 // closing/sent
	phRemoteClosed              // closing/remote
	phDropped                   // closing/dropped
	phStopping                  // stopping
	phStopDropped               // stopping/dropped
	phTerminated                // terminated
)

var phases = [...]struct {
	st   State
	name string
}{
	phInit:         {Disconnected, "disconnected/init"},
	phIdle:         {Disconnected, "disconnected"},
	phBackoff:      {Disconnected, "disconnected/backoff"},
	phConnecting:   {Connecting, "connecting"},
	phConnected:    {Connected, "connected"},
	phClosing:      {Closing, "closing"},
	phCloseSent:    {Closing, "closing/sent"},
	phRemoteClosed: {Closing, "closing/remote"},
	phDropped:      {Closing, "closing/dropped"},
	phStopping:     {Stopping, "stopping"},
	phStopDropped:  {Stopping, "stopping/dropped"},
	phTerminated:   {Terminated, "terminated"},
}

// state returns the public State p belongs to.
func (p phase) state() State { return phases[p].st }

func (p phase) String() string { return phases[p].name }

// ready reports whether the mailbox's events are dispatched in p: not
// before Init has returned, nor after the run has ended.
func (p phase) ready() bool { return p != phInit && p != phTerminated }

// clientConn is one established connection, and its reading goroutine's
// state (one allocation for both).
type clientConn struct {
	cn   *Conn       // its unexported side through cc.t (client_transport.go)
	w    *connWriter // made at the first write; guarded by the writer token
	rbuf []byte      // the reader's buffer, reused

	c *Client
}

// machine is the state the callback lock guards: the phase, and the data
// the phases carry. No flag stands for a sub-state.
type machine struct {
	st      phase
	mode    uint8 // Init's InitMode
	attempt int32 // failed attempts in a row
	ctx     context.Context
	ctxStop func() bool
	// conn is the connection: set in connected and closing, and in
	// stopping until it ends.
	conn *clientConn
	// dialAbort ends the attempt under way: set in connecting, and in
	// stopping until the attempt has ended.
	dialAbort *dialAbort
	// localClose is the close the client asked for (closing, closing/sent,
	// stopping; closing/remote when it asked first): the reason the
	// connection's end reports.
	localClose *LocalCloseError
	// panic is a callback's panic: no callback but Terminate runs again in
	// this run, and the run stops (see panicked).
	panic  *PanicError
	reason error // the run's end: Terminate's reason, Wait's error
	ka     keepalive

	timer   *time.Timer
	timerAt int64 // when the timer is due, in monoNow's time; 0: disarmed
}

// monoBase is the origin of monoNow.
var monoBase = time.Now()

// monoNow returns the monotonic time since monoBase in nanoseconds.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// dispatch hands e to the current state's function.
func (c *Client) dispatch(e *event) {
	switch e.kind {
	case evUndelivered: // in every state
		c.undelivered(e.f, e.err)
	case evInfo: // in every state but terminated
		if c.m.st != phTerminated {
			c.handleInfo(e.msg)
		}
	default:
		switch c.m.st.state() {
		case Disconnected:
			c.inDisconnected(e)
		case Connecting:
			c.inConnecting(e)
		case Connected:
			c.inConnected(e)
		case Closing:
			c.inClosing(e)
		case Stopping:
			c.inStopping(e)
		case Terminated:
			if e.kind == evDialed {
				c.abandoned(e)
			}
		}
	}
	if pe := c.m.panic; pe != nil {
		c.panicked(pe)
	}
}

func (c *Client) inDisconnected(e *event) {
	switch e.kind {
	case evConnect, evTimer: // the timer: disconnected/backoff's
		c.dial()
	case evStop:
		c.m.reason = e.err
		c.finish()
	case evDialed:
		c.abandoned(e)
	}
}

func (c *Client) inConnecting(e *event) {
	switch e.kind {
	case evDialed:
		if e.ab != c.m.dialAbort {
			c.abandoned(e)
			return
		}
		c.endDial()
		if e.err != nil {
			c.dialFailed(e.err)
			return
		}
		c.connected(e.cc)
	case evTimer:
		// Keepalive covers the handshake: the server did not answer within
		// interval × maxMissed.
		c.endDial()
		c.dialFailed(ErrKeepaliveTimeout)
	case evStop:
		c.m.reason = e.err
		c.m.dialAbort.abort()
		c.enter(phStopping, c.cfg.stopTimeout)
	}
}

func (c *Client) inConnected(e *event) {
	switch e.kind {
	case evFrame:
		if e.cc == c.m.conn {
			c.handleFrame(e.f)
		}
	case evTimer:
		c.keepaliveTick()
	case evCloseConn:
		c.closeConn(e.code, e.reason)
	case evRemoteClose:
		if e.cc == c.m.conn {
			c.ob.detach(e.cc)
			c.enter(phRemoteClosed, 0)
		}
	case evConnEnd:
		c.connEnded(e.cc, e.err)
	case evStop:
		c.stopConn(e)
	}
}

func (c *Client) inClosing(e *event) {
	switch e.kind {
	case evFrame:
		if e.cc == c.m.conn {
			c.handleFrame(e.f)
		}
	case evCloseSent:
		if e.cc == c.m.conn && c.m.st == phClosing {
			c.enter(phCloseSent, c.cfg.dialer.closeTimeout())
		}
	case evTimer: // closing/sent's: the server did not answer our close in time
		if lc := c.m.localClose; lc.Err == nil {
			lc.Err = ErrCloseTimeout
		}
		c.m.conn.cn.CloseNow()
	case evRemoteClose:
		if e.cc == c.m.conn && (c.m.st == phClosing || c.m.st == phCloseSent) {
			c.enter(phRemoteClosed, 0)
		}
	case evConnEnd:
		c.connEnded(e.cc, e.err)
	case evStop:
		c.stopConn(e)
	}
}

func (c *Client) inStopping(e *event) {
	switch e.kind {
	case evFrame:
		if e.cc == c.m.conn {
			c.handleFrame(e.f)
		}
	case evDialed:
		c.abandoned(e)
		if e.ab == c.m.dialAbort {
			c.endDial()
			c.maybeTerminate()
		}
	case evConnEnd:
		if e.cc == c.m.conn {
			c.dropConn()
			c.maybeTerminate()
		}
	case evRemoteClose:
		if e.cc == c.m.conn {
			c.ob.detach(e.cc)
		}
	case evTimer, evForce: // the timer: stopping's
		c.dropAll()
	case evStop:
		if c.m.reason == nil {
			c.m.reason = e.err
		}
		if e.drop {
			c.dropAll()
		}
	}
}

// abandoned closes the connection of an attempt the machine no longer
// waits for (connLoop closes it too).
func (c *Client) abandoned(e *event) {
	if e.cc != nil {
		e.cc.cn.CloseNow()
	}
}

// dropAll drops the connection and cancels the attempt, without a close
// handshake: stopping/dropped then waits for their ends, without a timer.
func (c *Client) dropAll() {
	if cc := c.m.conn; cc != nil {
		c.ob.detach(cc)
		cc.cn.CloseNow()
	}
	if ab := c.m.dialAbort; ab != nil {
		ab.abort()
	}
	if c.m.st != phStopDropped {
		c.enter(phStopDropped, 0)
	}
}

// panicked stops the run after a callback's panic pe, once the event that
// ran the callback is done: at once, with 1011 (see crash).
func (c *Client) panicked(pe *PanicError) {
	switch c.m.st.state() {
	case Stopping, Terminated:
		if c.m.reason == nil {
			c.m.reason = pe
		}
	default:
		c.dispatch(&event{kind: evStop, err: pe, code: CloseInternalServerErr, urgent: true})
	}
}

// enter moves to p with its timer armed for d (none if d <= 0).
func (c *Client) enter(p phase, d time.Duration) {
	c.disarm()
	c.setState(p)
	if d > 0 {
		c.arm(d)
	}
}

// arm (re)arms the state's timer.
func (c *Client) arm(d time.Duration) {
	c.m.timerAt = monoNow() + int64(d)
	if c.m.timer == nil {
		c.m.timer = time.AfterFunc(d, c.onTimer)
		return
	}
	c.m.timer.Reset(d)
}

func (c *Client) disarm() {
	if c.m.timerAt != 0 {
		c.m.timerAt = 0
		c.m.timer.Stop()
	}
}

// onTimer runs on the timer's goroutine. A firing left from an earlier
// arming finds the timer disarmed or due later, and does nothing.
func (c *Client) onTimer() {
	c.lock()
	defer c.unlock()
	if at := c.m.timerAt; at == 0 || monoNow() < at {
		return
	}
	c.m.timerAt = 0
	c.dispatch(&event{kind: evTimer})
}

// dial starts a connection attempt on a new goroutine, which becomes the
// connection's reader if it succeeds and ends with the attempt otherwise.
func (c *Client) dial() {
	// No context per attempt: the Dialer takes an abort handle instead.
	ab := &dialAbort{}
	c.m.dialAbort = ab
	var hs time.Duration
	if c.cfg.keepalive > 0 {
		hs = c.cfg.keepalive * time.Duration(c.cfg.keepMissed)
	}
	c.enter(phConnecting, hs)
	go c.connLoop(c.m.ctx, ab)
}

// endDial forgets the attempt under way, ending it.
func (c *Client) endDial() {
	if ab := c.m.dialAbort; ab != nil {
		ab.abort()
		c.m.dialAbort = nil
	}
}

func (c *Client) dialFailed(err error) {
	c.m.attempt++
	c.dialFails.Add(1)
	c.enter(phIdle, 0)
	c.log(slog.LevelDebug, "wsclient: connection attempt failed", "attempt", c.m.attempt, "err", err)
	c.disconnected(Disconnect{Reason: err, Attempt: int(c.m.attempt)})
}

// connected enters the connected state with cc: OnConnect runs, its
// replies go first, then the outbox drains.
func (c *Client) connected(cc *clientConn) {
	c.m.attempt = 0
	c.connects.Add(1)
	c.m.conn = cc
	c.m.localClose = nil
	c.cur.Store(cc)
	c.enter(phConnected, 0)
	c.log(slog.LevelDebug, "wsclient: connected")
	if c.cfg.keepalive > 0 {
		c.setKeepalive(c.cfg.keepalive)
	}
	info := cc.connInfo()
	a, ok := call(c, "OnConnect", func() Action { return c.h.OnConnect(c, info) })
	if ok {
		c.apply(a, true)
	}
	if c.m.conn == cc && c.m.st != phRemoteClosed {
		c.ob.attach(cc)
	}
}

// handleInfo runs HandleInfo and carries out its action. Not inlined, nor
// is finish's work: dispatch's frame stays small, and the reading goroutine
// can end a run (finish on its 2 KiB stack) without growing its stack.
//
//go:noinline
func (c *Client) handleInfo(msg any) {
	if a, ok := call(c, "HandleInfo", func() Action { return c.h.HandleInfo(c, msg) }); ok {
		c.apply(a, false)
	}
}

// handleFrame runs HandleFrame and carries out its action.
func (c *Client) handleFrame(f Frame) {
	if a, ok := call(c, "HandleFrame", func() Action { return c.h.HandleFrame(c, f) }); ok {
		c.apply(a, false)
	}
}

// apply carries out a callback's Action. OnConnect's replies (front) go
// ahead of the frames waiting in the outbox.
func (c *Client) apply(a Action, front bool) {
	if a.nreply > 0 {
		c.reply(a, front)
	}
	if a.setKA {
		c.setKeepalive(a.ka)
	}
	switch {
	case a.stop:
		c.dispatch(&event{kind: evStop, err: a.err, code: a.code, reason: a.reason})
	case a.close:
		c.dispatch(&event{kind: evCloseConn, code: a.code, reason: a.reason})
	}
}

// reply queues copies of a's replies.
func (c *Client) reply(a Action, front bool) {
	var items []*outItem
	for i := range a.nreply {
		f := a.first
		if i > 0 {
			f = a.more[i-1]
		}
		if err := f.check(); err != nil {
			f.Data = append([]byte(nil), f.Data...)
			c.undelivered(f, err)
			continue
		}
		it := copyItem(f)
		it.reply = true
		if front {
			items = append(items, it)
			continue
		}
		if err := c.ob.push(it, true); err != nil {
			c.undelivered(it.f, err) // the copy is the handler's now
		}
	}
	c.ob.pushFront(items...)
	c.kick()
}

func (c *Client) undelivered(f Frame, err error) {
	c.undeliv.Add(1)
	if c.cfg.trace != nil {
		traceFrames(c.cfg.trace.FramesUndelivered, 1)
	}
	uh, ok := c.h.(UndeliveredHandler)
	if !ok {
		c.log(slog.LevelWarn, "wsclient: frame undelivered", "type", f.Type, "len", len(f.Data), "err", err)
		return
	}
	call(c, "OnUndelivered", func() struct{} { uh.OnUndelivered(c, f, err); return struct{}{} })
}

// closeConn starts closing the connection after the frames queued.
func (c *Client) closeConn(code int, reason string) {
	if !sendableCloseCode(code) {
		c.log(slog.LevelWarn, "wsclient: invalid close code replaced by 1000", "code", code)
		code = CloseNormalClosure
	}
	c.m.localClose = &LocalCloseError{Code: code, Reason: reason}
	c.ob.push(&outItem{closeOn: c.m.conn, code: code, reason: reason}, false)
	c.enter(phClosing, 0)
	c.kick()
}

// stopConn moves a client with a connection to stopping: a close frame is
// queued (ahead of everything if urgent) unless a close is under way.
func (c *Client) stopConn(e *event) {
	c.m.reason = e.err
	if e.drop {
		// Nothing is left to wait for but the reader's end, which the
		// closed socket brings at once: no stop timer.
		c.dropAll()
		return
	}
	if c.m.st == phConnected {
		code := e.code
		if !sendableCloseCode(code) {
			code = CloseNormalClosure
		}
		c.m.localClose = &LocalCloseError{Code: code, Reason: e.reason}
		it := &outItem{closeOn: c.m.conn, code: code, reason: e.reason}
		if e.urgent {
			c.ob.pushFront(it)
		} else {
			c.ob.push(it, false)
		}
	}
	c.enter(phStopping, c.cfg.stopTimeout)
	c.kick()
}

// connEnded handles the end of the current connection outside stopping.
func (c *Client) connEnded(cc *clientConn, err error) {
	if cc != c.m.conn {
		return
	}
	// A *CloseError means the server's close was read.
	reason := err
	var ce *CloseError
	switch lc := c.m.localClose; {
	case c.m.st == phDropped && !errors.As(err, &ce):
		reason = ErrKeepaliveTimeout
	case lc != nil:
		if !errors.As(err, &ce) && lc.Err == nil {
			lc.Err = err
		}
		reason = lc
	}
	c.dropConn()
	c.enter(phIdle, 0)
	c.log(slog.LevelDebug, "wsclient: disconnected", "reason", reason)
	c.disconnected(Disconnect{Reason: reason, WasConnected: true})
}

// dropConn forgets the current connection, closing it.
func (c *Client) dropConn() {
	cc := c.m.conn
	c.ob.detach(cc)
	cc.t().closeNowOnce() // a Stop may have closed it already
	c.confirmEnd(cc)
	c.m.conn = nil
	c.cur.Store(nil)
	c.m.localClose = nil
}

// disconnected lets OnDisconnect decide what follows a connection's end or
// a failed attempt.
func (c *Client) disconnected(d Disconnect) {
	d.Backoff = c.cfg.backoff.next(d.Attempt)
	da, ok := call(c, "OnDisconnect", func() DisconnectAction { return c.h.OnDisconnect(c, d) })
	if !ok {
		return
	}
	if da.kind == daDefault {
		switch InitMode(c.m.mode) {
		case KeepReconnecting:
			da.kind = daBackoff
		case StartDisconnected:
			da.kind = daStay
		default:
			da.kind = daStop
			da.reason = d.Reason
			if lc, ok := d.Reason.(*LocalCloseError); ok && lc.Err == nil {
				da.reason = nil
			}
		}
	}
	if c.cfg.trace != nil {
		c.traceReconnect(d, da)
	}
	switch da.kind {
	case daStay:
	case daAfter:
		c.reconnectAfter(da.delay)
	case daBackoff:
		c.reconnectAfter(d.Backoff)
	case daStop:
		c.dispatch(&event{kind: evStop, err: da.reason, code: CloseNormalClosure})
	}
}

func (c *Client) reconnectAfter(d time.Duration) {
	if d <= 0 {
		c.dial()
		return
	}
	c.enter(phBackoff, d)
}

// maybeTerminate ends a stopping run once no connection and no attempt is
// left.
func (c *Client) maybeTerminate() {
	if c.m.conn == nil && c.m.dialAbort == nil {
		c.finish()
	}
}

// finish ends the run: leftovers are handed back, Terminate runs last.
func (c *Client) finish() {
	c.disarm()
	if c.m.dialAbort != nil {
		c.m.dialAbort.abort()
	}
	if c.m.ctxStop != nil {
		c.m.ctxStop()
	}
	c.stopKeepalive()
	c.returnLeftovers()
	c.setState(phTerminated)
	c.terminate()
	c.runMu.Lock()
	r := c.run
	r.err = c.m.reason
	r.running = false
	c.runMu.Unlock()
	close(r.done)
}

// returnLeftovers hands back what the outbox and the mailbox still hold.
//
// In order: the frames the mailbox reports (a writer's failed write, such
// as the frame Stop cut short; frames written on a connection that ended
// before the writer kept them) were taken from the outbox before the
// frames still in it, so they go first, after only the frames handed back
// ahead of confirmEnd's place marker (written before them).
//
//go:noinline
func (c *Client) returnLeftovers() {
	left := c.ob.close() // (waits for the writer, which may still mail)
	mails := c.mail.close()
	split := 0
	if m := c.ob.cf.lateMarkOrNil(); m != nil {
		split = max(slices.Index(left, m), 0)
	}
	for _, it := range left[:split] {
		c.returnLeft(it)
	}
	for _, x := range mails {
		if x.kind == evUndelivered {
			c.undelivered(x.f, x.err)
		}
	}
	for _, it := range left[split:] {
		c.returnLeft(it)
	}
}

// returnLeft hands back one item left in the outbox at the run's end.
func (c *Client) returnLeft(it *outItem) {
	switch {
	case it.closeOn != nil:
	case it.done != nil:
		it.taken = false
		it.done <- ErrClosed
	default:
		c.leftover(it)
	}
}

// terminate runs Terminate.
//
//go:noinline
func (c *Client) terminate() {
	reason := c.m.reason
	c.enterCallback()
	defer c.leaveCallback()
	protect(func() struct{} { c.h.Terminate(c, reason); return struct{}{} }, func(v any, stack []byte) {
		c.log(slog.LevelError, "wsclient: panic in Terminate", "panic", v)
		if c.m.reason == nil {
			c.m.reason = &PanicError{Callback: "Terminate", Value: v, Stack: stack}
		}
	})
}

// runInit runs Init on the calling goroutine and starts the run; it
// returns true when Init failed and the run has ended.
func (c *Client) runInit(ctx context.Context) (failed bool) {
	c.lock()
	defer c.unlock()
	timer := c.m.timer
	c.m = machine{st: phInit, ctx: ctx, timer: timer}
	c.ob.limit = c.cfg.outboxSize
	c.enterCallback()
	mode, err := protect(func() initResult {
		defer c.leaveCallback()
		m, err := c.h.Init(c)
		return initResult{m, err}
	}, func(v any, stack []byte) {
		c.m.panic = &PanicError{Callback: "Init", Value: v, Stack: stack}
		c.m.reason = c.m.panic
	})
	if c.m.panic != nil || mode.err != nil {
		if c.m.panic == nil {
			c.m.reason = mode.err
		}
		c.finish()
		return true
	}
	_ = err
	c.m.mode = uint8(mode.mode)
	if ctx.Done() != nil {
		c.m.ctxStop = context.AfterFunc(ctx, func() {
			_ = c.mail.put(c, event{kind: evStop, err: context.Cause(ctx), code: CloseNormalClosure})
		})
	}
	if InitMode(c.m.mode) != StartDisconnected {
		c.dial()
	} else {
		c.enter(phIdle, 0)
	}
	c.mail.resume(c)
	return false
}

type initResult struct {
	mode InitMode
	err  error
}

// connLoop dials; on success it runs OnConnect and starts the reader.
func (c *Client) connLoop(ctx context.Context, ab *dialAbort) {
	growStack(0)
	cn, err := c.cfg.dialer.dial(ctx, c.dst, ab)
	var cc *clientConn
	if err == nil {
		cc = &clientConn{cn: cn, c: c}
	}
	c.lock()
	c.dispatch(&event{kind: evDialed, ab: ab, cc: cc, err: err})
	ok := cc != nil && c.m.conn == cc
	c.unlock()
	if !ok {
		if cc != nil {
			cn.CloseNow()
		}
		return
	}
	c.kick()
	// A fresh goroutine reads: its stack stays small while the connection
	// is idle, where the dialling goroutine's has grown (OnConnect ran
	// there).
	go cc.readLoop()
}

// connInfo describes cc's connection to url. The header is built for it
// from the response's head; the Conn's Response is not built.
func (cc *clientConn) connInfo() ConnInfo {
	c := cc.c
	if c == nil || c.dst == nil {
		return cc.cn.Info()
	}
	return cc.t().infoAs(c.url)
}

// readLoop reads cc's messages and runs HandleFrame for each on this
// goroutine, with no hand-off; replies are written at once when the socket
// takes them.
func (cc *clientConn) readLoop() {
	c := cc.c
	cc.cn.SetControlHandler(cc.control)
	ctx := context.Background()
	for {
		typ, b, err := cc.t().appendMessage(ctx, cc.rbuf[:0], true)
		if err != nil {
			cc.rbuf = nil
			cc.end(err)
			return
		}
		cc.frame(typ, b)
		// A large message's buffer goes back to the shared pools, where
		// the next large message finds it: the reader holds none while it
		// waits. (A decompressed message's buffer, grown by doubling, goes
		// too when its capacity is a class size, as powers of two are.)
		switch rt := c.cfg.maxRetainBuf; {
		case cc.t().putBig(b):
			// (cc.rbuf, never one of those, is kept.)
		case rt > 0 && cap(b) > rt:
			cc.rbuf = nil
		default:
			cc.rbuf = b
		}
		c.kick()
	}
}

// frame runs HandleFrame for a message. Not inlined: the reading loop's
// frame stays small, and so does an idle reader's stack.
//
//go:noinline
func (cc *clientConn) frame(typ MessageType, b []byte) {
	cc.c.msgsIn.Add(1)
	cc.c.bytesIn.Add(uint64(len(b)))
	cc.event(&event{kind: evFrame, cc: cc, f: Frame{Type: typ, Data: b}})
}

// end reports the end of the connection.
//
//go:noinline
func (cc *clientConn) end(err error) {
	cc.event(&event{kind: evConnEnd, cc: cc, err: err})
}

// event runs e under the callback lock, on the reading goroutine.
func (cc *clientConn) event(e *event) {
	cc.c.lock()
	cc.c.dispatch(e)
	cc.c.unlock()
}

// control runs HandleFrame for pings and pongs, and reports the server's
// close, as the Conn reads them.
func (cc *clientConn) control(t MessageType, p []byte) {
	if t == CloseMessage {
		cc.event(&event{kind: evRemoteClose, cc: cc})
		return
	}
	if t == PongMessage {
		cc.c.confirmPong(cc, p)
	}
	cc.event(&event{kind: evFrame, cc: cc, f: Frame{Type: t, Data: p}})
	cc.c.kick()
}

// dialStack is about the stack a dial and OnConnect take (the frames of
// dial, upgrade and the request's encoding alone pass 3 KiB).
const dialStack = 6 << 10

// growStack grows a fresh goroutine's stack, 2 KiB at first, to what a dial
// needs in one step, while it holds one frame: growing it frame by frame
// deep in the dial copied it twice, each copy walking every frame (about a
// third of the CPU of an in-memory dial and close).
//
//go:noinline
func growStack(i int) byte {
	var pad [dialStack]byte
	pad[i] = 1
	return pad[i+1]
}
