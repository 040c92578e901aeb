package wsclient

// The handler's vocabulary: the callbacks a Client drives and the values
// they return.
import (
	"errors"
	"fmt"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

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

// Handler is the behaviour a Client drives: the Go form of the Erlang
// websocket_client callback module. Embed BaseHandler to implement only the
// methods you need.
//
// The guarantee: the callbacks of one client never overlap, and each one
// happens-before the next (everything a callback wrote is visible to the
// next callback, whichever goroutine runs it), so the handler's state needs
// no locks. Callbacks do not run on one fixed goroutine: Init runs on the
// goroutine that calls Start or Serve, HandleFrame on the goroutine reading
// the connection (no hand-off per message), HandleInfo and the reactions to
// Connect, CloseConn and Stop on a short-lived goroutine that exists only
// while such requests wait, timers (keepalive, reconnect delay, stop
// timeout) on the timer's goroutine. A slow callback delays the other
// callbacks and the reading of the connection, never the writing: frames
// are written by whoever finds the socket free, or by a writer goroutine
// that exists only while frames wait.
//
// A panic in any method is recovered: the connection is closed (code 1011),
// Terminate runs, and the client ends with a *PanicError carrying the value
// and stack. After a panic no callback other than OnUndelivered and
// Terminate is called.
//
// Callbacks may call every method of the Client except Wait (which waits
// for the callbacks to end). The client knows whether a callback runs, not
// which goroutine calls it (Go has no goroutine identity), so Stop and
// Send follow rules about the time of the call, which hold alike for the
// callback and for other goroutines calling meanwhile. Stop made while a
// callback runs requests the stop and returns nil at once, without
// waiting (the client ends once the callback has returned); a CloseAndStop
// action does the same with a close code and a reason. Send from a
// callback of a connected client waits for its frame to be written, which
// holds up the other callbacks until then. Made while a callback runs,
// with a context that can never end, Send fails with ErrSendInCallback
// when its frame cannot be written before the callback returns (in
// OnConnect, when the client is not connected or is closing, or once the
// connection is lost); with a context that can end it waits, bounded by
// the context. See Client.Stop and Client.Send for the exact rules. Cast
// or a Reply action never wait.
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
// is then ErrClosed), or, for a reply, the outbox was full
// (ErrOutboxFull). With Options.Confirm it also receives, in order, the
// frames written but not confirmed by a pong: err matches ErrUnconfirmed
// (the frame may or may not have arrived), and also errPongMismatch when
// the server answers pings without echoing their payload, so that
// confirmation was given up on the connection (see Options.Confirm). It
// runs on the client's goroutine like the
// other callbacks; f.Data is the client's own copy and may be kept. Without
// it such frames are counted in Stats.Undelivered and logged (Options.Logger).
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

// errFrameType is the ErrBadFrame error of a Frame of another type.
var errFrameType = fmt.Errorf("%w: a Client Frame is text, binary, ping or pong", ErrBadFrame)

// TextFrame returns a text frame holding s.
func TextFrame(s string) Frame { return Frame{Type: TextMessage, Data: []byte(s)} }

func (f Frame) check() error {
	switch f.Type {
	case TextMessage, BinaryMessage:
		return nil
	case PingMessage, PongMessage:
		if len(f.Data) > frame.MaxControlPayload {
			return errControlTooLong
		}
		return nil
	}
	return errFrameType
}

// Action is a callback's result: the zero value does nothing (Erlang ok).
// Reply, Keepalive and CloseAndStop make the others, one each, as the
// Erlang callbacks return one of ok, reply, keepalive (from onconnect) and
// close. To send frames and then close the connection, Cast them and call
// Client.CloseConn from the callback: the close is queued behind them.
type Action struct {
	first  Frame
	nreply int
	more   []Frame
	setKA  bool
	ka     time.Duration
	close  bool
	code   int
	reason string
	stop   bool
	err    error
}

// Reply returns an Action that sends frames, in order (Erlang {reply,
// Frame}). They are copied and join the outbox like Cast, behind the frames
// already waiting, and are written by the client's writer (replies from
// OnConnect go ahead of everything waiting, and are accepted even when the
// outbox is full). Frames that cannot be written, or find the outbox full,
// go to OnUndelivered.
func Reply(frames ...Frame) Action {
	var a Action
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

// CloseAndStop returns an Action that ends the client, the Go form of the
// Erlang {close, Payload} result of websocket_handle and websocket_info:
// the frames queued before it are written, the connection is closed with
// code and reason (a close handshake, bounded by the stop timeout), frames
// left in the outbox go to OnUndelivered, OnDisconnect is not called, and
// Terminate runs with err, which Wait returns (nil for a normal end). It
// works from every callback; while not connected it just stops. An invalid
// code is replaced by 1000. To close the connection and let the client
// live on (OnDisconnect then decides), call Client.CloseConn instead.
func CloseAndStop(code int, reason string, err error) Action {
	return Action{close: true, code: code, reason: reason, stop: true, err: err}
}

// Keepalive returns an Action that pings every interval on the current
// connection (Erlang {ok, State, KeepaliveMs} from onconnect); 0 turns
// keepalive off. The number of unanswered pings tolerated comes from
// Options.KeepaliveMissed (default 3).
func Keepalive(interval time.Duration) Action {
	return Action{setKA: true, ka: max(interval, 0)}
}

type daKind int

const (
	daDefault daKind = iota
	daStay
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

// ReconnectAfter reconnects after d (Erlang {reconnect, Ms}); 0
// reconnects at once (Erlang reconnect). ReconnectAfter(d.Backoff), with
// the Disconnect OnDisconnect got, waits the client's backoff delay (see
// Options.Backoff).
func ReconnectAfter(d time.Duration) DisconnectAction {
	return DisconnectAction{kind: daAfter, delay: d}
}

// StopWith ends the client with reason (nil for a normal end): Terminate
// runs with it and Wait returns it (Erlang {close, Reason}). Not to be
// confused with Client.Stop.
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
	// Backoff is the delay to wait before the next attempt, drawn from
	// Options.Backoff for Attempt: return ReconnectAfter(d.Backoff) to
	// wait it (the KeepReconnecting default does).
	Backoff time.Duration
}

// LocalCloseError is the disconnect reason when the client closed the
// connection itself (Client.CloseConn) with Code and
// Reason. Err is nil when the close handshake completed, else what went
// wrong (timeout, connection lost).
type LocalCloseError struct {
	Code   int
	Reason string
	Err    error
}

// Error describes the LocalCloseError.
func (e *LocalCloseError) Error() string {
	s := fmt.Sprintf("wsclient: closed by the client with code %d (%s)", e.Code, frame.CodeText(e.Code))
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
	// ErrOutboxFull: the outbox holds as many frames as Options.OutboxSize
	// allows; the frame was not taken.
	ErrOutboxFull = errors.New("wsclient: outbox full")
	// ErrRunning: Serve was called while the client is already running.
	ErrRunning = errors.New("wsclient: client already running")
	// ErrSendInCallback: Send was called, with a context that can never
	// end, while a callback ran, and its frame could not be written before
	// that callback returned (in OnConnect, while not connected or
	// closing, or after the connection was lost); the frame was not sent.
	// The client cannot tell the callback's own Send from another
	// goroutine's made meanwhile (see Client.Send). Use Cast, a Reply
	// action, or a context that can end.
	ErrSendInCallback = errors.New("wsclient: Send made while a callback runs cannot complete before the callback returns; use Cast, a Reply action or a context that can end")
	// ErrNilHandler: New or Start was given a nil Handler.
	ErrNilHandler = errors.New("wsclient: nil Handler")
)
