//go:build !js

package wsclient

import (
	"fmt"

	"github.com/wsclient/wsclient/internal/protocol"
)

// The ErrBadFrame errors of the engine's refusals besides errControlTooLong
// (errors.go): only a bug can cause them.
var (
	errFragment = fmt.Errorf("%w: %w", ErrBadFrame, protocol.ErrFragment)
	errRSV      = fmt.Errorf("%w: %w", ErrBadFrame, protocol.ErrRSV)
	errOpcode   = fmt.Errorf("%w: %w", ErrBadFrame, protocol.ErrOpcode)
	errCloseBad = fmt.Errorf("%w: %w", ErrBadFrame, protocol.ErrCloseCode)
)

// sendError maps a refusal of the engine's send side to what the Conn
// reports: ErrClosed once our close frame went out, an ErrBadFrame error
// for a frame that may not be sent.
func sendError(err error) error {
	switch err {
	case protocol.ErrCloseSent:
		return ErrClosed
	case protocol.ErrControlTooLong:
		return errControlTooLong
	case protocol.ErrFragment:
		return errFragment
	case protocol.ErrRSV:
		return errRSV
	case protocol.ErrCloseCode:
		return errCloseBad
	case protocol.ErrOpcode:
		return errOpcode
	}
	return err
}

// sendableCloseCode reports whether code may be given to a close: the
// engine's one rule (protocol.SendableCloseCode), a code an endpoint may
// send (RFC 6455 section 7.4) or CloseNoStatusReceived for a close frame
// without a code.
func sendableCloseCode(code int) bool { return protocol.SendableCloseCode(code) }
