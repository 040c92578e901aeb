package protocol

import (
	"errors"

	"github.com/wsclient/wsclient/internal/frame"
)

// CloseState is where the close handshake stands: what this side has
// received and what it has sent. The handshake is complete when both are
// true; the TCP connection may then be closed.
type CloseState struct {
	Received bool // the peer's close frame arrived
	RecvCode int  // its code (frame.CloseNoStatus when it carried none)
	Sent     bool // this side's close frame was sent, or no more frames may be sent
	SentCode int  // the code sent (0 when MarkClosed ended sending)
}

// Done reports whether the close handshake is complete.
func (s CloseState) Done() bool { return s.Received && s.Sent }

// State returns the close state. It reads both sides: call it only when
// neither is in use concurrently (or from the reader holding the writer's
// lock).
func (e *Engine) State() CloseState {
	return CloseState{Received: e.recvClose, RecvCode: int(e.recvCode), Sent: e.sentClose, SentCode: int(e.sentCode)}
}

// Control takes the payload (unmasked) of the control frame announced by
// the last Control event. For a close frame it validates the payload,
// records the close as received, and returns its code (frame.CloseNoStatus
// when empty) and reason; after it no frame may follow. A close payload of
// one byte, with a code that may not be sent, or with a reason that is not
// UTF-8 is a protocol error (1002).
func (e *Engine) Control(p []byte) (code int, reason string, err error) {
	if e.err != nil {
		return 0, "", e.err
	}
	if !e.ctlPending {
		return 0, "", errState
	}
	e.ctlPending = false
	if e.ctlOp != frame.OpClose {
		return 0, "", nil
	}
	code, reason, perr := frame.ParseClose(p)
	if perr != nil {
		return 0, "", e.fail(protoErr("bad close frame: %v", perr))
	}
	e.recvClose, e.recvCode = true, uint16(code)
	return code, reason, nil
}

// CloseReceived reports whether the peer's close frame has arrived.
func (e *Engine) CloseReceived() bool { return e.recvClose }

// CloseSent reports whether this side may send no more frames: its close
// frame went out (AppendClose) or sending was ended (MarkClosed).
func (e *Engine) CloseSent() bool { return e.sentClose }

// CloseReply returns the close code to answer the peer's close with, and
// whether to answer at all: only once a close was received and none was
// sent. The peer's code is echoed; an empty close is answered with 1000.
func (e *Engine) CloseReply() (code int, ok bool) {
	if !e.recvClose || e.sentClose {
		return 0, false
	}
	if e.recvCode == frame.CloseNoStatus {
		return frame.CloseNormal, true
	}
	return int(e.recvCode), true
}

// FailClose returns the close code to send after the receive side failed
// with err, and whether to send one (not when a close was sent already).
func (e *Engine) FailClose(err *Error) (code int, ok bool) {
	if e.sentClose {
		return 0, false
	}
	return err.Code, true
}

// ErrCloseSent is returned by AppendClose when a close frame was already
// sent: a connection sends one close frame and nothing after it.
var ErrCloseSent = errors.New("protocol: close frame already sent")

// ErrCloseCode is returned by AppendClose for a code that may not be sent.
var ErrCloseCode = errors.New("protocol: invalid close code")

// ClosePayload validates code and returns the close payload for code and
// reason appended to dst (the reason is cut to fit a control frame, on a
// rune boundary; frame.CloseNoStatus gives an empty payload), and records
// the close as sent. The caller must then send it as a close frame.
func (e *Engine) ClosePayload(dst []byte, code int, reason string) ([]byte, error) {
	if e.sentClose {
		return dst, ErrCloseSent
	}
	if code != frame.CloseNoStatus && !frame.ValidCloseCode(code) {
		return dst, ErrCloseCode
	}
	e.sentClose, e.sentCode = true, uint16(code)
	return frame.AppendClose(dst, code, reason), nil
}

// AppendClose is ClosePayload producing the whole close frame, masked with
// key, appended to dst: the bytes to send.
func (e *Engine) AppendClose(dst []byte, code int, reason string, key [4]byte) ([]byte, error) {
	var p [frame.MaxControlPayload]byte
	payload, err := e.ClosePayload(p[:0], code, reason)
	if err != nil {
		return dst, err
	}
	return AppendFrame(dst, true, 0, frame.OpClose, payload, key), nil
}

// AppendPong appends a pong frame answering a ping with payload, masked
// with key; nothing when a close was sent (no frame may follow it).
func (e *Engine) AppendPong(dst, payload []byte, key [4]byte) []byte {
	if e.sentClose {
		return dst
	}
	return AppendFrame(dst, true, 0, frame.OpPong, payload, key)
}

// MarkClosed records that this side will send no more frames (the
// connection is being dropped without a close frame of ours).
func (e *Engine) MarkClosed() { e.sentClose = true }

// AppendFrame appends a client frame (masked with key) with the given
// header bits and payload to dst.
func AppendFrame(dst []byte, fin bool, rsv byte, op frame.Opcode, payload []byte, key [4]byte) []byte {
	dst = frame.Append(dst, frame.Header{Fin: fin, RSV: rsv, Opcode: op, Masked: true, Mask: key, Length: int64(len(payload))})
	n := len(dst)
	dst = append(dst, payload...)
	frame.MaskCopy(dst[n:], dst[n:], key, 0)
	return dst
}
