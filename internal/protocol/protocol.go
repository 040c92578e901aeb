// Package protocol is the sans-I/O WebSocket protocol engine of a client
// connection (RFC 6455, with RFC 7692's RSV1 for compressed messages): the
// message and close-handshake state machine, with no sockets, buffers or
// locks. The caller feeds it the bytes it reads and gets events back (a data
// message begins, another fragment of it follows, a control frame arrived),
// tells it about the payload bytes it hands on, and asks it for the bytes to
// send. Every rule the peer can break is checked
// here and reported as an *Error carrying the close code to send.
//
// The engine does not copy payloads and does not allocate, except to build
// an *Error and a close reason. Conn in the root package does the I/O
// around it; the tests drive it byte by byte.
//
// Every byte the client sends comes out of the send side too (AppendFrame,
// or AppendHeader and Mask for a payload masked in pieces): data frames
// and their continuations, pings, pongs and close frames, masked with a key
// the caller passes (MaskKey makes one), after the send rules are checked
// (CheckFrame): nothing after our close frame, control payloads of at most
// 125 bytes, one rule for close codes (SendableCloseCode), messages not
// interleaved, RSV1 only on a compressed message's first frame. The close
// handshake's state (sent, received, who started, the code to echo) lives
// here and nowhere else.
//
// An Engine has two sides that may run concurrently, each guarded by its
// caller's lock (in the root package: the reader's readMu for the receive
// side, the write lock wmu for the send side). The receive side is
// Receive, Control, Payload, Inflated, Fail, Err, EndMessage,
// CloseReceived and the message accessors; the send side is CheckFrame,
// AppendFrame, AppendHeader, MarkClosed, CloseSent, SendInMessage,
// StartedClose and FailClose. CloseReply and
// State read both: call them from the reader while holding the send
// side's lock (or when neither side is in use).
package protocol

import (
	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/utf8v"
)

// Config is what the engine needs to know about a connection.
type Config struct {
	// MaxMessage bounds a message: the payload bytes of its frames and,
	// when it is compressed, its decompressed size. The frame headers of
	// a message are bounded too, by OverheadLimit(MaxMessage). Zero or
	// negative means no limit.
	MaxMessage int64
	// Deflate is set when permessage-deflate was negotiated: RSV1 on the
	// first frame of a message marks it compressed.
	Deflate bool
}

// OverheadLimit is the most frame-header bytes a message may carry when
// its payload is limited to maxMessage bytes: an eighth of the limit, and
// at least 1 KiB (-1, no limit, when maxMessage is not positive). It stops
// a peer from keeping a read busy forever with empty continuation frames
// while still letting a message at the limit arrive in fragments of 16
// bytes or more.
func OverheadLimit(maxMessage int64) int64 {
	if maxMessage <= 0 {
		return -1
	}
	return max(maxMessage/8, 1024)
}

// Kind is the kind of an Event.
type Kind uint8

// Event kinds.
const (
	// NeedMore: the bytes do not hold a whole frame header; Receive's n
	// says how many are needed from the same start.
	NeedMore Kind = iota
	// MessageStart: the first frame of a data message; its Length payload
	// bytes follow (see Payload).
	MessageStart
	// Fragment: a continuation frame of the current message; its Length
	// payload bytes follow.
	Fragment
	// Control: a ping, pong or close frame; its Length (≤ 125) payload
	// bytes follow and go to Control.
	Control
)

// Event is what Receive found at the start of the bytes. It is two words,
// cheap to return on the hot path.
type Event struct {
	Kind       Kind
	Opcode     frame.Opcode // MessageStart: OpText or OpBinary; Control: the control opcode
	Compressed bool         // MessageStart: RSV1 set, the message is compressed
	Fin        bool         // data frames: the last frame of the message
	Length     int64        // the frame's payload length
}

