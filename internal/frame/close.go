package frame

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// Close codes of RFC 6455 section 7.4.1 used by the codec.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupported     = 1003
	CloseNoStatus        = 1005 // never sent on the wire
	CloseAbnormal        = 1006 // never sent on the wire
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseTooBig          = 1009
	CloseMandatoryExt    = 1010
	CloseInternalError   = 1011
	CloseTLSHandshake    = 1015 // never sent on the wire
)

// Errors returned by ParseClose. Each is a protocol error (close 1002).
var (
	ErrCloseShort      = errors.New("frame: close payload of 1 byte")
	ErrCloseCode       = errors.New("frame: invalid close code")
	ErrCloseReasonUTF8 = errors.New("frame: close reason is not valid UTF-8")
)

// ValidCloseCode reports whether code may appear in a close frame on the
// wire: 1000-1003, 1007-1011 (and the registered 1012-1014), or 3000-4999.
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClose decodes and validates a close frame payload. An empty payload
// yields code CloseNoStatus and an empty reason.
func ParseClose(p []byte) (code int, reason string, err error) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, "", nil
	case len(p) == 1:
		return 0, "", ErrCloseShort
	}
	code = int(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return code, "", ErrCloseCode
	}
	if !utf8.Valid(p[2:]) {
		return code, "", ErrCloseReasonUTF8
	}
	return code, string(p[2:]), nil
}

// AppendClose appends a close payload with code and reason to dst. A code of
// CloseNoStatus yields an empty payload. The reason is truncated (on a rune
// boundary) so that the payload fits in a control frame.
func AppendClose(dst []byte, code int, reason string) []byte {
	if code == CloseNoStatus {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	if len(reason) > MaxControlPayload-2 {
		reason = reason[:MaxControlPayload-2]
		for len(reason) > 0 && !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	return append(dst, reason...)
}

// CodeText returns a short name for a close code.
func CodeText(code int) string {
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
