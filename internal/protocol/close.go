package protocol

import (
	"github.com/wsclient/wsclient/internal/frame"
)

// CloseState is where the close handshake stands: what this side has
// received and what it has sent, and who started. The handshake is
// complete when both are true; the TCP connection may then be closed.
type CloseState struct {
	Received bool // the peer's close frame arrived
	RecvCode int  // its code (frame.CloseNoStatus when it carried none)
	Sent     bool // this side's close frame was sent, or no more frames may be sent
	SentCode int  // the code sent (0 when MarkClosed ended sending)
	Started  bool // this side started the handshake (StartedClose)
}

// Done reports whether the close handshake is complete.
func (s CloseState) Done() bool { return s.Received && s.Sent }

// State returns the close state. It reads both sides: call it only when
// neither is in use concurrently (or from the reader holding the writer's
// lock).
func (e *Engine) State() CloseState {
	return CloseState{Received: e.recvClose, RecvCode: int(e.recvCode), Sent: e.sentClose, SentCode: int(e.sentCode), Started: e.StartedClose()}
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

// CloseReceived reports whether the peer's close frame has arrived. It
// belongs to the receive side.
func (e *Engine) CloseReceived() bool { return e.recvClose }

// CloseSent reports whether this side may send no more frames: its close
// frame went out or sending was ended (MarkClosed). It belongs to the send
// side.
func (e *Engine) CloseSent() bool { return e.sentClose }

// CloseReply returns the close code to answer the peer's close with, and
// whether to answer at all: only once a close was received and none was
// sent. The peer's code is echoed; an empty close is answered with 1000.
// When it says to answer, the peer started the handshake (see
// StartedClose). It reads both sides: call it from the reader holding the
// send side's lock.
func (e *Engine) CloseReply() (code int, ok bool) {
	if !e.recvClose || e.sentClose {
		return 0, false
	}
	e.peerFirst = true
	if e.recvCode == frame.CloseNoStatus {
		return frame.CloseNormal, true
	}
	return int(e.recvCode), true
}

// StartedClose reports whether this side started the close handshake: its
// close frame was sent, and not as the answer CloseReply called for. It
// belongs to the send side.
func (e *Engine) StartedClose() bool { return e.sentClose && e.sentCode != 0 && !e.peerFirst }

// FailClose returns the close code to send after the receive side failed
// with a close code, and whether to send one (not when a close was sent
// already). It belongs to the send side.
func (e *Engine) FailClose(code int) (int, bool) {
	if e.sentClose {
		return 0, false
	}
	return code, true
}

// ClosePayload returns the close payload for code and reason appended to
// dst (the reason is cut to fit a control frame, on a rune boundary;
// frame.CloseNoStatus gives an empty payload), or ErrCloseCode for a code
// SendableCloseCode refuses. It records nothing: the close is sent when
// AppendFrame produces the close frame carrying it (for an answer, the
// code CloseReply gave).
func ClosePayload(dst []byte, code int, reason string) ([]byte, error) {
	if !SendableCloseCode(code) {
		return dst, ErrCloseCode
	}
	return frame.AppendClose(dst, code, reason), nil
}

// MarkClosed records that this side will send no more frames (the
// connection is being dropped without a close frame of ours). It belongs
// to the send side.
func (e *Engine) MarkClosed() { e.sentClose = true }
