package wsclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Client is a callback-driven WebSocket client: the Go form of the Erlang
// gen_statem websocket_client. It connects, reconnects and keeps the
// connection alive as its Handler decides.
//
// # States
//
// The client is a state machine; State reports the state that decides what
// each event does. Some states have sub-states, written state/sub: State
// reports the state they belong to. The transitions, all of them (state/*
// stands for the state and each of its sub-states; same: the state does
// not change):
//
//	state                 event               next state        what happens
//	disconnected/*        Connect             connecting        dial (a reconnect delay is cut short)
//	disconnected/*        Stop                terminated        leftovers handed back, Terminate
//	disconnected/*        Stop (drop)         terminated        leftovers handed back, Terminate
//	disconnected/backoff  reconnect timer     connecting        dial
//	connecting            dial ok             connected         OnConnect, its replies, then the outbox drains
//	connecting            dial failed         disconnected      OnDisconnect decides (below)
//	connecting            handshake timer     disconnected      OnDisconnect with ErrKeepaliveTimeout
//	connecting            Stop                stopping          the attempt is cancelled
//	connecting            Stop (drop)         stopping          the attempt is cancelled
//	connected             frame               connected         HandleFrame
//	connected             keepalive timer     connected         ping, ahead of the outbox
//	connected             keepalive timeout   closing/dropped   maxMissed pings unanswered: connection dropped
//	connected             CloseConn           closing           close frame queued behind the outbox
//	connected             server's close      closing/remote    writing stops; the Conn echoes the close
//	connected             connection ended    disconnected      OnDisconnect decides
//	connected             Stop                stopping          close frame queued (after a panic: 1011, first)
//	connected             Stop (drop)         stopping/dropped  connection dropped
//	closing/*             frame               same              HandleFrame
//	closing               close sent          closing/sent      close timer armed
//	closing               server's close      closing/remote
//	closing/sent          server's close      closing/remote
//	closing/sent          close timer         closing/sent      connection dropped, ErrCloseTimeout
//	closing/*             connection ended    disconnected      OnDisconnect decides (see the reasons below)
//	closing/*             Stop                stopping
//	closing/*             Stop (drop)         stopping/dropped  connection dropped
//	stopping/*            frame               same              HandleFrame
//	stopping/*            server's close      same              writing stops
//	stopping/*            Stop                same              the first reason is kept
//	stopping/*            Stop (drop)         stopping/dropped  connection dropped
//	stopping/*            Stop's ctx ended    stopping/dropped  connection dropped, attempt cancelled
//	stopping              stop timer          stopping/dropped  connection dropped, attempt cancelled
//	stopping/*            connection ended    terminated        leftovers handed back, Terminate
//	stopping/*            dial ok             terminated        its connection closed; Terminate
//	stopping/*            dial failed         terminated        Terminate
//
// Every other event leaves the state as it is and does nothing; in
// particular nothing reaches terminated. In every state but terminated a
// value posted runs HandleInfo, and in every state a frame that could not
// be written runs OnUndelivered. Stop is any stop request (Stop, the end
// of Serve's context, a StopWith decision, a CloseAndStop action, a
// callback's panic); Stop (drop) is Stop called with a context that has
// ended. A Close action is CloseConn. After a callback's panic no callback
// but Terminate runs again, and the client stops with 1011. A connection
// that ends while closing reports a *LocalCloseError when the client
// closed it (its Err says what went wrong, if anything), from
// closing/dropped ErrKeepaliveTimeout unless the server's close was read,
// otherwise what ended it.
//
// Sub-states: disconnected/init is the state before a run and while Init
// runs (no event reaches it: they wait for Init to return, which leads to
// connecting, or to disconnected for StartDisconnected); disconnected/backoff
// waits for a reconnect; closing is the client's close waiting behind the
// outbox, closing/sent the close sent and its answer awaited,
// closing/remote the server's close received, closing/dropped the
// connection dropped for a keepalive timeout; stopping/dropped has nothing
// left to wait for but the end of the connection or of the attempt
// (stopping waits for one of them, never both).
//
// OnDisconnect's decision, from disconnected:
//
//	decision                    next state
//	Stay                        disconnected
//	ReconnectAfter (0)          connecting
//	ReconnectAfter              disconnected/backoff
//	StopWith                    terminated
//
// The zero decision is the InitMode's default: Stay for StartDisconnected,
// ReconnectAfter(Disconnect.Backoff) for KeepReconnecting, StopWith for
// ConnectOnce.
//
// Each state has one timer at most, armed on entry and disarmed on exit:
//
//	state                 timer
//	disconnected/backoff  reconnect: the delay decided
//	connecting            handshake: interval × maxMissed, with Options.Keepalive
//	connected             keepalive: each interval, with Options.Keepalive
//	closing/sent          close: the Dialer's CloseTimeout
//	stopping              stop: Options.StopTimeout
//
// # Goroutines
//
// An idle connected client has one goroutine: the connection's reader,
// which also runs HandleFrame for what it reads. Everything else exists only
// while there is work: a writer goroutine while frames wait that the socket
// did not take at once, a mail goroutine while posted values and requests
// wait, a timer's goroutine while its event runs, a connection attempt's
// goroutine, started for the attempt and ended with it (it runs OnConnect,
// or OnDisconnect for a failure, and starts the reader). Callbacks and state transitions are
// serialised by one lock per client, so callbacks never overlap and each
// happens-before the next (see Handler).
//
// # Message fate
//
// Every frame handed to Cast, Send or a Reply action is either written to a
// connection's socket or handed back — as Cast's or Send's error, or through
// UndeliveredHandler — never dropped in silence. Frames wait in a bounded
// outbox (see Options.OutboxSize), in order, until they are written; while the
// client is not connected they wait for the next connection and are written
// after its OnConnect has run. Several waiting frames go out in one write.
// WebSocket has no acknowledgements: a frame written just before a
// connection dies can still be lost in flight.
//
// All methods are safe for concurrent use.
type Client struct {
	url string
	dst *dialTarget   // url, parsed once by New (nil when unusable)
	h   Handler       // a badHandler when the client can never run
	cfg *clientConfig // the client's own, never modified once made

	pub atomic.Int32               // the machine's state, published
	cur atomic.Pointer[clientConn] // the current connection

	// mu is the callback lock: it serialises every callback and every
	// state transition. cbSeq counts callbacks' starts and ends: odd while
	// one runs (see inCallback); it changes only under mu.
	mu    sync.Mutex
	cbSeq atomic.Uint32
	m     machine // guarded by mu

	ob   outbox
	mail mailbox

	runMu sync.Mutex
	run   *runResult // guarded by runMu

	msgsIn, msgsOut, bytesIn, bytesOut atomic.Uint64
	undeliv                            atomic.Uint64
	connects, dialFails                atomic.Uint32
}

