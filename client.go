package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

// ---------------------------------------------------------------------------
// Handler side: the callbacks and their results.

// InitMode is the handler's choice, made in Init, of how the client starts
// and what an on-disconnect decision left at its zero value means. It is
// the Go form of the Erlang init/1 results ok, once and reconnect.
type InitMode int

const (
	// ConnectOnce connects at start; when the connection ends (or cannot
	// be made) the client stops, unless OnDisconnect decides otherwise.
	// Erlang: {once, State}.
	ConnectOnce InitMode = iota
	// KeepReconnecting connects at start and, by default, reconnects with
	// the client's Backoff whenever the connection ends or fails.
	// Erlang: {reconnect, State}.
	KeepReconnecting
	// StartDisconnected does not connect until Client.Connect is called; by
	// default a lost connection leaves the client alive and disconnected.
	// Erlang: {ok, State}.
	StartDisconnected
)

// String returns the mode's name.
func (m InitMode) String() string {
	switch m {
	case ConnectOnce:
		return "ConnectOnce"
	case KeepReconnecting:
		return "KeepReconnecting"
	case StartDisconnected:
		return "StartDisconnected"
	}
	return fmt.Sprintf("InitMode(%d)", int(m))
}

// Handler is the behaviour a Client drives: the Go form of the Erlang
// websocket_client callback module. Embed BaseHandler to implement only the
// methods you need.
//
// All methods of one client run on the client's own goroutine — the one
// that runs Serve, or the one Start creates — one at a time, each to its end
// before the next starts, so the handler's state needs no locks. The
// connection's reader goroutine only reads: it hands each received message
// and control frame to the client's goroutine, and writes happen on a
// writer goroutine, so a slow callback delays nothing but the callbacks
// (the reader stops taking messages once a few are waiting for it).
//
// A panic in any method is recovered: the connection is closed (code 1011),
// Terminate runs, and the client ends with a *PanicError carrying the value
// and stack. After a panic no callback other than OnUndelivered and
// Terminate is called.
//
// Callbacks may call the Client's methods, with two exceptions. Stop waits
// for the client to end, which cannot happen while a callback runs: return
// the StopWith decision from OnDisconnect, or CloseConn, instead (or call
// Stop from another goroutine). Send waits for its frame to be written: from
// a callback it holds up every other callback until then, and while the
// client is not connected it cannot succeed (the connection is made only
// after the callback returns), so it blocks until its context ends. Use
// Cast or a Reply action in callbacks.
type Handler interface {
	// Init runs first, once per run of the client (Start, Serve), and
	// chooses how the client starts. An error (or panic) ends the client:
	// Terminate runs with it and Start (or Serve, Wait) returns it.
	Init(c *Client) (InitMode, error)

	// OnConnect runs after each successful opening handshake, before any
	// frame of the connection is handled and before the frames waiting in
	// the outbox are sent: frames it replies are the first on the wire, so
	// it can authenticate. Erlang: onconnect/2.
	OnConnect(c *Client, info ConnInfo) Action

	// OnDisconnect runs when a connection ends or a connection attempt
	// fails, and decides what happens next. It is not called when the
	// client is stopping (Stop, context cancelled, stop decision, panic).
	// Erlang: ondisconnect/2.
	OnDisconnect(c *Client, d Disconnect) DisconnectAction

	// HandleFrame runs for each received text or binary message and each
	// ping (already answered with a pong) and pong. f.Data is only valid
	// during the call (its buffer is reused); copy it to keep it. Replying
	// f itself (an echo) is fine: replies are copied. Erlang:
	// websocket_handle/3.
	HandleFrame(c *Client, f Frame) Action

	// HandleInfo runs for each value given to Client.Post, in the order
	// posted. Erlang: websocket_info/3.
	HandleInfo(c *Client, msg any) Action

	// Terminate runs exactly once per run, last, with the reason the client
	// ends: nil after Stop, the context's error after cancellation, the
	// reason of a Stop decision, a *PanicError, or Init's error.
	// Erlang: websocket_terminate/3.
	Terminate(c *Client, reason error)
}

// UndeliveredHandler may be implemented by a Handler to receive the frames
// that were accepted by Cast (or a Reply action) but could not be written:
// their connection failed, the client ended before they could be sent (err
// is then ErrTerminated), or, for a reply, the outbox was full
// (ErrOutboxFull). It runs on the client's goroutine like the
// other callbacks; f.Data is the client's own copy and may be kept. Without
// it such frames are counted in Stats.Undelivered and logged (WithLogger).
type UndeliveredHandler interface {
	OnUndelivered(c *Client, f Frame, err error)
}

// BaseHandler implements every Handler method with the defaults: Init
// returns ConnectOnce, the others return zero results. Embed it in a
// handler and override what you need.
type BaseHandler struct{}

// Init returns ConnectOnce.
func (BaseHandler) Init(*Client) (InitMode, error) { return ConnectOnce, nil }

// OnConnect returns the zero Action.
func (BaseHandler) OnConnect(*Client, ConnInfo) Action { return Action{} }

// OnDisconnect returns the zero DisconnectAction: the InitMode's default.
func (BaseHandler) OnDisconnect(*Client, Disconnect) DisconnectAction {
	return DisconnectAction{}
}

// HandleFrame returns the zero Action.
func (BaseHandler) HandleFrame(*Client, Frame) Action { return Action{} }

// HandleInfo returns the zero Action.
func (BaseHandler) HandleInfo(*Client, any) Action { return Action{} }

// Terminate does nothing.
func (BaseHandler) Terminate(*Client, error) {}

// Frame is a message or control frame: received by HandleFrame, or sent
// with Cast, Send and Reply. Type is TextMessage, BinaryMessage,
// PingMessage or PongMessage (control payloads at most 125 bytes).
type Frame struct {
	Type MessageType
	Data []byte
}

// TextFrame returns a text frame holding s.
func TextFrame(s string) Frame { return Frame{Type: TextMessage, Data: []byte(s)} }

// BinaryFrame returns a binary frame holding b (not copied).
func BinaryFrame(b []byte) Frame { return Frame{Type: BinaryMessage, Data: b} }

// PingFrame returns a ping frame with payload p (not copied).
func PingFrame(p []byte) Frame { return Frame{Type: PingMessage, Data: p} }

// PongFrame returns a pong frame with payload p (not copied).
func PongFrame(p []byte) Frame { return Frame{Type: PongMessage, Data: p} }

// String returns the type and, for short payloads, the data.
func (f Frame) String() string {
	if len(f.Data) <= 64 {
		if f.Type == TextMessage {
			return fmt.Sprintf("%s %q", f.Type, f.Data)
		}
		return fmt.Sprintf("%s %x", f.Type, f.Data)
	}
	return fmt.Sprintf("%s (%d bytes)", f.Type, len(f.Data))
}

