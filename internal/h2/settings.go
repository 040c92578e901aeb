package h2

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/net/http2"
)

// firstSettings decodes the first HTTP/2 frame a server sends, fed the
// bytes as they are read. RFC 9113 section 3.4 requires that frame to be a
// SETTINGS frame: it is where the server advertises
// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 section 3), which decides
// between HTTP/2 and HTTP/1.1, and its stream limit. A server that answers
// with anything else (an HTTP/1.1 response, a huge length) is told apart
// without reading further.
type firstSettings struct {
	buf      []byte // every byte fed so far (the first frame rewritten)
	complete bool   // the first frame was decoded (or found not to be SETTINGS)
	valid    bool   // it was a well-formed SETTINGS frame

	enableConnect bool   // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1
	maxStreams    uint32 // SETTINGS_MAX_CONCURRENT_STREAMS; 0 if absent
	hasMaxStreams bool
}

// maxFirstFrame bounds the first frame we decode: a SETTINGS frame holds 6
// bytes per setting, and the default maximum frame size is 16 KiB.
const maxFirstFrame = 16 << 10

// maxSendFrame is the SETTINGS_MAX_FRAME_SIZE the connection is shown at
// most: the protocol's initial value (a larger frame would only make the
// connection keep a larger write buffer).
const maxSendFrame = 16 << 10

// feed adds bytes read from the connection and reports whether the first
// frame is now decoded.
func (f *firstSettings) feed(b []byte) bool {
	f.buf = append(f.buf, b...)
	if f.complete {
		return true
	}
	const hdr = 9
	if len(f.buf) < hdr {
		return false
	}
	length := int(f.buf[0])<<16 | int(f.buf[1])<<8 | int(f.buf[2])
	if length > maxFirstFrame || http2.FrameType(f.buf[3]) != http2.FrameSettings {
		f.complete = true
		return true
	}
	if len(f.buf) < hdr+length {
		return false
	}
	f.complete = true
	fr := http2.NewFramer(nil, bytes.NewReader(f.buf[:hdr+length]))
	frame, err := fr.ReadFrame()
	if err != nil {
		return true
	}
	sf, ok := frame.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		return true
	}
	f.valid = true
	if v, ok := sf.Value(http2.SettingEnableConnectProtocol); ok && v == 1 {
		f.enableConnect = true
	}
	if v, ok := sf.Value(http2.SettingMaxConcurrentStreams); ok {
		f.maxStreams, f.hasMaxStreams = v, true
	}
	// A well-formed SETTINGS payload is whole 6-byte entries.
	for e := f.buf[hdr : hdr+length]; len(e) >= 6; e = e[6:] {
		if http2.SettingID(binary.BigEndian.Uint16(e)) == http2.SettingMaxFrameSize && binary.BigEndian.Uint32(e[2:]) > maxSendFrame {
			binary.BigEndian.PutUint32(e[2:], maxSendFrame)
		}
	}
	return true
}

// frameLen is the length of the first frame with its header, once it is
// complete.
func (f *firstSettings) frameLen() int {
	return 9 + (int(f.buf[0])<<16 | int(f.buf[1])<<8 | int(f.buf[2]))
}
