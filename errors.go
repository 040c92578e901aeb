package wsclient

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/wsclient/wsclient/internal/frame"
)

// Close codes of RFC 6455 section 7.4.1.
const (
	CloseNormalClosure           = frame.CloseNormal
	CloseGoingAway               = frame.CloseGoingAway
	CloseProtocolError           = frame.CloseProtocolError
	CloseUnsupportedData         = frame.CloseUnsupported
	CloseNoStatusReceived        = frame.CloseNoStatus // reported, never sent
	CloseAbnormalClosure         = frame.CloseAbnormal // reported, never sent
	CloseInvalidFramePayloadData = frame.CloseInvalidPayload
	ClosePolicyViolation         = frame.ClosePolicyViolation
	CloseMessageTooBig           = frame.CloseTooBig
	CloseMandatoryExtension      = frame.CloseMandatoryExt
	CloseInternalServerErr       = frame.CloseInternalError
	CloseTLSHandshake            = frame.CloseTLSHandshake // reported, never sent
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
		return fmt.Sprintf("wsclient: closed by peer with code %d (%s)", e.Code, CloseCodeText(e.Code))
	}
	return fmt.Sprintf("wsclient: closed by peer with code %d (%s): %s", e.Code, CloseCodeText(e.Code), e.Reason)
}

// CloseCodeText returns a short name for a close code.
func CloseCodeText(code int) string {
	switch code {
	case 1000:
		return "normal closure"
	case 1001:
		return "going away"
	case 1002:
		return "protocol error"
	case 1003:
		return "unsupported data"
	case 1005:
		return "no status"
	case 1006:
		return "abnormal closure"
	case 1007:
		return "invalid payload data"
	case 1008:
		return "policy violation"
	case 1009:
		return "message too big"
	case 1010:
		return "mandatory extension"
	case 1011:
		return "internal error"
	case 1012:
		return "service restart"
	case 1013:
		return "try again later"
	case 1014:
		return "bad gateway"
	case 1015:
		return "TLS handshake failure"
	}
	switch {
	case code >= 3000 && code <= 3999:
		return "registered"
	case code >= 4000 && code <= 4999:
		return "private"
	}
	return "unknown"
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
	// ErrClosed is returned when the Conn is used after it was closed.
	ErrClosed = errors.New("wsclient: use of closed connection")
	// ErrKeepaliveTimeout reports a connection dropped because keepalive
	// pings went unanswered.
	ErrKeepaliveTimeout = errors.New("wsclient: keepalive timeout: pings unanswered")
)

func protoErr(code int, kind error, format string, a ...any) *ProtocolError {
	return &ProtocolError{Code: code, Msg: fmt.Sprintf(format, a...), kind: kind}
}

// HandshakeError is a failed opening handshake: the server refused the
// upgrade (StatusCode is not 101) or answered it wrongly (a bad
// Sec-WebSocket-Accept, an unoffered subprotocol or extension, ...).
// Header and a bounded prefix of Body are kept for diagnosis.
type HandshakeError struct {
	StatusCode int
	Status     string // status text, such as "400 Bad Request"
	Header     http.Header
	Body       []byte // at most MaxHandshakeErrorBody bytes of the body
	Reason     string // what was wrong, in words
	Err        error  // the underlying error, if any (such as a TLS alert while reading the response)
}

// Unwrap returns the underlying error, if any.
func (e *HandshakeError) Unwrap() error { return e.Err }

// MaxHandshakeErrorBody bounds the body kept in a HandshakeError.
const MaxHandshakeErrorBody = 4096

// Error describes the HandshakeError.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("wsclient: handshake failed: %s", e.Reason)
}

// lostErr wraps a read/write error as a connection lost without close.
func lostErr(err error) error {
	if err == nil {
		return ErrConnectionLost
	}
	return fmt.Errorf("%w: %w", ErrConnectionLost, err)
}