func (f Frame) check() error {
	switch f.Type {
	case TextMessage, BinaryMessage:
		return nil
	case PingMessage, PongMessage:
		if len(f.Data) > frame.MaxControlPayload {
			return ErrControlTooLong
		}
		return nil
	}
	return ErrBadFrameType
}

// Action is a callback's result: the zero value does nothing (Erlang ok).
// Build one with Reply, CloseConn and Keepalive, and combine them with the
// methods of the same names, for example
//
//	return wsclient.Reply(wsclient.TextFrame("bye")).CloseConn(wsclient.CloseNormalClosure, "done")
//
// Replies are queued first, in order, then the keepalive is set, then the
// connection is closed once the frames queued before the close are written.
type Action struct {
	first  Frame
	nreply int
	more   []Frame
	setKA  bool
	ka     time.Duration
	close  bool
	code   int
	reason string
}

// Reply returns an Action that sends frames, in order (Erlang {reply,
// Frame}). They are copied and join the outbox like Cast, behind the frames
// already waiting, and are written by the client's writer (replies from
// OnConnect go ahead of everything waiting, and are accepted even when the
// outbox is full). Frames that cannot be written, or find the outbox full,
// go to OnUndelivered.
func Reply(frames ...Frame) Action { return Action{}.Reply(frames...) }

// Reply adds frames to send.
func (a Action) Reply(frames ...Frame) Action {
	for _, f := range frames {
		if a.nreply == 0 {
			a.first = f
		} else {
			a.more = append(a.more, f)
		}
		a.nreply++
	}
	return a
}

// CloseConn returns an Action that closes the connection with code and
// reason (a close handshake; Erlang {close, Payload}). OnDisconnect then
// runs with a *LocalCloseError. An invalid code is replaced by 1000.
func CloseConn(code int, reason string) Action { return Action{}.CloseConn(code, reason) }

// CloseConn adds closing the connection.
func (a Action) CloseConn(code int, reason string) Action {
	a.close, a.code, a.reason = true, code, reason
	return a
}

// Keepalive returns an Action that pings every interval on the current
// connection (Erlang {ok, State, KeepaliveMs} from onconnect); 0 turns
// keepalive off. The number of unanswered pings tolerated comes from
// WithKeepalive (default 3).
func Keepalive(interval time.Duration) Action { return Action{}.Keepalive(interval) }

// Keepalive adds setting the keepalive interval.
func (a Action) Keepalive(interval time.Duration) Action {
	a.setKA, a.ka = true, max(interval, 0)
	return a
}

type daKind int

const (
	daDefault daKind = iota
	daStay
	daNow
	daAfter
	daBackoff
	daStop
)

// DisconnectAction is OnDisconnect's decision. The zero value means the
// InitMode's default: stop for ConnectOnce (with the disconnect reason, or
// nil after a clean close the client asked for), reconnect with the
// backoff for KeepReconnecting, stay disconnected for StartDisconnected.
type DisconnectAction struct {
	kind   daKind
	delay  time.Duration
	reason error
}

// Stay keeps the client alive and disconnected until Client.Connect
// (Erlang ok).
func Stay() DisconnectAction { return DisconnectAction{kind: daStay} }

// ReconnectNow reconnects at once (Erlang reconnect).
func ReconnectNow() DisconnectAction { return DisconnectAction{kind: daNow} }

// ReconnectAfter reconnects after d (Erlang {reconnect, Ms}).
func ReconnectAfter(d time.Duration) DisconnectAction {
	return DisconnectAction{kind: daAfter, delay: d}
}

// ReconnectWithBackoff reconnects after the client's Backoff delay for
// Disconnect.Attempt (see WithBackoff).
func ReconnectWithBackoff() DisconnectAction { return DisconnectAction{kind: daBackoff} }

// StopWith ends the client with reason (nil for a normal end): Terminate
// runs with it and Wait returns it (Erlang {close, Reason}). Not to be
// confused with Client.Stop, which must not be called from a callback.
func StopWith(reason error) DisconnectAction {
	return DisconnectAction{kind: daStop, reason: reason}
}

// Disconnect describes the end of a connection or a failed attempt.
type Disconnect struct {
	// Reason is why: *CloseError (the server closed, with code and
	// reason), ErrConnectionLost (no close frame), *LocalCloseError (the
	// client closed), ErrKeepaliveTimeout, *ProtocolError, *HandshakeError
	// (the server refused the upgrade: status code and text), *DialError
	// (DNS, TCP, proxy, TLS) or another dial error.
	Reason error
	// Attempt is the number of connection attempts that failed in a row,
	// including this one; 0 when an established connection ended.
	Attempt int
	// WasConnected reports whether an established connection ended (as
	// opposed to a connection attempt failing).
	WasConnected bool
}

// LocalCloseError is the disconnect reason when the client closed the
// connection itself (a CloseConn action or Client.CloseConn) with Code and
// Reason. Err is nil when the close handshake completed, else what went
// wrong (timeout, connection lost).
type LocalCloseError struct {
	Code   int
	Reason string
	Err    error
}

