package protocol

import (
	"errors"
	"fmt"

	"github.com/wsclient/wsclient/internal/frame"
)

// Sentinels that classify an *Error (errors.Is).
var (
	// ErrProtocol: the peer broke a framing or close rule (close 1002).
	ErrProtocol = errors.New("protocol: protocol violation")
	// ErrInvalidUTF8: a text message is not valid UTF-8 (close 1007).
	ErrInvalidUTF8 = errors.New("protocol: invalid UTF-8")
	// ErrTooBig: a message is over the size limit (close 1009).
	ErrTooBig = errors.New("protocol: message too big")
)

// Error is a failure of the incoming stream: the connection must be closed
// with Code (see Engine.FailCode) and then dropped. Kind is one of the
// sentinels above.
type Error struct {
	Code int
	Kind error
	Msg  string
}

// Error describes the Error.
func (e *Error) Error() string { return "protocol: " + e.Msg }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

func protoErr(format string, a ...any) *Error {
	return &Error{Code: frame.CloseProtocolError, Kind: ErrProtocol, Msg: fmt.Sprintf(format, a...)}
}

func utf8Err(msg string) *Error {
	return &Error{Code: frame.CloseInvalidPayload, Kind: ErrInvalidUTF8, Msg: msg}
}

func tooBig(format string, a ...any) *Error {
	return &Error{Code: frame.CloseTooBig, Kind: ErrTooBig, Msg: fmt.Sprintf(format, a...)}
}