// runResult is one run of the client (Start, Serve).
type runResult struct {
	done    chan struct{}
	err     error
	running bool // the run has begun and not ended
}

// State is the client's state (see Client for the transitions).
type State int32

// Client states.
const (
	// Disconnected: no connection and no attempt under way; waiting for
	// Connect or a reconnect delay.
	Disconnected State = iota
	// Connecting: a connection attempt (DNS, TCP, TLS, proxy, the HTTP
	// upgrade) is under way.
	Connecting
	// Connected: the connection is open; frames are read and written.
	Connected
	// Closing: the connection is being closed (by the client, the server,
	// or a keepalive timeout); OnDisconnect follows.
	Closing
	// Stopping: the client is ending: the connection is being closed and
	// no new one is made; Terminate follows.
	Stopping
	// Terminated: the run has ended; Terminate has run.
	Terminated
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case Disconnected:
		return "disconnected"
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Closing:
		return "closing"
	case Stopping:
		return "stopping"
	case Terminated:
		return "terminated"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Stats are a client's counters since New. Messages and bytes count text
// and binary messages (payload bytes); MessagesOut counts messages written
// to a socket.
type Stats struct {
	MessagesIn, MessagesOut uint64
	BytesIn, BytesOut       uint64
	// Connects counts successful handshakes; Reconnects those after the
	// first.
	Connects, Reconnects uint64
	// DialFailures counts failed connection attempts.
	DialFailures uint64
	// Undelivered counts frames handed back as undelivered (including
	// those unconfirmed, ErrUnconfirmed).
	Undelivered uint64
	// With Options.Confirm: Confirmed counts frames a pong confirmed,
	// Unconfirmed is the number written and waiting for confirmation now,
	// Redelivered counts frames sent again on a new connection
	// (Options.Redelivery), when written again (a frame put back that the
	// run's end reports unconfirmed is not counted), PingRTT is the round
	// trip of the last confirmation ping answered.
	Confirmed   uint64
	Unconfirmed uint64
	Redelivered uint64
	PingRTT     time.Duration
	// PongMismatches counts connections on which confirmation was given up
	// because the server answers pings without echoing their payload
	// (errPongMismatch); Unconfirmable counts the frames written on them
	// after that, which are neither kept, confirmed nor reported.
	PongMismatches uint64
	Unconfirmable  uint64
	// QueuedFrames and QueuedBytes are the cast and replied frames waiting
	// in the outbox now, and their payload bytes: what Options.OutboxSize
	// and Options.OutboxBytes bound (Send's frames, which wait in their
	// callers' buffers, are not counted).
	QueuedFrames, QueuedBytes int
}

// New returns a client for url (ws:// or wss://) driven by h. It does not
// connect: run it with Serve (for example under a supervisor), or use
// Start. Frames cast and values posted before it runs wait for it. A nil h
// or a URL that can never be dialled makes Serve return ErrNilHandler or an
// error matching ErrBadURL at once.
func New(url string, h Handler, opts *Options) *Client {
	c := &Client{url: url, h: h, cfg: makeConfig(opts), run: &runResult{done: make(chan struct{})}}
	switch u, addr, auth, err := parseURL(url); {
	case h == nil:
		c.h = badHandler{err: ErrNilHandler}
	case err != nil:
		c.h = badHandler{err: &urlError{err}}
	default:
		c.dst = &dialTarget{raw: url, u: u, addr: addr, auth: auth}
	}
	c.ob.cond.L = &c.ob.mu
	c.ob.limit = c.cfg.outboxSize
	c.cfg.drained = c.postDrained
	c.ob.cfg = c.cfg
	return c
}

// badHandler stands for the handler of a client that can never run: New
// got a nil handler or an unusable URL, which begin reports.
type badHandler struct {
	BaseHandler
	err error
}

// makeConfig returns the client's own configuration, made from opts. It is
// never modified once made.
func makeConfig(opts *Options) *clientConfig {
	cfg := opts.config()
	return &cfg
}

// ErrBadURL is matched (errors.Is) by the error New's client returns when
// its URL can never be dialled: unparsable, a scheme other than ws, wss,
// http or https, no host.
var ErrBadURL = errors.New("wsclient: unusable URL")

type urlError struct{ err error }

func (e *urlError) Error() string        { return e.err.Error() }
func (e *urlError) Unwrap() error        { return e.err }
func (e *urlError) Is(target error) bool { return target == ErrBadURL }

// Start creates a client with New and runs it until ctx is cancelled or
// the client stops, without a goroutine of its own (see Client). It returns
// once Init has run, on the calling goroutine; if Init fails (or panics),
// Start returns its error after Terminate has run. A nil handler or an
// unusable URL is reported at once, before Init.
func Start(ctx context.Context, url string, h Handler, opts *Options) (*Client, error) {
	c := New(url, h, opts)
	if err := c.begin(ctx); err != nil {
		return nil, err
	}
	if c.runInit(ctx) {
		r := c.curRun()
		<-r.done
		return nil, r.err
	}
	return c, nil
}

// Serve runs the client until it stops and returns the termination reason
// (see Wait). Init runs on the calling goroutine, which then waits; the
// other callbacks run as described at Handler. Cancelling ctx stops the
// client gracefully (close handshake within the stop timeout) and Serve
// returns ctx's error.
//
// Serve may be called again after it has returned, which runs Init again
// with the same handler: a Client is a suture.Service. It returns
// ErrRunning if the client is already running.
func (c *Client) Serve(ctx context.Context) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	r := c.curRun()
	c.runInit(ctx)
	<-r.done
	return r.err
}