// Error describes the LocalCloseError.
func (e *LocalCloseError) Error() string {
	s := fmt.Sprintf("wsclient: closed by the client with code %d (%s)", e.Code, CloseCodeText(e.Code))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += "; close handshake: " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err.
func (e *LocalCloseError) Unwrap() error { return e.Err }

// ConnInfo describes an established connection (the Erlang websocket_req
// accessors). Header is the server's handshake response header; do not
// modify it.
type ConnInfo struct {
	URL         string
	Subprotocol string
	Extensions  string
	Header      http.Header
	LocalAddr   net.Addr
	RemoteAddr  net.Addr
}

// State is the client's connection state.
type State int32

// Client states. Connecting covers DNS and TCP; Handshaking covers TLS,
// proxy CONNECT and the HTTP upgrade.
const (
	Disconnected State = iota
	Connecting
	Handshaking
	Connected
	Closing
	Terminated
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
	// Undelivered counts frames handed back as undelivered.
	Undelivered uint64
}

// PanicError is the termination reason when a callback panicked.
type PanicError struct {
	Callback string // "Init", "OnConnect", "HandleFrame", ...
	Value    any    // the value passed to panic
	Stack    []byte // the panicking goroutine's stack
}

// Error describes the PanicError.
func (e *PanicError) Error() string {
	return fmt.Sprintf("wsclient: panic in %s: %v", e.Callback, e.Value)
}

// Unwrap returns Value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Client errors.
var (
	// ErrTerminated: the client has ended (or ended before the frame could
	// be sent).
	ErrTerminated = errors.New("wsclient: client terminated")
	// ErrOutboxFull: the outbox holds as many frames as WithOutboxSize
	// allows; the frame was not taken.
	ErrOutboxFull = errors.New("wsclient: outbox full")
	// ErrNotConnected: the operation needs a live connection.
	ErrNotConnected = errors.New("wsclient: not connected")
	// ErrRunning: Serve was called while the client is already running.
	ErrRunning = errors.New("wsclient: client already running")
)

// ---------------------------------------------------------------------------
// The Client.

// Client is a callback-driven WebSocket client: the Go form of the Erlang
// gen_statem websocket_client. It connects, reconnects and keeps the
// connection alive as its Handler decides, and runs every callback on its
// own goroutine.
//
// Each connection has a reader goroutine, which reads messages and hands
// them to the client's goroutine, and a writer goroutine, which writes the
// frames of the outbox in order. No callback and no Cast ever waits for the
// network.
//
// Message fate: every frame handed to Cast, Send or a Reply action is
// either written to a connection's socket or handed back — as Cast's or
// Send's error, or through UndeliveredHandler — never dropped in silence.
// Frames wait in a bounded outbox (see WithOutboxSize), in order, until the
// writer takes them; while the client is not connected they wait for the
// next connection and are written after its OnConnect has run. WebSocket
// has no acknowledgements: a frame written just before a connection dies
// can still be lost in flight.
//
// All methods are safe for concurrent use.
type Client struct {
	url string
	h   Handler
	uh  UndeliveredHandler
	cfg clientConfig

	state atomic.Int32
	cur   atomic.Pointer[Conn] // the current connection
	info  atomic.Pointer[ConnInfo]

	// mu guards the outbox and the hand-off to the writer.
	mu       sync.Mutex
	outbox   []*outItem
	outHead  int
	outCount int     // frames counted against the bound (Cast, Reply)
	w        *writer // the live connection's writer; nil while none drains the outbox
	running  bool
	closed   bool // terminated: refuse frames
	run      *runResult

	mail mailbox

	msgsIn, msgsOut, bytesIn, bytesOut atomic.Uint64
	connects, dialFails, undelivered   atomic.Uint64
}

// outItem is a frame in the outbox, or a close marker.
type outItem struct {
	f       Frame
	buf     []byte          // the client's copy of a cast or replied frame
	ctx     context.Context // Send's
	done    chan error      // Send's; nil otherwise
	counted bool            // counts against the outbox bound
	taken   bool            // the writer has it
	cancel  bool            // Send withdrew it

	closeOn *Conn // a close marker: start the close handshake on closeOn
	code    int
	reason  string
}

// itemPool recycles the outbox items of cast and replied frames, with their
// copies of the data, so that a steady stream of Casts does not allocate.
var itemPool = sync.Pool{New: func() any { return new(outItem) }}

// maxPooledData bounds the data buffer an item keeps when recycled.
const maxPooledData = 64 << 10

// copyItem returns a pooled item holding a copy of f.
func copyItem(f Frame) *outItem {
	it := itemPool.Get().(*outItem)
	it.buf = append(it.buf[:0], f.Data...)
	it.f = Frame{Type: f.Type, Data: it.buf}
	return it
}

// freeItem recycles an item of copyItem once its data is no longer used.
func freeItem(it *outItem) {
	buf := it.buf[:0]
	if cap(buf) > maxPooledData {
		buf = nil
	}
	*it = outItem{buf: buf}
	itemPool.Put(it)
}

type runResult struct {
	done      chan struct{}
	initDone  chan struct{}
	initErr   error
	err       error
	force     chan struct{}
	forceOnce sync.Once
}

func newRun() *runResult {
	return &runResult{done: make(chan struct{}), initDone: make(chan struct{}), force: make(chan struct{})}
}

// forceEnd makes the run end without waiting any longer: the owner drops
// the connection and cancels a dial. Safe from any goroutine; the socket is
// closed here too, so that nothing waits for the owner to notice.
func (c *Client) forceEnd(r *runResult) {
	r.forceOnce.Do(func() { close(r.force) })
	if cn := c.cur.Load(); cn != nil {
		hardClose(cn)
	}
}

// New returns a client for url (ws:// or wss://) driven by h. It does not
// connect: run it with Serve (for example under a supervisor), or use
// Start. Frames cast and values posted before it runs wait for it.
func New(url string, h Handler, opts ...Option) *Client {
	c := &Client{url: url, h: h, cfg: defaultClientConfig()}
	for _, o := range opts {
		o(&c.cfg)
	}
	c.uh, _ = h.(UndeliveredHandler)
	c.run = newRun()
	c.mail.signal = make(chan struct{}, 1)
	return c
}

// Start creates a client with New and runs it on a new goroutine until ctx
// is cancelled or the client stops. It returns once Init has run; if Init
// fails (or panics), Start returns its error after Terminate has run.
func Start(ctx context.Context, url string, h Handler, opts ...Option) (*Client, error) {
	c := New(url, h, opts...)
	r, err := c.begin()
	if err != nil {
		return nil, err
	}
	go c.serve(ctx, r)
	<-r.initDone
	if r.initErr != nil {
		<-r.done
		return nil, r.err
	}
	return c, nil
}

// Serve runs the client on the calling goroutine, which runs every
// callback: Init, then connections and callbacks, until the client stops;
// it returns the termination reason (see Wait). Cancelling ctx stops the
// client gracefully (close handshake within the stop timeout) and Serve
// returns ctx's error.
//
// Serve may be called again after it has returned, which runs Init again
// with the same handler: a Client is a suture.Service. It returns
// ErrRunning if the client is already running.
func (c *Client) Serve(ctx context.Context) error {
	r, err := c.begin()
	if err != nil {
		return err
	}
	return c.serve(ctx, r)
}

func (c *Client) begin() (*runResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return nil, ErrRunning
	}
	c.running = true
	c.closed = false
	select {
	case <-c.run.done:
		c.run = newRun()
	default:
	}
	c.mail.open()
	c.state.Store(int32(Disconnected))
	return c.run, nil
}

// URL returns the URL the client connects to.
func (c *Client) URL() string { return c.url }

// State returns the current state.
func (c *Client) State() State { return State(c.state.Load()) }

// ConnInfo returns the current connection's info, and false when not
// connected.
func (c *Client) ConnInfo() (ConnInfo, bool) {
	if c.cur.Load() == nil {
		return ConnInfo{}, false
	}
	if p := c.info.Load(); p != nil {
		return *p, true
	}
	return ConnInfo{}, false
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	n := c.connects.Load()
	return Stats{
		MessagesIn:   c.msgsIn.Load(),
		MessagesOut:  c.msgsOut.Load(),
		BytesIn:      c.bytesIn.Load(),
		BytesOut:     c.bytesOut.Load(),
		Connects:     n,
		Reconnects:   max(n, 1) - 1,
		DialFailures: c.dialFails.Load(),
		Undelivered:  c.undelivered.Load(),
	}
}

