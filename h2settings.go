//go:build !js

package wsclient

import (
	"bytes"
	"encoding/binary"
	"net"
	"sync"

	"golang.org/x/net/http2"
)

// settingsSniffer is the net.Conn given to the HTTP/2 transport. It holds
// back the server's first frame until it is whole, decodes it, and then
// passes everything through. RFC 9113 section 3.4 requires that frame to be
// a SETTINGS frame: it is where the server advertises
// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 section 3) and its stream
// limit, which golang.org/x/net/http2 keeps to itself while the Dialer needs
// them to choose between HTTP/2 and HTTP/1.1.
//
// It also caps the server's SETTINGS_MAX_FRAME_SIZE at 16 KiB (the
// protocol's default, which every peer accepts): the transport keeps a
// request body buffer of that size (up to 512 KiB) for the whole life of
// each stream, and for a WebSocket, which is one long request, that would
// cost half a megabyte per WebSocket against Go's own server (1 MiB).
// Smaller DATA frames are always allowed.
type settingsSniffer struct {
	net.Conn
	first    firstSettings
	released bool
	pending  []byte
	err      error
	once     sync.Once
	done     chan struct{} // closed once the first frame is decoded, or reading failed
}

func newSettingsSniffer(nc net.Conn) *settingsSniffer {
	return &settingsSniffer{Conn: nc, done: make(chan struct{})}
}

// Read reads from the connection. Only the transport's read loop calls it.
func (s *settingsSniffer) Read(p []byte) (int, error) {
	if !s.released {
		var tmp [1024]byte
		for !s.first.complete && s.err == nil {
			n, err := s.Conn.Read(tmp[:])
			s.first.feed(tmp[:n])
			s.err = err
		}
		s.released = true
		s.pending, s.first.buf = s.first.buf, nil
		s.once.Do(func() { close(s.done) })
	}
	if len(s.pending) > 0 {
		n := copy(p, s.pending)
		s.pending = s.pending[n:]
		return n, nil
	}
	if s.err != nil {
		return 0, s.err
	}
	return s.Conn.Read(p)
}

// firstSettings decodes the first HTTP/2 frame a server sends.
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

// maxSendFrame is the SETTINGS_MAX_FRAME_SIZE the transport is shown at
// most: the protocol's initial value.
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