// Engine is the protocol state of one client connection. The zero value is
// not ready: use New or Reset.
type Engine struct {
	maxMessage  int64 // -1: none
	maxOverhead int64 // -1: none

	// Receive side.
	remain   int64  // payload bytes of the current data frame not yet accounted
	payload  int64  // payload bytes of the message's frames so far
	overhead int64  // header bytes of the message's frames so far
	out      int64  // decompressed bytes of a compressed message so far
	err      *Error // sticky receive failure
	utf8     utf8v.Validator
	recvCode uint16
	op       frame.Opcode
	ctlOp    frame.Opcode
	deflate  bool
	inMsg    bool // a data message is being received
	// compressed: the current message is; fin: its current data frame is
	// the last; ctlPending: a Control event's payload is awaited.
	compressed, fin, ctlPending bool
	recvClose                   bool

	// Send side.
	sentCode  uint16 // the code of our close frame (0: none, or MarkClosed)
	sentClose bool   // our close frame went out, or MarkClosed
	sendInMsg bool   // a fragmented message is being sent
	peerFirst bool   // CloseReply called for an answer: the peer started the close
}

// New returns an engine for a connection with cfg.
func New(cfg Config) *Engine {
	e := new(Engine)
	e.Reset(cfg)
	return e
}

// Reset makes e a fresh engine for a connection with cfg.
func (e *Engine) Reset(cfg Config) {
	*e = Engine{maxMessage: -1, maxOverhead: -1, deflate: cfg.Deflate}
	if cfg.MaxMessage > 0 {
		e.maxMessage = cfg.MaxMessage
		e.maxOverhead = OverheadLimit(cfg.MaxMessage)
	}
}

// errState reports a caller that broke the engine's calling order.
var errState = &Error{Code: frame.CloseInternalError, Kind: ErrProtocol, Msg: "engine used out of order"}

// Receive parses the frame header at the start of b and applies the
// protocol's rules to it. It is called when no payload is awaited: at a
// message boundary, or when the current data frame's payload has all been
// accounted (Remaining is 0) and it was not the last. It returns the event
// and the number of header bytes consumed, or for NeedMore the number of
// bytes the header needs. After an error the stream is dead: every later
// call returns the same error.
func (e *Engine) Receive(b []byte) (Event, int, error) {
	if e.err != nil {
		return Event{}, 0, e.err
	}
	if e.remain > 0 || e.ctlPending || (e.inMsg && e.fin) {
		return Event{}, 0, errState
	}
	h, n, err := frame.Parse(b)
	if err == frame.ErrShort {
		return Event{Kind: NeedMore}, n, nil
	}
	if e.recvClose {
		return Event{}, 0, e.fail(protoErr("frame after the close frame"))
	}
	if err != nil {
		return Event{}, 0, e.fail(protoErr("%v", err))
	}
	if h.Masked {
		return Event{}, 0, e.fail(protoErr("server sent a masked frame"))
	}
	if h.Opcode.IsControl() {
		if h.RSV != 0 {
			return Event{}, 0, e.fail(protoErr("reserved bits %#x set on a %s frame", h.RSV, h.Opcode))
		}
		e.ctlPending, e.ctlOp = true, h.Opcode
		return Event{Kind: Control, Opcode: h.Opcode, Fin: true, Length: h.Length}, n, nil
	}
	ev := Event{Kind: Fragment, Opcode: h.Opcode, Fin: h.Fin, Length: h.Length}
	if h.Opcode == frame.OpContinuation {
		if !e.inMsg {
			return Event{}, 0, e.fail(protoErr("continuation frame with no message to continue"))
		}
		if h.RSV != 0 {
			return Event{}, 0, e.fail(protoErr("reserved bits %#x set on a continuation frame", h.RSV))
		}
		ev.Opcode = e.op
	} else {
		if e.inMsg {
			return Event{}, 0, e.fail(protoErr("new %s message while a fragmented message is unfinished", h.Opcode))
		}
		allowed := byte(0)
		if e.deflate {
			allowed = frame.RSV1
		}
		if h.RSV&^allowed != 0 {
			return Event{}, 0, e.fail(protoErr("reserved bits %#x set without a negotiated extension", h.RSV))
		}
		e.inMsg, e.op, e.compressed = true, h.Opcode, h.RSV&frame.RSV1 != 0
		e.payload, e.overhead, e.out = 0, 0, 0
		e.utf8.Reset()
		ev.Kind, ev.Compressed = MessageStart, e.compressed
	}
	e.payload += h.Length
	e.overhead += int64(n)
	if e.maxMessage >= 0 {
		if e.payload > e.maxMessage {
			return Event{}, 0, e.fail(tooBig("message of at least %d bytes is over the %d-byte limit", e.payload, e.maxMessage))
		}
		if e.overhead > e.maxOverhead {
			return Event{}, 0, e.fail(tooBig("message with over %d bytes of frame headers (the limit for a %d-byte message size)", e.maxOverhead, e.maxMessage))
		}
	}
	e.fin, e.remain = h.Fin, h.Length
	return ev, n, nil
}