// Done returns a channel that is closed when the current (or, before the
// first, the next) run of the client has ended.
func (c *Client) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.run.done
}

// Wait waits for the current run of the client to end and returns the
// termination reason: nil after Stop or a StopWith(nil) decision, ctx's
// error when Serve's or Start's context was cancelled, the reason of a
// StopWith decision (for ConnectOnce by default the disconnect reason),
// Init's error, or a *PanicError.
func (c *Client) Wait() error {
	c.mu.Lock()
	r := c.run
	c.mu.Unlock()
	<-r.done
	return r.err
}

// Cast sends f asynchronously, in order with the frames cast, sent and
// replied before it (Erlang cast/2). It copies f into the outbox and
// returns at once, never waiting for the network; the client's writer
// writes it on the live connection or, while the client is not connected,
// after the next OnConnect. A queued frame that cannot be written goes to
// OnUndelivered.
//
// A nil error means the frame was queued. A non-nil error means it was not
// taken and stays the caller's: ErrOutboxFull when WithOutboxSize frames
// are already waiting (retry later, or Send it to wait for room),
// ErrTerminated after the client has ended, ErrBadFrameType or
// ErrControlTooLong for a frame that cannot be sent.
//
// f.Data is not retained after Cast returns.
func (c *Client) Cast(f Frame) error {
	if err := f.check(); err != nil {
		return err
	}
	it := copyItem(f)
	if err := c.enqueue(it, true); err != nil {
		freeItem(it)
		return err
	}
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
// must not be modified until Send returns. See Handler about Send from a
// callback.
func (c *Client) Send(ctx context.Context, f Frame) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	it := &outItem{f: f, ctx: ctx, done: make(chan error, 1)}
	if err := c.enqueue(it, false); err != nil {
		return err
	}
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		c.mu.Lock()
		if !it.taken {
			it.cancel = true
			c.mu.Unlock()
			return ctx.Err()
		}
		c.mu.Unlock()
		return <-it.done
	}
}

// Post delivers msg to HandleInfo on the client's goroutine (the Erlang
// Pid ! Msg). It never blocks: the mailbox is unbounded. It returns
// ErrTerminated once the client has ended.
func (c *Client) Post(msg any) error {
	return c.mail.put(mail{kind: mailPost, msg: msg})
}

// Ping sends a ping with payload (at most 125 bytes) on the current
// connection, on the calling goroutine, or returns ErrNotConnected. The
// pong arrives at HandleFrame. To ping in order with other frames without
// waiting, Cast a PingFrame.
func (c *Client) Ping(payload []byte) error {
	cn := c.cur.Load()
	if cn == nil || c.State() != Connected {
		return ErrNotConnected
	}
	return cn.Ping(context.Background(), payload)
}

// Connect asks a disconnected client to connect now (after
// StartDisconnected or a Stay decision; it also cuts a reconnect delay
// short). It does nothing when connected or connecting.
func (c *Client) Connect() error { return c.mail.put(mail{kind: mailConnect}) }

// CloseConn asks the client to close the current connection with code and
// reason, once the frames queued before the request are written;
// OnDisconnect then decides what happens next, with a *LocalCloseError as
// the reason. It does nothing when not connected.
func (c *Client) CloseConn(code int, reason string) error {
	if !frame.ValidCloseCode(code) {
		return fmt.Errorf("%w %d", ErrInvalidCloseCode, code)
	}
	return c.mail.put(mail{kind: mailClose, code: code, reason: reason})
}

// Stop stops the client gracefully and waits until it has ended: values
// already posted are handled, frames already queued are written, the
// connection is closed with a close handshake (code 1000), frames left in
// the outbox are handed to OnUndelivered, and Terminate runs with a nil
// reason. The stop timeout (WithStopTimeout) bounds the writing and the
// handshake: when it has passed, the connection is dropped. If ctx ends
// first, the connection is dropped at once and ctx's error is returned
// without waiting further. Stop on a client that is not running returns
// nil. Do not call Stop from a callback (see Handler).
func (c *Client) Stop(ctx context.Context) error {
	c.mu.Lock()
	r, running := c.run, c.running
	c.mu.Unlock()
	if !running {
		return nil
	}
	_ = c.mail.put(mail{kind: mailStop})
	// The owner arms its own stop timer, but only once it takes the
	// request: this one does not depend on it.
	t := time.NewTimer(c.cfg.stopTimeout)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return nil
		case <-t.C:
			c.forceEnd(r)
		case <-ctx.Done():
			c.forceEnd(r)
			return ctx.Err()
		}
	}
}

// write writes f on cn and counts it.
func (c *Client) write(ctx context.Context, cn *Conn, f Frame) error {
	var err error
	switch f.Type {
	case TextMessage, BinaryMessage:
		err = cn.WriteMessage(ctx, f.Type, f.Data)
		if err == nil {
			c.msgsOut.Add(1)
			c.bytesOut.Add(uint64(len(f.Data)))
		}
	case PingMessage:
		err = cn.Ping(ctx, f.Data)
	case PongMessage:
		err = cn.Pong(ctx, f.Data)
	default:
		err = ErrBadFrameType
	}
	return err
}

// enqueue appends it to the outbox, counted against the bound if bounded,
// and wakes the writer.
func (c *Client) enqueue(it *outItem, bounded bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrTerminated
	}
	if bounded {
		if c.outCount >= c.cfg.outboxSize {
			return ErrOutboxFull
		}
		it.counted = true
		c.outCount++
	}
	c.outbox = append(c.outbox, it)
	c.wakeWriterLocked()
	return nil
}

// pushFrontLocked puts items at the head of the outbox, in order.
func (c *Client) pushFrontLocked(items []*outItem) {
	if len(items) == 0 {
		return
	}
	if c.outHead >= len(items) {
		c.outHead -= len(items)
		copy(c.outbox[c.outHead:], items)
		return
	}
	c.outbox = slices.Insert(c.outbox[c.outHead:], 0, items...)
	c.outHead = 0
}

// popLocked takes the next item from the outbox, or returns nil.
func (c *Client) popLocked() *outItem {
	for c.outHead < len(c.outbox) {
		it := c.outbox[c.outHead]
		c.outbox[c.outHead] = nil
		c.outHead++
		if it.counted {
			c.outCount--
		}
		if it.cancel {
			continue
		}
		it.taken = true
		return it
	}
	c.outbox = c.outbox[:0]
	c.outHead = 0
	return nil
}