// curRun returns the current (or, before the first, the next) run.
func (c *Client) curRun() *runResult {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	return c.run
}

// begin starts a run.
func (c *Client) begin(ctx context.Context) error {
	if bh, ok := c.h.(badHandler); ok {
		return bh.err
	}
	c.runMu.Lock()
	if c.run.running {
		c.runMu.Unlock()
		return ErrRunning
	}
	select {
	case <-c.run.done:
		c.run = &runResult{done: make(chan struct{})}
	default:
	}
	c.run.running = true
	c.mail.open()
	c.ob.open()
	c.runMu.Unlock()
	c.lock() // (no callback runs: the run has not begun)
	c.setState(phInit)
	c.unlock()
	return nil
}

// State returns the current state.
func (c *Client) State() State { return State(c.pub.Load()) }

// Info returns the current connection's info, and false when not
// connected.
func (c *Client) Info() (ConnInfo, bool) {
	if cc := c.cur.Load(); cc != nil {
		return cc.connInfo(), true
	}
	return ConnInfo{}, false
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	n := uint64(c.connects.Load())
	st := Stats{
		MessagesIn:   c.msgsIn.Load(),
		MessagesOut:  c.msgsOut.Load(),
		BytesIn:      c.bytesIn.Load(),
		BytesOut:     c.bytesOut.Load(),
		Connects:     n,
		Reconnects:   max(n, 1) - 1,
		DialFailures: uint64(c.dialFails.Load()),
		Undelivered:  c.undeliv.Load(),
	}
	st.QueuedFrames, st.QueuedBytes = c.ob.queued()
	if cf := c.ob.confirmer(); cf != nil {
		st.Confirmed = cf.confirmed.Load()
		st.Unconfirmed = uint64(max(cf.unconfirmed.Load(), 0))
		st.Redelivered = cf.redelivered.Load()
		st.PingRTT = time.Duration(cf.rtt.Load())
		st.PongMismatches = cf.mismatches.Load()
		st.Unconfirmable = cf.unconfirmable.Load()
	}
	return st
}

