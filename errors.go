package wsclient

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"

	"github.com/wsclient/wsclient/internal/frame"
)

// Close codes of RFC 6455 section 7.4.1 that a client sends or a server
// reports. (1006 and 1015 are never on the wire: a connection lost without
// a close frame is ErrConnectionLost; 1010 is the client's answer to an
// extension the server refused, which the handshake reports instead.)
const (
	CloseNormalClosure           = frame.CloseNormal
	CloseGoingAway               = frame.CloseGoingAway
	CloseProtocolError           = frame.CloseProtocolError
	CloseUnsupportedData         = frame.CloseUnsupported
	CloseNoStatusReceived        = frame.CloseNoStatus // reported, never sent
	CloseInvalidFramePayloadData = frame.CloseInvalidPayload
	ClosePolicyViolation         = frame.ClosePolicyViolation
	CloseMessageTooBig           = frame.CloseTooBig
	CloseInternalServerErr       = frame.CloseInternalError
)

// CloseError is the peer's close frame: the connection was closed by the
// server with Code and Reason (Code is CloseNoStatusReceived when the close
// frame carried no code). Reading from a Conn returns it once the close
// handshake has completed.
type CloseError struct {
	Code   int
	Reason string
}

// Error describes the CloseError.
func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("wsclient: closed by peer with code %d (%s)", e.Code, frame.CodeText(e.Code))
	}
	return fmt.Sprintf("wsclient: closed by peer with code %d (%s): %s", e.Code, frame.CodeText(e.Code), e.Reason)
}

// ProtocolError reports that the peer broke the protocol (or a limit) and
// that this side closed the connection with Code: 1002 for a protocol
// violation, 1007 for invalid UTF-8, 1009 for a message over the size limit.
// Unwrap yields one of the sentinel errors (ErrMessageTooBig, ErrInvalidUTF8,
// ErrProtocol) so that errors.Is can classify it.
type ProtocolError struct {
	Code int
	Msg  string
	kind error
}

// Error describes the ProtocolError.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("wsclient: %s (closed with %d)", e.Msg, e.Code)
}

// Unwrap returns the sentinel that classifies the error.
func (e *ProtocolError) Unwrap() error { return e.kind }

// Sentinel errors. Compare with errors.Is.
var (
	// ErrProtocol matches every ProtocolError with code 1002.
	ErrProtocol = errors.New("wsclient: protocol violation")
	// ErrInvalidUTF8 matches a ProtocolError for a text message that is
	// not valid UTF-8 (close code 1007). (A close reason that is not UTF-8
	// is an ErrProtocol, 1002.)
	ErrInvalidUTF8 = errors.New("wsclient: invalid UTF-8")
	// ErrMessageTooBig matches a ProtocolError for a message over
	// MaxMessageSize (close code 1009).
	ErrMessageTooBig = errors.New("wsclient: message too big")
	// ErrConnectionLost reports a connection that ended without a close
	// frame (the Erlang library's {remote, closed}). The underlying network
	// error, if any, is wrapped with it.
	ErrConnectionLost = errors.New("wsclient: connection lost without a close frame")
	// ErrUnconfirmed is handed back (OnUndelivered, Send) with a
	// frame that was written to the socket but not confirmed by a pong
	// before its connection ended: it may or may not have reached the
	// server. A frame never written gets another error. See Options.Confirm.
	ErrUnconfirmed = errors.New("wsclient: frame written but not confirmed: it may or may not have arrived")
	// ErrClosed is returned when a Conn is used after it was closed, and
	// by a Client that has ended (Cast, Send, Post after the end; frames
	// it could not send before the end, handed to OnUndelivered).
	ErrClosed = errors.New("wsclient: use of closed connection or ended client")
	// ErrKeepaliveTimeout reports a connection dropped because keepalive
	// pings went unanswered.
	ErrKeepaliveTimeout = errors.New("wsclient: keepalive timeout: pings unanswered")
	// ErrCloseTimeout reports a close handshake the server did not finish
	// within the close timeout (Dialer.CloseTimeout): it never answered the
	// client's close frame. The connection has been dropped.
	ErrCloseTimeout = errors.New("wsclient: close handshake timed out: the server never answered the close frame")
	// ErrBadFrame is returned, wrapped with what is wrong, for a frame
	// that may not be sent: a message type Conn cannot write (it writes
	// TextMessage and BinaryMessage; Ping and Close have their methods) or
	// a Client Frame that is not text, binary, ping or pong; a ping or pong
	// payload over 125 bytes; a close code that may not be sent (RFC 6455
	// section 7.4: 1000-1003, 1007-1014 and 3000-4999 may, and 1005 stands
	// for a close frame without a code).
	ErrBadFrame = errors.New("wsclient: frame may not be sent")
	// ErrTooManyRedirects is wrapped by the *HandshakeError of the last
	// redirect when Dialer.FollowRedirects gave up after MaxRedirects.
	ErrTooManyRedirects = errors.New("wsclient: too many redirects")
	// ErrInsecureRedirect is wrapped by the *HandshakeError of a redirect
	// from wss:// to ws://, which is never followed.
	ErrInsecureRedirect = errors.New("wsclient: refusing to follow a redirect from wss:// to ws://")
)

