package protocol

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"unicode/utf8"

	"github.com/wsclient/wsclient/internal/frame"
)

// The send side's refusals: a frame the engine will not produce. Each is a
// bug of the caller's or a use after the close, never the peer's doing; the
// caller maps them to its own errors.
var (
	// ErrCloseSent: a close frame was sent (or sending was ended with
	// MarkClosed); a connection sends nothing after it.
	ErrCloseSent = errors.New("protocol: close frame already sent")
	// ErrCloseCode: a close code that may not be sent, or a close payload
	// that is not one.
	ErrCloseCode = errors.New("protocol: invalid close code")
	// ErrControlTooLong: a control frame's payload over 125 bytes.
	ErrControlTooLong = errors.New("protocol: control frame payload over 125 bytes")
	// ErrFragment: a continuation frame with no message to continue, a
	// new message while a fragmented one is unfinished, or a control
	// frame without FIN.
	ErrFragment = errors.New("protocol: frame breaks the fragmentation of messages")
	// ErrRSV: reserved bits on a frame that may not carry them (only RSV1,
	// only on a data message's first frame, only with permessage-deflate).
	ErrRSV = errors.New("protocol: reserved bits not allowed on this frame")
	// ErrOpcode: a reserved opcode, or a close frame given to AppendHeader.
	ErrOpcode = errors.New("protocol: opcode may not be sent")
)

// CheckFrame applies the send rules to a frame with these header bits and
// a payload of n bytes, without recording it: nothing after our close
// frame; a control frame whole (FIN) and at most 125 bytes; messages not
// interleaved (a continuation only inside a fragmented message, a text or
// binary frame only outside one); RSV1 only on a data message's first
// frame and only when permessage-deflate was negotiated. It is what
// AppendFrame checks first, for a caller that wants to refuse a frame
// before it commits to writing it.
func (e *Engine) CheckFrame(fin bool, rsv byte, op frame.Opcode, n int64) error {
	if e.sentClose {
		return ErrCloseSent
	}
	switch op {
	case frame.OpText, frame.OpBinary:
		if e.sendInMsg {
			return ErrFragment
		}
		if rsv != 0 && (rsv != frame.RSV1 || !e.deflate) {
			return ErrRSV
		}
	case frame.OpContinuation:
		if !e.sendInMsg {
			return ErrFragment
		}
		if rsv != 0 {
			return ErrRSV
		}
	case frame.OpPing, frame.OpPong, frame.OpClose:
		if n > frame.MaxControlPayload {
			return ErrControlTooLong
		}
		if !fin {
			return ErrFragment
		}
		if rsv != 0 {
			return ErrRSV
		}
	default:
		return ErrOpcode
	}
	return nil
}

// AppendFrame checks a frame against the send rules (CheckFrame; for a
// close frame also its payload: empty, or a code an endpoint may send and
// a UTF-8 reason), records it (a close frame ends sending), and appends
// the frame to dst: its header and its payload masked with key. dst is
// grown only when its capacity is short. On an error dst is returned as
// it was and nothing is recorded.
func (e *Engine) AppendFrame(dst []byte, fin bool, rsv byte, op frame.Opcode, payload []byte, key [4]byte) ([]byte, error) {
	if err := e.CheckFrame(fin, rsv, op, int64(len(payload))); err != nil {
		return dst, err
	}
	if op == frame.OpClose {
		code, ok := closePayloadCode(payload)
		if !ok {
			return dst, ErrCloseCode
		}
		e.sentClose, e.sentCode = true, uint16(code)
	}
	e.record(fin, op)
	dst = appendHeader(dst, fin, rsv, op, int64(len(payload)), key)
	n := len(dst)
	dst = slices.Grow(dst, len(payload))[:n+len(payload)]
	frame.MaskCopy(dst[n:], payload, key, 0)
	return dst, nil
}

// AppendHeader is AppendFrame for a payload the caller masks itself, in
// pieces, with Mask (a frame too large to copy whole): it checks and
// records a frame of length payload bytes and appends its header. Close
// frames go through AppendFrame (ErrOpcode here).
func (e *Engine) AppendHeader(dst []byte, fin bool, rsv byte, op frame.Opcode, length int64, key [4]byte) ([]byte, error) {
	if op == frame.OpClose {
		return dst, ErrOpcode
	}
	if err := e.CheckFrame(fin, rsv, op, length); err != nil {
		return dst, err
	}
	e.record(fin, op)
	return appendHeader(dst, fin, rsv, op, length, key), nil
}

// record notes a data frame's place in its message.
func (e *Engine) record(fin bool, op frame.Opcode) {
	if !op.IsControl() {
		e.sendInMsg = !fin
	}
}

// SendInMessage reports whether a fragmented message is being sent: its
// first frame went out, its last has not.
func (e *Engine) SendInMessage() bool { return e.sendInMsg }

func appendHeader(dst []byte, fin bool, rsv byte, op frame.Opcode, length int64, key [4]byte) []byte {
	return frame.Append(dst, frame.Header{Fin: fin, RSV: rsv, Opcode: op, Masked: true, Mask: key, Length: length})
}

// Mask writes src masked with key to dst (at least len(src) long; it may
// be src), starting at key offset pos: the payload bytes already masked,
// of a frame whose header AppendHeader appended. It returns the offset
// for the next piece.
func Mask(dst, src []byte, key [4]byte, pos int) int {
	return frame.MaskCopy(dst, src, key, pos)
}

// MaskKey returns a fresh, unpredictable masking key (RFC 6455 section
// 5.3). The top-level functions of math/rand/v2 draw from the runtime's
// per-thread ChaCha8 generator, seeded from the operating system's CSPRNG:
// a cryptographically secure stream with no lock, no pool and no memory per
// connection, at a few nanoseconds a key. The engine takes its keys as
// arguments, so that tests can fix them.
func MaskKey() [4]byte {
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], rand.Uint32())
	return k
}

// SendableCloseCode is the one rule for the code of a close this side
// starts or answers with: a code an endpoint may send (RFC 6455 section
// 7.4), or frame.CloseNoStatus for a close frame without a code.
func SendableCloseCode(code int) bool {
	return code == frame.CloseNoStatus || frame.ValidCloseCode(code)
}

// closePayloadCode checks a close payload this side is about to send and
// returns its code (frame.CloseNoStatus when empty).
func closePayloadCode(p []byte) (int, bool) {
	if len(p) == 0 {
		return frame.CloseNoStatus, true
	}
	if len(p) == 1 {
		return 0, false
	}
	code := int(binary.BigEndian.Uint16(p))
	return code, frame.ValidCloseCode(code) && utf8.Valid(p[2:])
}