// ---------------------------------------------------------------------------
// The mailbox: Post, Connect, CloseConn and Stop requests, in order, and
// frames the writer could not write.

type mailKind int

const (
	mailPost mailKind = iota
	mailConnect
	mailClose
	mailStop
	mailUndelivered
)

type mail struct {
	kind   mailKind
	msg    any
	code   int
	reason string
	f      Frame
	err    error
}

type mailbox struct {
	mu     sync.Mutex
	q      []mail
	closed bool
	signal chan struct{}
}

func (m *mailbox) put(x mail) error {
	m.mu.Lock()
	if m.closed && x.kind != mailUndelivered {
		m.mu.Unlock()
		return ErrTerminated
	}
	m.q = append(m.q, x)
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
	return nil
}

func (m *mailbox) take(spare []mail) []mail {
	m.mu.Lock()
	q := m.q
	m.q = spare[:0]
	m.mu.Unlock()
	return q
}

func (m *mailbox) open() {
	m.mu.Lock()
	m.closed = false
	m.mu.Unlock()
}

// close refuses new mail and returns what was left.
func (m *mailbox) close() []mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	q := m.q
	m.q = nil
	return q
}

// ---------------------------------------------------------------------------
// The inbox: what the reader goroutine hands to the owner, in order.

// inboxSize bounds the messages handed to the owner and not yet handled;
// the reader waits when it is reached.
const inboxSize = 8

type inMsg struct {
	typ  MessageType
	data []byte
	end  bool // the connection ended with err
	err  error
}

// inbox is a batch hand-off: the reader appends under the lock and wakes the
// owner only when the queue was empty; the owner takes the whole queue at
// once and gives the buffers back, most recent first, so that a reader that
// keeps up reuses one or two buffers.
type inbox struct {
	mu      sync.Mutex
	q       []inMsg
	free    [][]byte
	held    int  // messages handed over and not yet released
	waiting bool // the reader waits for room
	room    chan struct{}
	signal  chan struct{}
}

// getBuf returns a buffer to read into (nil when none is free).
func (in *inbox) getBuf() []byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	if n := len(in.free); n > 0 {
		b := in.free[n-1]
		in.free[n-1] = nil
		in.free = in.free[:n-1]
		return b
	}
	return nil
}

// push hands m to the owner, waiting while inboxSize messages are held
// (unless m ends the connection).
func (in *inbox) push(m inMsg) {
	in.mu.Lock()
	for !m.end && in.held >= inboxSize {
		in.waiting = true
		in.mu.Unlock()
		<-in.room
		in.mu.Lock()
	}
	in.held++
	in.q = append(in.q, m)
	wake := len(in.q) == 1
	in.mu.Unlock()
	if wake {
		select {
		case in.signal <- struct{}{}:
		default:
		}
	}
}

// take returns the waiting messages.
func (in *inbox) take(spare []inMsg) []inMsg {
	in.mu.Lock()
	q := in.q
	in.q = spare[:0]
	in.mu.Unlock()
	return q
}

// release gives back the messages of a handled batch and their buffers
// (those over retain bytes, when retain > 0, are dropped).
func (in *inbox) release(batch []inMsg, retain int) {
	in.mu.Lock()
	for i := range batch {
		if b := batch[i].data; b != nil && (retain <= 0 || cap(b) <= retain) {
			in.free = append(in.free, b[:0])
		}
		batch[i] = inMsg{}
	}
	in.held -= len(batch)
	if in.waiting {
		in.waiting = false
		in.room <- struct{}{}
	}
	in.mu.Unlock()
}

// ---------------------------------------------------------------------------
// The owner: one goroutine per run (the one running Serve) that runs every
// callback and makes every decision. Helpers work for it and never run a
// callback: a dial goroutine per attempt, and per connection a reader, which
// hands received frames over through the inbox (and waits only when the
// inbox is full), and a writer, which drains the outbox (and waits only for
// the network). The owner never waits for either, so no cycle of waits can
// form: a peer that stops reading blocks the writer alone, and the owner
// goes on handling frames, timers, mail and Stop, which can always drop the
// connection to free the writer.

type evKind int

const (
	evDialDone evKind = iota
	evWriterDone
)

type event struct {
	kind evKind
	err  error
	conn *Conn
}

// writer drains the outbox to one connection.
type writer struct {
	cn     *Conn
	wake   chan struct{} // capacity 1; a send follows each parked = true
	parked bool          // guarded by Client.mu
	ping   bool          // a keepalive ping is due; guarded by Client.mu
}

// wakeWriterLocked wakes the writer if it waits for work.
func (c *Client) wakeWriterLocked() {
	if w := c.w; w != nil && w.parked {
		w.parked = false
		w.wake <- struct{}{}
	}
}

// stopWriterLocked tells the writer to stop draining the outbox.
func (c *Client) stopWriterLocked() {
	if w := c.w; w != nil {
		c.w = nil
		if w.parked {
			w.parked = false
			w.wake <- struct{}{}
		}
	}
}

type owner struct {
	c      *Client
	r      *runResult
	ctx    context.Context
	dialer Dialer
	mode   InitMode
	events chan event
	wg     sync.WaitGroup

	in      inbox
	inSpare []inMsg
	mailBuf []mail

	// Touched by the owner goroutine only.
	st         State
	conn       *Conn
	pending    int // goroutines that will still report: dial, reader, writer
	dialing    bool
	dialCancel context.CancelFunc
	closing    bool
	localClose *LocalCloseError
	dropReason error
	attempt    int

	kaInterval    time.Duration
	kaTicker      *time.Ticker
	kaC           <-chan time.Time
	kaMissed      int
	kaOutstanding bool
	kaLast        uint64

	reconnTimer *time.Timer
	reconnC     <-chan time.Time

	stopping  bool
	crashed   bool
	reason    error
	stopTimer *time.Timer
	stopC     <-chan time.Time
}

func (c *Client) serve(ctx context.Context, r *runResult) error {
	o := &owner{c: c, r: r, ctx: ctx, events: make(chan event, 4)}
	o.in.room = make(chan struct{}, 1)
	o.in.signal = make(chan struct{}, 1)
	o.dialer = *c.cfg.dialer
	netDial := o.dialer.NetDialContext
	if netDial == nil {
		var nd net.Dialer
		netDial = nd.DialContext
	}
	o.dialer.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := netDial(ctx, network, addr)
		if err == nil {
			c.state.CompareAndSwap(int32(Connecting), int32(Handshaking))
		}
		return nc, err
	}

	mode, err := o.callInit()
	r.initErr = err
	close(r.initDone)
	if err != nil {
		o.reason = err
	} else {
		o.mode = mode
		if mode != StartDisconnected {
			o.dial()
		}
		o.loop()
	}
	return o.finish()
}