// Wait waits for the current run of the client to end and returns the
// termination reason: nil after Stop or a StopWith(nil) decision, ctx's
// error when Serve's or Start's context was cancelled, the reason of a
// StopWith decision or CloseAndStop action (for ConnectOnce by default the
// disconnect reason), Init's error, or a *PanicError. Do not call it from a
// callback: it would wait for itself.
func (c *Client) Wait() error {
	r := c.curRun()
	<-r.done
	return r.err
}

// Cast sends f asynchronously, in order with the frames cast, sent and
// replied before it (Erlang cast/2). It copies f into the outbox and
// returns at once, never waiting for the network: when nothing else waits
// it makes one write attempt that does not wait, and leaves the rest to a
// writer goroutine. While the client is not connected the frame waits for
// the next connection and its OnConnect. A queued frame that cannot be
// written goes to OnUndelivered.
//
// A nil error means the frame was queued. A non-nil error means it was not
// taken and stays the caller's: ErrOutboxFull when Options.OutboxSize frames
// are already waiting (retry later, or Send it to wait for room),
// ErrClosed after the client has ended, an error matching ErrBadFrame for a
// frame that may not be sent.
//
// f.Data is not retained after Cast returns. The copy costs a pass over
// the payload; for payloads of a megabyte or more, Send, which writes
// from f.Data itself, costs less CPU.
func (c *Client) Cast(f Frame) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := c.ob.full(len(f.Data)); err != nil {
		return err // before copying the data
	}
	it := copyItem(f)
	if err := c.ob.push(it, true); err != nil {
		freeItem(it)
		return err
	}
	c.kick()
	return nil
}