// fail makes err the sticky receive error.
func (e *Engine) fail(err *Error) *Error {
	if e.err == nil {
		e.err = err
	}
	return e.err
}

// Fail records an error found outside the engine (such as corrupt
// compressed data) as the sticky receive error, so that FailClose and
// later calls see it; it returns the error that is now sticky.
func (e *Engine) Fail(err *Error) *Error { return e.fail(err) }

// Err returns the sticky receive error, or nil.
func (e *Engine) Err() *Error { return e.err }

// Payload accounts for p, the next unmasked payload bytes of the current
// data frame (len(p) ≤ Remaining()), and validates the UTF-8 of an
// uncompressed text message as it goes, failing at the first byte that no
// continuation can make valid.
func (e *Engine) Payload(p []byte) error {
	if e.err != nil {
		return e.err
	}
	if int64(len(p)) > e.remain || e.ctlPending {
		return errState
	}
	e.remain -= int64(len(p))
	if e.op == frame.OpText && !e.compressed && !e.utf8.Write(p) {
		return e.fail(utf8Err("text message is not valid UTF-8"))
	}
	return nil
}

// Inflated accounts for p, the next decompressed bytes of a compressed
// message: it enforces the size limit on them and validates the UTF-8 of a
// text message.
func (e *Engine) Inflated(p []byte) error {
	if e.err != nil {
		return e.err
	}
	e.out += int64(len(p))
	if e.maxMessage >= 0 && e.out > e.maxMessage {
		return e.fail(tooBig("decompressed message over the %d-byte limit", e.maxMessage))
	}
	if e.op == frame.OpText && !e.utf8.Write(p) {
		return e.fail(utf8Err("text message is not valid UTF-8"))
	}
	return nil
}

// EndMessage ends the current message once its last frame's payload has
// been accounted (and, when compressed, decompressed): a text message must
// not end inside a UTF-8 sequence.
func (e *Engine) EndMessage() error {
	if e.err != nil {
		return e.err
	}
	if !e.inMsg || !e.fin || e.remain != 0 {
		return errState
	}
	e.inMsg = false
	if e.op == frame.OpText && !e.utf8.Done() {
		return e.fail(utf8Err("text message ends inside a UTF-8 sequence"))
	}
	return nil
}

// MessageSize returns the payload of the current (or last) message's frames
// so far, as on the wire, and its size: decompressed, when compressed.
func (e *Engine) MessageSize() (wire, size int64) {
	if e.compressed {
		return e.payload, e.out
	}
	return e.payload, e.payload
}

// InMessage reports whether a data message is being received.
func (e *Engine) InMessage() bool { return e.inMsg }

// Opcode returns the current (or last) message's opcode.
func (e *Engine) Opcode() frame.Opcode { return e.op }

// Compressed reports whether the current message is compressed.
func (e *Engine) Compressed() bool { return e.compressed }

// Fin reports whether the current data frame is the message's last.
func (e *Engine) Fin() bool { return e.fin }

// Remaining returns the payload bytes of the current data frame still to be
// accounted with Payload.
func (e *Engine) Remaining() int64 { return e.remain }

// FramesDone reports whether every frame of the current message has been
// received and its payload accounted: the raw message has ended.
func (e *Engine) FramesDone() bool { return e.inMsg && e.fin && e.remain == 0 }
