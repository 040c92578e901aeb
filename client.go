package wsclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

// Client is a callback-driven WebSocket client: the Go form of the Erlang
// gen_statem websocket_client. It connects, reconnects and keeps the
// connection alive as its Handler decides.
//
// # States
//
// The client is a state machine; State reports the state that decides what
// each event does. The transitions, all of them:
//
//	state         event                         next state: what happens
//	disconnected  Connect, reconnect timer      connecting: dial
//	disconnected  Stop (any stop request)       terminated
//	connecting    dial succeeded                connected: OnConnect, then the outbox drains
//	connecting    dial failed                   disconnected: OnDisconnect decides (stay, reconnect, stop)
//	connecting    handshake timer (keepalive)   disconnected: the attempt is abandoned, OnDisconnect with ErrKeepaliveTimeout
//	connecting    Stop                          stopping: the dial is cancelled
//	connected     frame received                connected: HandleFrame
//	connected     keepalive timer               connected: ping; closing: connection dropped, ErrKeepaliveTimeout
//	connected     CloseConn                     closing: close frame queued behind the outbox
//	connected     server's close frame          closing: the close is echoed (by the Conn)
//	connected     connection ended              disconnected: OnDisconnect decides
//	connected     Stop, CloseAndStop, panic     stopping: close frame queued (at once for a panic)
//	closing       close frame sent              closing: close timer armed
//	closing       close timer                   closing: connection dropped
//	closing       frame received                closing: HandleFrame (messages sent before the server's close)
//	closing       connection ended              disconnected: OnDisconnect decides
//	closing       Stop                          stopping
//	stopping      connection ended, dial ended  terminated, once neither is left
//	stopping      stop timer, Stop's ctx ended  stopping: connection dropped, dial cancelled
//	terminated    (anything)                    terminated: nothing; Terminate has run
//
// In every state but terminated, a posted value runs HandleInfo, and in
// every state a frame that could not be written runs OnUndelivered. Each
// state has one timer at most, armed on entry and disarmed on exit:
// connecting the handshake keepalive (interval × maxMissed, with
// WithKeepalive), connected the keepalive ticker, disconnected the
// reconnect delay, closing the close timeout (the Dialer's CloseTimeout,
// from when the close frame is sent), stopping the stop timeout.
//
// # Goroutines
//
// An idle connected client has one goroutine: the connection's reader,
// which also runs HandleFrame for what it reads. Everything else exists only
// while there is work: a writer goroutine while frames wait that the socket
// did not take at once, a mail goroutine while posted values and requests
// wait, a timer's goroutine while its event runs, the dialling goroutine
// (which becomes the reader). Callbacks and state transitions are
// serialised by one lock per client, so callbacks never overlap and each
// happens-before the next (see Handler).
//
// # Message fate
//
// Every frame handed to Cast, Send or a Reply action is either written to a
// connection's socket or handed back — as Cast's or Send's error, or through
// UndeliveredHandler — never dropped in silence. Frames wait in a bounded
// outbox (see WithOutboxSize), in order, until they are written; while the
// client is not connected they wait for the next connection and are written
// after its OnConnect has run. Several waiting frames go out in one write.
// WebSocket has no acknowledgements: a frame written just before a
// connection dies can still be lost in flight.
//
// All methods are safe for concurrent use.
type Client struct {
	url string
	h   Handler       // a badHandler when the client can never run
	cfg *clientConfig // shared by clients made in a row with equal options

	pub    atomic.Int32               // the machine's state, published
	inInit atomic.Bool                // Init runs
	cur    atomic.Pointer[clientConn] // the current connection

	// mu is the callback lock: it serialises every callback and every
	// state transition. cbG is the goroutine holding it (0 when none).
	mu  sync.Mutex
	cbG atomic.Uint64
	m   machine // guarded by mu

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

// Client states. The values of the first six are those of earlier
// versions.
const (
	// Disconnected: no connection and no attempt under way; waiting for
	// Connect or a reconnect delay.
	Disconnected State = iota
	// Connecting: a connection attempt (DNS, TCP, TLS, proxy, the HTTP
	// upgrade) is under way.
	Connecting
	// Handshaking is no longer reported: Connecting covers the whole
	// attempt, which the client treats as one step.
	//
	// Deprecated: the client never reports it.
	Handshaking
	// Connected: the connection is open; frames are read and written.
	Connected
	// Closing: the connection is being closed (by the client, the server,
	// or a keepalive timeout); OnDisconnect follows.
	Closing
	// Terminated: the run has ended; Terminate has run.
	Terminated
	// Stopping: the client is ending: the connection is being closed and
	// no new one is made; Terminate follows.
	Stopping
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case Disconnected:
		return "disconnected"
	case Connecting:
		return "connecting"
	case Handshaking:
		return "handshaking"
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
	// With WithConfirmation: Confirmed counts frames a pong confirmed,
	// Unconfirmed is the number written and waiting for confirmation now,
	// Redelivered counts frames sent again on a new connection
	// (WithRedelivery), when written again (a frame put back that the
	// run's end reports unconfirmed is not counted), PingRTT is the round
	// trip of the last confirmation ping answered.
	Confirmed   uint64
	Unconfirmed uint64
	Redelivered uint64
	PingRTT     time.Duration
	// PongMismatches counts connections on which confirmation was given up
	// because the server answers pings without echoing their payload
	// (ErrPongMismatch); Unconfirmable counts the frames written on them
	// after that, which are neither kept, confirmed nor reported.
	PongMismatches uint64
	Unconfirmable  uint64
}

// New returns a client for url (ws:// or wss://) driven by h. It does not
// connect: run it with Serve (for example under a supervisor), or use
// Start. Frames cast and values posted before it runs wait for it. A nil h
// or a URL that can never be dialled makes Serve return ErrNilHandler or an
// error matching ErrBadURL at once.
func New(url string, h Handler, opts ...Option) *Client {
	c := &Client{url: url, h: h, cfg: makeConfig(opts), run: &runResult{done: make(chan struct{})}}
	switch {
	case h == nil:
		c.h = badHandler{err: ErrNilHandler}
	default:
		if p := lastGoodURL.Load(); p != nil && *p == url {
			break // parsed before: the check would allocate again
		}
		if _, _, _, err := parseURL(url); err != nil {
			c.h = badHandler{err: &urlError{err}}
		} else {
			u := url // only here: &url would move url to the heap on every call
			lastGoodURL.Store(&u)
		}
	}
	c.ob.cond.L = &c.ob.mu
	c.ob.limit = c.cfg.outboxSize
	c.ob.cf = newConfirmer(c.cfg)
	return c
}

// badHandler stands for the handler of a client that can never run: New
// got a nil handler or an unusable URL, which begin reports.
type badHandler struct {
	BaseHandler
	err error
}

// lastConfig is the configuration of the client made last: the clients an
// application makes in a row with the same options share one, so that an
// idle client does not carry a copy. configPool holds scratch
// configurations for the comparison.
var (
	lastConfig atomic.Pointer[clientConfig]
	configPool = sync.Pool{New: func() any { return new(clientConfig) }}
)

// makeConfig returns the configuration opts make, shared with the last
// client's when equal. A configuration is never modified once made.
func makeConfig(opts []Option) *clientConfig {
	cfg := configPool.Get().(*clientConfig)
	*cfg = defaultClientConfig()
	for _, o := range opts {
		o(cfg)
	}
	if last := lastConfig.Load(); last != nil && *last == *cfg {
		configPool.Put(cfg)
		return last
	}
	lastConfig.Store(cfg)
	return cfg
}

// lastGoodURL is the last URL New found usable: clients made in a row for
// one URL parse it once here (and once per connection attempt).
var lastGoodURL atomic.Pointer[string]

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
func Start(ctx context.Context, url string, h Handler, opts ...Option) (*Client, error) {
	c := New(url, h, opts...)
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
	defer c.runMu.Unlock()
	if c.run.running {
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
	c.setState(Disconnected)
	return nil
}

// URL returns the URL the client connects to.
func (c *Client) URL() string { return c.url }

// State returns the current state.
func (c *Client) State() State { return State(c.pub.Load()) }

// ConnInfo returns the current connection's info, and false when not
// connected.
func (c *Client) ConnInfo() (ConnInfo, bool) {
	if cc := c.cur.Load(); cc != nil {
		return cc.connInfo(c.url), true
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
	if cf := c.ob.cf; cf != nil {
		st.Confirmed = cf.confirmed.Load()
		st.Unconfirmed = uint64(max(cf.unconfirmed.Load(), 0))
		st.Redelivered = cf.redelivered.Load()
		st.PingRTT = time.Duration(cf.rtt.Load())
		st.PongMismatches = cf.mismatches.Load()
		st.Unconfirmable = cf.unconfirmable.Load()
	}
	return st
}

// Done returns a channel that is closed when the current (or, before the
// first, the next) run of the client has ended.
func (c *Client) Done() <-chan struct{} { return c.curRun().done }

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
// taken and stays the caller's: ErrOutboxFull when WithOutboxSize frames
// are already waiting (retry later, or Send it to wait for room),
// ErrTerminated after the client has ended, ErrBadFrameType or
// ErrControlTooLong for a frame that cannot be sent.
//
// f.Data is not retained after Cast returns. The copy costs a pass over
// the payload; for payloads of a megabyte or more, Send, which writes
// from f.Data itself, costs less CPU.
func (c *Client) Cast(f Frame) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := c.ob.full(); err != nil {
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

// Send sends f and returns after it has been written to the socket, or
// with the error that kept it from being written (Erlang send/2). It takes
// its turn in the outbox behind the frames queued before it, and waits for
// it even when the outbox is full (ErrOutboxFull is never returned), and,
// while the client is not connected, until the next connection. If ctx ends
// before the frame is taken for writing it is withdrawn, never written, and
// ctx's error returned; if ctx ends during the write, the connection is
// dropped (its stream would be broken) and ctx's error returned. f.Data
// must not be modified until Send returns. From a callback see Handler:
// it fails at once with ErrSendInCallback where it could not complete.
func (c *Client) Send(ctx context.Context, f Frame) error {
	return c.send(ctx, f, nil)
}

// send is Send; cw is SendConfirmed's wait, or nil.
func (c *Client) send(ctx context.Context, f Frame, cw *confirmWait) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.inInit.Load() || c.inCallback() && !c.sendableFromCallback() {
		return ErrSendInCallback
	}
	it := sendPool.Get().(*outItem)
	it.f, it.ctx, it.cw = f, ctx, cw
	if err := c.ob.push(it, false); err != nil {
		it.f, it.ctx, it.cw = Frame{}, nil, nil
		sendPool.Put(it)
		return err
	}
	if err := c.writeOwn(ctx, it); err != nil {
		return err
	}
	var err error
	select {
	case err = <-it.done:
	case <-ctx.Done():
		if c.ob.withdraw(it) {
			return ctx.Err() // the writer frees it
		}
		// Being written: break the connection and wait for the outcome.
		if cc := c.cur.Load(); cc != nil {
			cc.cn.CloseNow()
		}
		<-it.done
		err = ctx.Err()
	}
	it.f, it.ctx, it.cw = Frame{}, nil, nil
	sendPool.Put(it)
	return err
}

// Post delivers msg to HandleInfo (the Erlang Pid ! Msg), after the values
// posted before it. It never blocks: the mailbox is unbounded. It returns
// ErrTerminated once the client has ended.
func (c *Client) Post(msg any) error {
	return c.mail.put(c, mail{kind: mailPost, msg: msg})
}

// Ping queues a ping with payload (at most 125 bytes, copied) to be written
// on the current connection ahead of the frames waiting in the outbox, and
// returns at once: it never waits for the network. It returns
// ErrNotConnected when not connected. The pong arrives at HandleFrame. To
// ping in order with other frames, Cast a PingFrame.
func (c *Client) Ping(payload []byte) error {
	if len(payload) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	cc := c.cur.Load()
	if cc == nil || c.State() != Connected {
		return ErrNotConnected
	}
	if !c.ob.queuePing(cc, payload) {
		return ErrNotConnected
	}
	c.kick()
	return nil
}

// Connect asks a disconnected client to connect now (after
// StartDisconnected or a Stay decision; it also cuts a reconnect delay
// short). It does nothing when connected or connecting.
func (c *Client) Connect() error { return c.mail.put(c, mail{kind: mailConnect}) }

// CloseConn asks the client to close the current connection with code and
// reason, once the frames queued before the request are written;
// OnDisconnect then decides what happens next, with a *LocalCloseError as
// the reason. It does nothing when not connected. To close and end the
// client, return CloseAndStop from a callback, or call Stop.
func (c *Client) CloseConn(code int, reason string) error {
	if !frame.ValidCloseCode(code) {
		return fmt.Errorf("%w %d", ErrInvalidCloseCode, code)
	}
	return c.mail.put(c, mail{kind: mailClose, code: code, reason: reason})
}

// Stop stops the client gracefully and waits until it has ended: values
// already posted are handled, frames already queued are written, the
// connection is closed with a close handshake (code 1000), frames left in
// the outbox are handed to OnUndelivered, and Terminate runs with a nil
// reason. The stop timeout (WithStopTimeout) bounds the writing and the
// handshake: when it has passed, the connection is dropped. If ctx ends
// first, the connection is dropped at once and ctx's error is returned
// without waiting further; a ctx that has already ended skips the close
// handshake. Stop on a client that is not running returns
// nil.
//
// Called from a callback, Stop requests the stop and returns nil at once:
// the client cannot end while its callback runs. It ends after the
// callback returns. While Init runs, Stop does not wait either (from any
// goroutine), and Send fails with ErrSendInCallback.
func (c *Client) Stop(ctx context.Context) error {
	c.runMu.Lock()
	r := c.run
	running := r.running
	c.runMu.Unlock()
	if !running {
		return nil
	}
	// A context that has ended already asks for no close handshake.
	stop := mail{kind: mailStop, drop: ctx.Err() != nil}
	ranNow := c.runNow(&stop)
	if !ranNow {
		if err := c.mail.put(c, stop); err != nil {
			return nil // ended already
		}
	}
	if c.inInit.Load() || c.inCallback() {
		return nil
	}
	if stop.drop && ranNow {
		// The connection (or the attempt) is dropped already: there is
		// nothing left to force, and no waiting.
		select {
		case <-r.done:
			return nil
		default:
			return ctx.Err()
		}
	}
	select { // no timer for a client that ends at once
	case <-r.done:
		return nil
	case <-ctx.Done():
		c.forceEnd()
		return ctx.Err()
	default:
	}
	t := time.NewTimer(c.cfg.stopTimeout)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return nil
		case <-t.C:
			c.forceEnd()
		case <-ctx.Done():
			c.forceEnd()
			return ctx.Err()
		}
	}
}

// forceEnd makes the run end without waiting any longer: the socket is
// closed here (which frees a stuck write without waiting for a callback to
// return), and the machine drops what is left.
func (c *Client) forceEnd() {
	if cc := c.cur.Load(); cc != nil {
		cc.cn.CloseNow()
	}
	_ = c.mail.put(c, mail{kind: mailForce})
}

// setState publishes s; the caller holds the callback lock (or the run has
// not started).
func (c *Client) setState(s State) {
	c.m.st = s
	c.pub.Store(int32(s))
}