// Send sends f and waits for its fate (Erlang send/2). It returns nil once
// the frame has been written to the socket and, with delivery confirmation
// on (Options.Confirm) for a text or binary frame, once the server is known
// to have read it (a pong, or the server's answer to the client's close,
// came after it). Otherwise it returns the error that kept it from being
// written, or, with confirmation, an error matching ErrUnconfirmed when
// the connection ended first (the frame may or may not have arrived; with
// Options.Redelivery it is sent again and Send goes on waiting).
//
// It takes its turn in the outbox behind the frames queued before it, and
// waits for it even when the outbox is full (ErrOutboxFull is never
// returned), and, while the client is not connected, until the next
// connection. If ctx ends before the frame is taken for writing it is
// withdrawn, never written, and ctx's error returned; if ctx ends during
// the write, the connection is dropped (its stream would be broken) and
// ctx's error returned; if ctx ends while Send waits for confirmation, the
// frame is still confirmed or reported through OnUndelivered, and ctx's
// error returned. f.Data must not be modified until Send returns.
//
// A Send made while a callback runs returns once the frame is written (it
// cannot wait for a confirmation that the callback may hold up). Such a
// Send cannot always complete: the client cannot connect, finish OnConnect
// or begin a new connection until the callback returns; and Go has no
// goroutine identity, so the client cannot tell a Send made by the running
// callback from one made meanwhile by another goroutine, and treats both
// alike. The rule: a Send made while a callback runs, with a ctx that can
// never end (ctx.Done() returns nil, as for context.Background()), returns
// ErrSendInCallback, its frame not taken, when the frame cannot be written
// before that callback returns: at once when the client is not connected,
// OnConnect runs, or the connection is closing; later if the connection is
// lost before the frame is written while that callback still runs (the
// frame is withdrawn then). With a ctx that can end, such a Send waits as
// any Send does; made by the callback itself, it holds the client up until
// ctx ends and then returns ctx's error. A Send made while no callback runs
// is never refused so.
func (c *Client) Send(ctx context.Context, f Frame) error {
	if c.cfg.confirmBytes > 0 && (f.Type == TextMessage || f.Type == BinaryMessage) {
		if _, inCB := c.inCallback(); !inCB {
			return c.sendConfirmed(ctx, f)
		}
	}
	return c.send(ctx, f, nil)
}

// send writes f; cw is sendConfirmed's wait, or nil.
func (c *Client) send(ctx context.Context, f Frame, cw *confirmWait) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	it := sendPool.Get().(*outItem)
	it.f, it.ctx, it.cw = f, ctx, cw
	// See Send for the rule while a callback runs.
	seq, inCB := c.inCallback()
	stall, err := c.ob.pushSend(it, inCB && ctx.Done() == nil, c.State() == Connected)
	if err != nil {
		it.f, it.ctx, it.cw = Frame{}, nil, nil
		sendPool.Put(it)
		return err
	}
	if err := c.writeOwn(ctx, it); err != nil {
		return err
	}
	for done := false; !done; {
		select {
		case err = <-it.done:
			done = true
		case <-ctx.Done():
			if c.ob.withdraw(it) {
				return ctx.Err() // the writer frees it
			}
			select {
			case err = <-it.done: // written (or failed) meanwhile
				done = true
				continue
			default:
			}
			// Being written: break the connection and wait for the outcome.
			if cc := c.cur.Load(); cc != nil {
				cc.cn.CloseNow()
			}
			<-it.done
			err, done = ctx.Err(), true
		case <-stall:
			// The connection was lost while the callback that ran when
			// Send was called may still run: if it does, the frame cannot
			// be written before it returns.
			stall = nil
			if s, _ := c.inCallback(); s == seq && c.ob.withdraw(it) {
				return ErrSendInCallback // the writer frees it
			}
		}
	}
	if it.failed != nil {
		err = it.failed.writeFailure(err, true) // the server's close, if it said why (its reader reads to the end)
	}
	it.f, it.ctx, it.cw, it.failed, it.taken = Frame{}, nil, nil, nil, false
	sendPool.Put(it)
	return err
}