func (o *owner) setState(s State) {
	o.st = s
	o.c.state.Store(int32(s))
}

func (o *owner) log(level slog.Level, msg string, args ...any) {
	if l := o.c.cfg.logger; l != nil {
		l.Log(context.Background(), level, msg, append(args, "url", o.c.url)...)
	}
}

// loop waits for work and does it until the run may end.
func (o *owner) loop() {
	ctxDone := o.ctx.Done()
	force := (<-chan struct{})(o.r.force)
	for !o.stopping || o.pending > 0 || o.conn != nil {
		select {
		case <-o.in.signal:
			o.onInbox()
		case ev := <-o.events:
			o.onEvent(ev)
		case <-o.c.mail.signal:
			o.onMail()
		case <-o.kaC:
			o.onKeepalive()
		case <-o.reconnC:
			o.reconnTimer, o.reconnC = nil, nil
			o.dial()
		case <-ctxDone:
			ctxDone = nil
			o.stop(context.Cause(o.ctx), CloseNormalClosure, false)
		case <-o.stopC:
			o.stopC = nil
			o.force()
		case <-force:
			force = nil
			o.stop(nil, CloseNormalClosure, false)
			o.force()
		}
	}
}

func (o *owner) onEvent(ev event) {
	switch ev.kind {
	case evDialDone:
		o.pending--
		o.onDialed(ev.conn, ev.err)
	case evWriterDone:
		o.pending--
	}
}

// onInbox handles what the reader handed over: frames for HandleFrame, and
// the end of the connection.
func (o *owner) onInbox() {
	batch := o.in.take(o.inSpare)
	for i := range batch {
		m := &batch[i]
		if m.end {
			o.pending--
			o.onConnEnd(m.err)
			continue
		}
		if a, ok := o.callHandleFrame(Frame{Type: m.typ, Data: m.data}); ok {
			o.apply(a, false)
		}
	}
	o.in.release(batch, o.c.cfg.maxRetainBuf)
	o.inSpare = batch[:0]
}

func (o *owner) onMail() {
	batch := o.c.mail.take(o.mailBuf)
	for i := range batch {
		m := batch[i]
		batch[i] = mail{}
		switch m.kind {
		case mailPost:
			if a, ok := o.callHandleInfo(m.msg); ok {
				o.apply(a, false)
			}
		case mailConnect:
			o.dial()
		case mailClose:
			o.closeConn(m.code, m.reason, false)
		case mailStop:
			o.stop(nil, CloseNormalClosure, false)
		case mailUndelivered:
			o.undelivered(m.f, m.err)
		}
	}
	o.mailBuf = batch[:0]
}

// apply carries out a callback's Action. OnConnect's replies (front) go
// ahead of the frames waiting in the outbox.
func (o *owner) apply(a Action, front bool) {
	if a.nreply > 0 {
		if front {
			o.replyFront(a)
		} else {
			o.reply(a.first)
			for _, f := range a.more {
				o.reply(f)
			}
		}
	}
	if a.setKA {
		o.setKeepalive(a.ka)
	}
	if a.close {
		o.closeConn(a.code, a.reason, false)
	}
}

// reply queues a copy of f behind the frames waiting.
func (o *owner) reply(f Frame) {
	if err := f.check(); err != nil {
		f.Data = bytes.Clone(f.Data)
		o.undelivered(f, err)
		return
	}
	it := copyItem(f)
	if err := o.c.enqueue(it, true); err != nil {
		o.undelivered(it.f, err) // the copy is the handler's now
	}
}

// replyFront puts copies of a's replies at the head of the outbox, outside
// the bound.
func (o *owner) replyFront(a Action) {
	items := make([]*outItem, 0, a.nreply)
	for i := range a.nreply {
		f := a.first
		if i > 0 {
			f = a.more[i-1]
		}
		if err := f.check(); err != nil {
			f.Data = bytes.Clone(f.Data)
			o.undelivered(f, err)
			continue
		}
		items = append(items, copyItem(f))
	}
	c := o.c
	c.mu.Lock()
	c.pushFrontLocked(items)
	c.wakeWriterLocked()
	c.mu.Unlock()
}

func (o *owner) undelivered(f Frame, err error) {
	o.c.undelivered.Add(1)
	if o.c.uh == nil {
		o.log(slog.LevelWarn, "wsclient: frame undelivered", "type", f.Type, "len", len(f.Data), "err", err)
		return
	}
	o.callUndelivered(f, err)
}

// dial starts a connection attempt unless one is under way or connected.
func (o *owner) dial() {
	if o.stopping || o.conn != nil || o.dialing {
		return
	}
	if o.reconnTimer != nil {
		o.reconnTimer.Stop()
		o.reconnTimer, o.reconnC = nil, nil
	}
	o.dialing = true
	o.setState(Connecting)
	dctx, cancel := context.WithCancel(o.ctx)
	o.dialCancel = cancel
	o.pending++
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		cn, err := o.dialer.Dial(dctx, o.c.url)
		o.events <- event{kind: evDialDone, conn: cn, err: err}
	}()
}

func (o *owner) onDialed(cn *Conn, err error) {
	o.dialing = false
	o.dialCancel()
	o.dialCancel = nil
	if o.stopping {
		if cn != nil {
			cn.CloseNow()
		}
		o.setState(Disconnected)
		return
	}
	if err != nil {
		o.attempt++
		o.c.dialFails.Add(1)
		o.setState(Disconnected)
		o.log(slog.LevelDebug, "wsclient: connection attempt failed", "attempt", o.attempt, "err", err)
		o.disconnected(Disconnect{Reason: err, Attempt: o.attempt})
		return
	}
	c := o.c
	o.attempt = 0
	c.connects.Add(1)
	o.conn = cn
	c.cur.Store(cn)
	info := ConnInfo{
		URL:         c.url,
		Subprotocol: cn.Subprotocol(),
		Extensions:  cn.Extensions(),
		LocalAddr:   cn.LocalAddr(),
		RemoteAddr:  cn.RemoteAddr(),
	}
	if resp := cn.Response(); resp != nil {
		info.Header = resp.Header
	}
	c.info.Store(&info)
	o.setState(Connected)
	o.log(slog.LevelDebug, "wsclient: connected")
	o.pending++
	o.wg.Add(1)
	go o.read(cn)
	if c.cfg.keepalive > 0 {
		o.setKeepalive(c.cfg.keepalive)
	}
	if a, ok := o.callOnConnect(info); ok {
		o.apply(a, true)
	}
	// Now the writer drains the outbox: OnConnect's replies first, then
	// what waited, then a close if OnConnect (or a panic in it) asked.
	w := &writer{cn: cn, wake: make(chan struct{}, 1)}
	c.mu.Lock()
	c.w = w
	c.mu.Unlock()
	o.pending++
	o.wg.Add(1)
	go o.write(w)
}

