package wsclient

import (
	"bytes"
	"net"
	"sync"

	"golang.org/x/net/http2"
)

// settingsSniffer is the net.Conn given to the HTTP/2 transport. It passes
// everything through and decodes, on the side, the server's first frame,
// which RFC 9113 section 3.4 requires to be a SETTINGS frame: that is where
// the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 section
// 3) and its stream limit. golang.org/x/net/http2 keeps both to itself, and
// the Dialer needs them to choose between HTTP/2 and HTTP/1.1 before sending
// a request.
type settingsSniffer struct {
	net.Conn
	first firstSettings
	once  sync.Once
	done  chan struct{} // closed once the first frame is decoded, or reading failed
}

func newSettingsSniffer(nc net.Conn) *settingsSniffer {
	return &settingsSniffer{Conn: nc, done: make(chan struct{})}
}

// Read reads from the connection, feeding the first frame to the decoder.
// Only the transport's read loop calls it.
func (s *settingsSniffer) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if !s.first.complete {
		if s.first.feed(p[:n]) || err != nil {
			s.finish()
		}
	}
	return n, err
}

func (s *settingsSniffer) finish() { s.once.Do(func() { close(s.done) }) }

// firstSettings decodes the first HTTP/2 frame a server sends.
type firstSettings struct {
	buf      []byte
	complete bool // the first frame was decoded (or found not to be SETTINGS)
	valid    bool // it was a well-formed SETTINGS frame

	enableConnect bool   // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1
	maxStreams    uint32 // SETTINGS_MAX_CONCURRENT_STREAMS; 0 if absent
	hasMaxStreams bool
}

// maxFirstFrame bounds the first frame we decode: a SETTINGS frame holds 6
// bytes per setting, and the default maximum frame size is 16 KiB.
const maxFirstFrame = 16 << 10

// feed adds bytes read from the connection and reports whether the first
// frame is now decoded. Bytes after the first frame are ignored.
func (f *firstSettings) feed(b []byte) bool {
	if f.complete {
		return true
	}
	const hdr = 9
	f.buf = append(f.buf, b...)
	if len(f.buf) < hdr {
		return false
	}
	length := int(f.buf[0])<<16 | int(f.buf[1])<<8 | int(f.buf[2])
	if length > maxFirstFrame || http2.FrameType(f.buf[3]) != http2.FrameSettings {
		f.complete = true
		f.buf = nil
		return true
	}
	if len(f.buf) < hdr+length {
		return false
	}
	f.complete = true
	fr := http2.NewFramer(nil, bytes.NewReader(f.buf[:hdr+length]))
	f.buf = nil
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
	return true
}
