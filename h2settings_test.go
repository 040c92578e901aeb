//go:build !js

package wsclient

import (
	"bytes"
	"testing"

	"golang.org/x/net/http2"
)

// settingsFrame returns the bytes of a SETTINGS frame written by x/net's
// Framer.
func settingsFrame(t testing.TB, s ...http2.Setting) []byte {
	var buf bytes.Buffer
	if err := http2.NewFramer(&buf, nil).WriteSettings(s...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestH2FirstSettings(t *testing.T) {
	full := settingsFrame(t,
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 7},
		http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	// Fed byte by byte, followed by more frames.
	in := append(full, settingsFrame(t)...)
	var f firstSettings
	done := false
	for i := range in {
		if f.feed(in[i : i+1]) {
			done = true
			if i != len(full)-1 {
				t.Fatalf("decoded after %d bytes, want %d", i+1, len(full))
			}
			break
		}
	}
	if !done || !f.valid || !f.enableConnect || !f.hasMaxStreams || f.maxStreams != 7 {
		t.Fatalf("decoded %+v", f)
	}
	// Go's server allows 1 MiB frames; the transport is told 16 KiB.
	var big firstSettings
	big.feed(settingsFrame(t, http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20}, http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1}))
	if v, _ := decodeSettings(t, big.buf).Value(http2.SettingMaxFrameSize); v != maxSendFrame || !big.enableConnect {
		t.Fatalf("MAX_FRAME_SIZE shown as %d, want %d", v, maxSendFrame)
	}
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"no extended CONNECT", settingsFrame(t, http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 0})},
		{"empty SETTINGS", settingsFrame(t)},
		{"not SETTINGS", []byte{0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"HTTP/1.1 answer", []byte("HTTP/1.1 400 Bad Request\r\n\r\n")},
		{"oversized", []byte{0xff, 0xff, 0xff, 4, 0, 0, 0, 0, 0}},
		{"bad length", []byte{0, 0, 5, 4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5}},
	} {
		var f firstSettings
		if !f.feed(tc.in) {
			t.Errorf("%s: not decided after the whole frame", tc.name)
		}
		if f.enableConnect {
			t.Errorf("%s: extended CONNECT reported enabled", tc.name)
		}
	}
}

// FuzzH2FirstSettings feeds arbitrary bytes in arbitrary pieces: the
// decoder never panics, and the split does not change its answer.
func FuzzH2FirstSettings(f *testing.F) {
	f.Add(settingsFrame(f, http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1}), uint8(3))
	f.Add(settingsFrame(f, http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}), uint8(1))
	f.Add([]byte("HTTP/1.1 200 OK\r\n"), uint8(5))
	f.Add(settingsFrame(f, http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20}), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		var whole firstSettings
		wholeDone := whole.feed(in)
		var parts firstSettings
		partsDone := false
		n := int(step%16) + 1
		for i := 0; i < len(in); i += n {
			if parts.feed(in[i:min(i+n, len(in))]) {
				partsDone = true
				break
			}
		}
		if len(in) == 0 {
			partsDone = parts.feed(nil)
		}
		if wholeDone != partsDone || whole.valid != parts.valid || whole.enableConnect != parts.enableConnect || whole.maxStreams != parts.maxStreams {
			t.Fatalf("whole %+v (%v) != in pieces of %d %+v (%v)", whole, wholeDone, n, parts, partsDone)
		}
		// Nothing is lost or added; only a large MAX_FRAME_SIZE changes.
		if len(whole.buf) != len(in) || !bytes.Equal(parts.buf, whole.buf[:len(parts.buf)]) {
			t.Fatalf("bytes changed: %x -> %x / %x", in, whole.buf, parts.buf)
		}
		if whole.valid {
			sf := decodeSettings(t, whole.buf)
			if v, ok := sf.Value(http2.SettingMaxFrameSize); ok && v > maxSendFrame {
				t.Fatalf("MAX_FRAME_SIZE %d passed through", v)
			}
			// Setting by setting, in order (an ID may repeat: the last
			// one counts, RFC 9113 section 6.5.3).
			orig := decodeSettings(t, in)
			if orig.NumSettings() != sf.NumSettings() {
				t.Fatalf("%d settings became %d", orig.NumSettings(), sf.NumSettings())
			}
			for i := range orig.NumSettings() {
				s, got := orig.Setting(i), sf.Setting(i)
				if s.ID != got.ID || (s.ID != http2.SettingMaxFrameSize && s.Val != got.Val) {
					t.Fatalf("setting %d: %v changed to %v", i, s, got)
				}
			}
		}
	})
}

func decodeSettings(t *testing.T, b []byte) *http2.SettingsFrame {
	f, err := http2.NewFramer(nil, bytes.NewReader(b)).ReadFrame()
	if err != nil {
		t.Fatalf("re-decoding: %v", err)
	}
	return f.(*http2.SettingsFrame)
}