// read is the connection's reader goroutine: it reads each message into a
// buffer from the inbox's free list and hands it to the owner, and hands
// over pings and pongs (copied) as the Conn sees them.
func (o *owner) read(cn *Conn) {
	defer o.wg.Done()
	c, in := o.c, &o.in
	cn.SetControlHandler(func(t MessageType, p []byte) {
		if t == PingMessage || t == PongMessage {
			in.push(inMsg{typ: t, data: append(in.getBuf()[:0], p...)})
		}
	})
	ctx := context.Background()
	for {
		typ, b, err := cn.AppendMessage(ctx, in.getBuf()[:0])
		if err != nil {
			in.push(inMsg{end: true, err: err, data: b[:0]})
			return
		}
		c.msgsIn.Add(1)
		c.bytesIn.Add(uint64(len(b)))
		in.push(inMsg{typ: typ, data: b})
	}
}

// write is the connection's writer goroutine: it writes the outbox's frames
// in order, and keepalive pings ahead of them, until the connection ends,
// a write fails, or it reaches a close marker for its connection, on which
// it performs the close handshake.
func (o *owner) write(w *writer) {
	defer func() {
		o.events <- event{kind: evWriterDone}
		o.wg.Done()
	}()
	c, cn := o.c, w.cn
	for {
		var it *outItem
		ping := false
		c.mu.Lock()
		for c.w == w {
			if w.ping {
				w.ping, ping = false, true
				break
			}
			if it = c.popLocked(); it != nil {
				break
			}
			w.parked = true
			c.mu.Unlock()
			<-w.wake
			c.mu.Lock()
		}
		c.mu.Unlock()
		switch {
		case ping:
			_ = cn.Ping(context.Background(), nil)
			continue
		case it == nil:
			return // no longer this connection's writer
		case it.closeOn != nil:
			if it.closeOn != cn {
				continue // left from an earlier connection
			}
			c.mu.Lock()
			if c.w == w {
				c.w = nil
			}
			c.mu.Unlock()
			_ = closeHandshake(cn, it.code, it.reason)
			return
		}
		ctx := context.Background()
		if it.done != nil {
			ctx = it.ctx
			if err := ctx.Err(); err != nil {
				it.done <- err
				continue
			}
		}
		err := c.write(ctx, cn, it.f)
		switch {
		case it.done != nil:
			it.done <- err
			if err != nil && ctx.Err() != nil {
				continue // Send's own context: a later write tells whether cn survived
			}
		case err == nil:
			freeItem(it)
		default:
			_ = c.mail.put(mail{kind: mailUndelivered, f: it.f, err: err})
		}
		if err != nil {
			c.mu.Lock()
			if c.w == w {
				c.w = nil
			}
			c.mu.Unlock()
			cn.CloseNow()
			return // the reader reports the connection's end
		}
	}
}

func (o *owner) onConnEnd(err error) {
	reason := err
	if o.dropReason != nil {
		reason = o.dropReason
	} else if lc := o.localClose; lc != nil {
		var ce *CloseError
		if !errors.As(err, &ce) {
			lc.Err = err
		}
		reason = lc
	}
	c := o.c
	c.mu.Lock()
	c.stopWriterLocked()
	c.mu.Unlock()
	if o.conn != nil {
		o.conn.CloseNow() // frees a writer still writing
	}
	o.conn = nil
	c.cur.Store(nil)
	o.closing, o.localClose, o.dropReason = false, nil, nil
	o.stopKeepalive()
	o.setState(Disconnected)
	o.log(slog.LevelDebug, "wsclient: disconnected", "reason", reason)
	if o.stopping {
		return
	}
	o.disconnected(Disconnect{Reason: reason, WasConnected: true})
}