func protoErr(code int, kind error, format string, a ...any) *ProtocolError {
	return &ProtocolError{Code: code, Msg: fmt.Sprintf(format, a...), kind: kind}
}

// HandshakeError is a failed opening handshake: the server refused the
// upgrade (StatusCode is not 101) or answered it wrongly (a bad
// Sec-WebSocket-Accept, an unoffered subprotocol or extension, ...).
// Header and a bounded prefix of Body are kept for diagnosis.
//
// A redirect (301, 302, 303, 307, 308) that was not followed, or could not
// be, has its target in Location. When Dialer.FollowRedirects was on, Err
// says why it was not followed: it matches ErrTooManyRedirects or
// ErrInsecureRedirect, is the error of Dialer.OnRedirect, or reports a
// Location that cannot be parsed or is not a ws://, wss://, http:// or
// https:// URL.
type HandshakeError struct {
	StatusCode int
	Status     string // status text, such as "400 Bad Request"
	Header     http.Header
	Body       []byte // at most maxHandshakeErrorBody bytes of the body
	Reason     string // what was wrong, in words
	Location   string // a redirect's target, resolved against the request URL ("" if none)
	Err        error  // the underlying error, if any (such as a TLS alert while reading the response)
}

// Unwrap returns the underlying error, if any.
func (e *HandshakeError) Unwrap() error { return e.Err }

// maxHandshakeErrorBody bounds the body kept in a HandshakeError.
const maxHandshakeErrorBody = 4096

// Error describes the HandshakeError.
func (e *HandshakeError) Error() string {
	s := "wsclient: handshake failed: " + e.Reason
	if e.Location != "" {
		s += " (redirect to " + e.Location + ")"
	}
	if e.Location != "" && e.Err != nil {
		// Why the redirect was not followed.
		s += ": " + strings.TrimPrefix(e.Err.Error(), "wsclient: ")
	}
	return s
}

// lostErr wraps a read/write error as a connection lost without close.
func lostErr(err error) error {
	if err == nil {
		return ErrConnectionLost
	}
	return &lostError{err}
}

// lostError is ErrConnectionLost with its cause. Its message is built only
// when asked for: a connection closed with CloseNow ends its reader with
// one, and formatting a *net.OpError costs some twenty allocations.
type lostError struct{ err error }

func (e *lostError) Error() string { return ErrConnectionLost.Error() + ": " + e.err.Error() }

// Unwrap returns ErrConnectionLost and the cause, as fmt.Errorf's %w: %w.
func (e *lostError) Unwrap() []error { return []error{ErrConnectionLost, e.err} }

// errControlTooLong is the ErrBadFrame of a control frame over 125 bytes
// (the engine's refusal, and the early checks of Ping and a Client's Frame).
var errControlTooLong = fmt.Errorf("%w: control frame payload over 125 bytes", ErrBadFrame)

// closeCodeError reports a close code that may not be sent.
func closeCodeError(code int) error {
	return fmt.Errorf("%w: close code %d may not be sent", ErrBadFrame, code)
}

// peerReset reports whether err is a write the peer refused by resetting
// the connection (or closing it: a broken pipe). The socket then stays open
// for the reader (a Client's always reads; a Conn's may be about to): what
// the peer sent before (its close frame, saying why) is still to be read,
// and the reader closes the socket once it reaches the reset. When nobody
// reads, the failed write's caller closes it (writeFailure).
func peerReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