// Post delivers msg to HandleInfo (the Erlang Pid ! Msg), after the values
// posted before it. It never blocks: the mailbox is unbounded. It returns
// ErrClosed once the client has ended.
func (c *Client) Post(msg any) error {
	return c.mail.put(c, event{kind: evInfo, msg: msg})
}

// Connect asks a disconnected client to connect now (after
// StartDisconnected or a Stay decision; it also cuts a reconnect delay
// short). It does nothing when connected or connecting.
func (c *Client) Connect() error { return c.mail.put(c, event{kind: evConnect}) }

// CloseConn asks the client to close the current connection with code and
// reason, once the frames queued before the request are written;
// OnDisconnect then decides what happens next, with a *LocalCloseError as
// the reason. It does nothing when not connected. To close and end the
// client, return CloseAndStop from a callback, or call Stop.
func (c *Client) CloseConn(code int, reason string) error {
	if !sendableCloseCode(code) {
		return closeCodeError(code)
	}
	return c.mail.put(c, event{kind: evCloseConn, code: code, reason: reason})
}

// Stop stops the client gracefully and waits until it has ended: values
// already posted are handled, frames already queued are written, the
// connection is closed with a close handshake (code 1000), frames left in
// the outbox are handed to OnUndelivered, and Terminate runs with a nil
// reason. The stop timeout (Options.StopTimeout) bounds the writing and the
// handshake: when it has passed, the connection is dropped. If ctx ends
// first, the connection is dropped at once and ctx's error is returned
// without waiting further; a ctx that has already ended skips the close
// handshake. Stop on a client that is not running returns
// nil.
//
// Stop waits only if no callback runs when it has made its request. While
// a callback runs (any Handler method, Init and Terminate included), Stop
// requests the stop and returns nil at once, whether it was called from
// the callback or from another goroutine meanwhile: the client cannot end
// before the callback returns, and cannot tell the callback's goroutine
// from another (Go has no goroutine identity). The client then ends after
// the callback returns, within the stop timeout; Wait or Done waits for
// that.
func (c *Client) Stop(ctx context.Context) error {
	c.runMu.Lock()
	r := c.run
	running := r.running
	c.runMu.Unlock()
	if !running {
		return nil
	}
	// Whether a callback runs is asked before the request: the request
	// itself starts callbacks (Terminate), which must not count.
	_, inCB := c.inCallback()
	// A context that has ended already asks for no close handshake.
	stop := event{kind: evStop, code: CloseNormalClosure, drop: ctx.Err() != nil}
	ranNow := c.runNow(&stop)
	if !ranNow {
		if err := c.mail.put(c, stop); err != nil {
			return nil // ended already
		}
	}
	if inCB {
		return nil // see the rule above
	}
	// The stopping state's timer bounds the stop; ctx only cuts the wait
	// short. A run that has ended wins over a ctx that has ended too.
	select {
	case <-r.done:
		return nil
	default:
	}
	if stop.drop && ranNow {
		// The connection (or the attempt) is dropped already: there is
		// nothing left to force, and no waiting.
		return ctx.Err()
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		c.forceEnd()
		return ctx.Err()
	}
}

// forceEnd makes the run end without waiting any longer, when Stop's ctx
// has ended: the socket is closed here (which frees a stuck write without
// waiting for a callback to return), and the machine drops what is left
// (evForce). A run that has ended refuses the event.
func (c *Client) forceEnd() {
	if cc := c.cur.Load(); cc != nil {
		cc.cn.CloseNow()
	}
	_ = c.mail.put(c, event{kind: evForce})
}

// setState moves the machine to p and publishes p's State: the one place
// the state changes. The caller holds the callback lock.
func (c *Client) setState(p phase) {
	if c.cfg.trace != nil {
		c.traceState(c.m.st.state(), p.state())
	}
	c.m.st = p
	c.pub.Store(int32(p.state()))
}