func (o *owner) disconnected(d Disconnect) {
	da, ok := o.callOnDisconnect(d)
	if !ok {
		return
	}
	if da.kind == daDefault {
		switch o.mode {
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
	switch da.kind {
	case daStay:
	case daNow:
		o.dial()
	case daAfter:
		o.armReconnect(da.delay)
	case daBackoff:
		o.armReconnect(o.c.cfg.backoff.Next(d.Attempt))
	case daStop:
		o.stop(da.reason, CloseNormalClosure, false)
	}
}

func (o *owner) armReconnect(d time.Duration) {
	if d <= 0 {
		o.dial()
		return
	}
	if o.reconnTimer != nil {
		o.reconnTimer.Stop()
	}
	o.reconnTimer = time.NewTimer(d)
	o.reconnC = o.reconnTimer.C
}

// closeConn closes the current connection with a close handshake, after
// the frames queued before (urgent: at once, ahead of them).
func (o *owner) closeConn(code int, reason string, urgent bool) {
	if o.conn == nil || o.closing {
		return
	}
	if !frame.ValidCloseCode(code) {
		o.log(slog.LevelWarn, "wsclient: invalid close code replaced by 1000", "code", code)
		code = CloseNormalClosure
	}
	o.closing = true
	o.setState(Closing)
	o.localClose = &LocalCloseError{Code: code, Reason: reason}
	o.stopKeepalive()
	it := &outItem{closeOn: o.conn, code: code, reason: reason}
	c := o.c
	c.mu.Lock()
	if urgent {
		c.pushFrontLocked([]*outItem{it})
	} else {
		c.outbox = append(c.outbox, it)
	}
	c.wakeWriterLocked()
	c.mu.Unlock()
}

// closeHandshake sends a close frame on cn and waits, up to the close
// timeout, for the connection's reader goroutine to receive the server's
// close (delivering the messages that arrive before it); then it drops the
// connection.
func closeHandshake(cn *Conn, code int, reason string) error {
	if err := cn.SendClose(code, reason); err != nil {
		hardClose(cn)
		return err
	}
	t := time.NewTimer(cn.cfg.closeTimeout)
	defer t.Stop()
	select {
	case <-cn.closeRecv:
		cn.CloseNow()
		return nil
	case <-t.C:
		hardClose(cn)
		return ErrCloseTimeout
	}
}

// drop closes the current connection at once with reason.
func (o *owner) drop(reason error) {
	if o.conn == nil {
		return
	}
	o.dropReason = reason
	o.closing = true
	o.setState(Closing)
	o.stopKeepalive()
	c := o.c
	c.mu.Lock()
	c.stopWriterLocked()
	c.mu.Unlock()
	hardClose(o.conn)
}

// hardClose drops cn at once. CloseNow closes the socket before it takes
// the write lock, so a write blocked on a peer that does not read fails
// instead of holding it.
func hardClose(cn *Conn) {
	cn.CloseNow()
}

func (o *owner) setKeepalive(d time.Duration) {
	o.stopKeepalive()
	if d <= 0 || o.conn == nil || o.closing {
		return
	}
	o.kaInterval = d
	o.kaTicker = time.NewTicker(d)
	o.kaC = o.kaTicker.C
	o.kaMissed, o.kaOutstanding = 0, false
	o.kaLast = o.conn.bytesIn.Load()
}

func (o *owner) stopKeepalive() {
	if o.kaTicker != nil {
		o.kaTicker.Stop()
		o.kaTicker, o.kaC = nil, nil
	}
}

// onKeepalive runs every keepalive interval. Any byte read from the socket
// since the last tick counts as life; otherwise an outstanding ping counts
// as missed. The ping itself is written by the writer, ahead of the frames
// waiting.
func (o *owner) onKeepalive() {
	if o.conn == nil || o.closing {
		return
	}
	if in := o.conn.bytesIn.Load(); in != o.kaLast {
		o.kaLast, o.kaMissed, o.kaOutstanding = in, 0, false
	} else if o.kaOutstanding {
		o.kaMissed++
		if o.kaMissed >= o.c.cfg.keepMissed {
			o.log(slog.LevelDebug, "wsclient: keepalive timeout", "missed", o.kaMissed)
			o.drop(ErrKeepaliveTimeout)
			return
		}
	}
	c := o.c
	c.mu.Lock()
	if w := c.w; w != nil && w.cn == o.conn {
		w.ping = true
		if w.parked {
			w.parked = false
			w.wake <- struct{}{}
		}
	}
	c.mu.Unlock()
	o.kaOutstanding = true
}

// stop begins the end of the run: no more connection attempts, a close
// handshake on the current connection (after the frames queued, or at once
// if urgent), all bounded by the stop timeout.
func (o *owner) stop(reason error, code int, urgent bool) {
	if o.stopping {
		return
	}
	o.stopping = true
	o.reason = reason
	if o.reconnTimer != nil {
		o.reconnTimer.Stop()
		o.reconnTimer, o.reconnC = nil, nil
	}
	if o.dialCancel != nil {
		o.dialCancel()
	}
	if o.conn != nil {
		o.closeConn(code, "", urgent)
		o.stopTimer = time.NewTimer(o.c.cfg.stopTimeout)
		o.stopC = o.stopTimer.C
	}
}

// force drops the connection and cancels a dial.
func (o *owner) force() {
	if o.conn != nil {
		o.c.mu.Lock()
		o.c.stopWriterLocked()
		o.c.mu.Unlock()
		hardClose(o.conn)
	}
	if o.dialCancel != nil {
		o.dialCancel()
	}
}

// finish ends the run: leftovers are handed back, Terminate runs.
func (o *owner) finish() error {
	c := o.c
	if o.stopTimer != nil {
		o.stopTimer.Stop()
	}
	o.stopKeepalive()
	if o.reconnTimer != nil {
		o.reconnTimer.Stop()
	}
	o.wg.Wait()
	for _, m := range c.mail.close() {
		if m.kind == mailUndelivered {
			o.undelivered(m.f, m.err)
		}
	}
	c.mu.Lock()
	c.closed = true
	c.w = nil
	var left []*outItem
	for it := c.popLocked(); it != nil; it = c.popLocked() {
		left = append(left, it)
	}
	c.mu.Unlock()
	for _, it := range left {
		switch {
		case it.closeOn != nil:
		case it.done != nil:
			it.done <- ErrTerminated
		default:
			o.undelivered(it.f, ErrTerminated)
		}
	}
	c.state.Store(int32(Terminated))
	o.callTerminate(o.reason)
	r := o.r
	r.err = o.reason
	c.mu.Lock()
	c.running = false
	c.mu.Unlock()
	close(r.done)
	return r.err
}

// ---------------------------------------------------------------------------
// Callbacks, each guarded against panics.

func (o *owner) crash(cb string, v any) {
	pe := &PanicError{Callback: cb, Value: v, Stack: debug.Stack()}
	o.log(slog.LevelError, "wsclient: panic in callback", "callback", cb, "panic", v)
	o.crashed = true
	if !o.stopping {
		o.stop(pe, CloseInternalServerErr, true)
	} else if o.reason == nil {
		o.reason = pe
	}
}

func (o *owner) callInit() (mode InitMode, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Callback: "Init", Value: v, Stack: debug.Stack()}
			o.crashed = true
		}
	}()
	return o.c.h.Init(o.c)
}

func (o *owner) callOnConnect(info ConnInfo) (a Action, ok bool) {
	if o.crashed {
		return a, false
	}
	defer func() {
		if v := recover(); v != nil {
			ok = false
			o.crash("OnConnect", v)
		}
	}()
	return o.c.h.OnConnect(o.c, info), true
}

func (o *owner) callOnDisconnect(d Disconnect) (a DisconnectAction, ok bool) {
	if o.crashed {
		return a, false
	}
	defer func() {
		if v := recover(); v != nil {
			ok = false
			o.crash("OnDisconnect", v)
		}
	}()
	return o.c.h.OnDisconnect(o.c, d), true
}

func (o *owner) callHandleFrame(f Frame) (a Action, ok bool) {
	if o.crashed {
		return a, false
	}
	defer func() {
		if v := recover(); v != nil {
			ok = false
			o.crash("HandleFrame", v)
		}
	}()
	return o.c.h.HandleFrame(o.c, f), true
}

func (o *owner) callHandleInfo(msg any) (a Action, ok bool) {
	if o.crashed {
		return a, false
	}
	defer func() {
		if v := recover(); v != nil {
			ok = false
			o.crash("HandleInfo", v)
		}
	}()
	return o.c.h.HandleInfo(o.c, msg), true
}

func (o *owner) callUndelivered(f Frame, err error) {
	defer func() {
		if v := recover(); v != nil {
			o.crash("OnUndelivered", v)
		}
	}()
	o.c.uh.OnUndelivered(o.c, f, err)
}

func (o *owner) callTerminate(reason error) {
	defer func() {
		if v := recover(); v != nil {
			o.log(slog.LevelError, "wsclient: panic in Terminate", "panic", v)
			if o.reason == nil {
				o.reason = &PanicError{Callback: "Terminate", Value: v, Stack: debug.Stack()}
			}
		}
	}()
	o.c.h.Terminate(o.c, reason)
}
