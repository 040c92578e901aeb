package h2

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Tests of the read loop's answers to frames a server may not send.

// untilPingAck reads the client's frames until the answer to a PING it
// sends first, and returns them.
func (p *peer) untilPingAck() []http2.Frame {
	p.fr.WritePing(false, [8]byte{9})
	var got []http2.Frame
	for {
		f := p.next(http2.FrameSettings, http2.FrameWindowUpdate)
		if f == nil {
			return got
		}
		if pf, ok := f.(*http2.PingFrame); ok && pf.IsAck() {
			return got
		}
		got = append(got, f)
	}
}

// DATA after the server's END_STREAM resets the stream (STREAM_CLOSED)
// and is not read as the stream's bytes.
func TestStreamDataAfterEndStream(t *testing.T) {
	codes := make(chan []http2.ErrCode, 1)
	nc := scripted(t, func(p *peer) {
		p.settings()
		id := p.accept()
		p.fr.WriteData(id, true, []byte("a"))
		p.fr.WriteData(id, false, []byte("b"))
		var cc []http2.ErrCode
		for _, f := range p.untilPingAck() {
			if rf, ok := f.(*http2.RSTStreamFrame); ok {
				cc = append(cc, rf.ErrCode)
			}
		}
		codes <- cc
		p.next(http2.FrameSettings, http2.FrameWindowUpdate, http2.FrameData, http2.FrameRSTStream)
	})
	s := openT(t, newConnT(t, nc))
	if cc := <-codes; len(cc) != 1 || cc[0] != http2.ErrCodeStreamClosed {
		t.Fatalf("RST_STREAM codes %v, want one STREAM_CLOSED", cc)
	}
	if b, err := io.ReadAll(s); string(b) != "a" || err != nil {
		t.Fatalf("ReadAll: %q, %v; want \"a\"", b, err)
	}
}

// DATA before the response fails the CONNECT.
func TestStreamDataBeforeResponse(t *testing.T) {
	nc := scripted(t, func(p *peer) {
		p.settings()
		f, ok := p.next(http2.FrameSettings, http2.FrameWindowUpdate).(*http2.MetaHeadersFrame)
		if !ok {
			p.t.Errorf("want HEADERS, got %v", f)
			return
		}
		p.fr.WriteData(f.StreamID, false, []byte("early"))
		var hb bytes.Buffer
		hpack.NewEncoder(&hb).WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
		p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hb.Bytes(), EndHeaders: true})
		p.next(http2.FrameSettings, http2.FrameWindowUpdate, http2.FrameRSTStream)
	})
	c := newConnT(t, nc)
	got, err := NewPool().Acquire(context.Background(), Key{Scheme: "http", Addr: "x"}, func(context.Context) (*Conn, error) { return c, nil })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Scheme: "http", Host: "x", Path: "/"}, Header: http.Header{":protocol": {"websocket"}}}
	s, _, err := got.OpenStream(ctx, req)
	if !errors.Is(err, errDataOutOfPlace) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("OpenStream with DATA before the response: %v, want errDataOutOfPlace", err)
	}
}

// A server may not withdraw SETTINGS_ENABLE_CONNECT_PROTOCOL: the
// connection ends with PROTOCOL_ERROR.
func TestConnEnableConnectWithdrawn(t *testing.T) {
	code := make(chan http2.ErrCode, 1)
	nc := scripted(t, func(p *peer) {
		p.settings()
		p.fr.WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 0})
		f, ok := p.next(http2.FrameSettings, http2.FrameWindowUpdate).(*http2.GoAwayFrame)
		if !ok {
			code <- 0xff
			return
		}
		code <- f.ErrCode
	})
	c := newConnT(t, nc)
	defer c.nc.Close()
	if got := <-code; got != http2.ErrCodeProtocol {
		t.Fatalf("GOAWAY code %v (0xff: none), want PROTOCOL_ERROR", got)
	}
}

// A HEADERS after the response that does not end the stream (trailers
// must) resets the stream.
func TestStreamHeadersAfterResponse(t *testing.T) {
	codes := make(chan []http2.ErrCode, 1)
	nc := scripted(t, func(p *peer) {
		p.settings()
		id := p.accept()
		var hb bytes.Buffer
		hpack.NewEncoder(&hb).WriteField(hpack.HeaderField{Name: "x-again", Value: "1"})
		p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true})
		var cc []http2.ErrCode
		for _, f := range p.untilPingAck() {
			if rf, ok := f.(*http2.RSTStreamFrame); ok {
				cc = append(cc, rf.ErrCode)
			}
		}
		codes <- cc
		p.next(http2.FrameSettings, http2.FrameWindowUpdate, http2.FrameData, http2.FrameRSTStream)
	})
	s := openT(t, newConnT(t, nc))
	if cc := <-codes; len(cc) != 1 || cc[0] != http2.ErrCodeProtocol {
		t.Fatalf("RST_STREAM codes %v, want one PROTOCOL_ERROR", cc)
	}
	if _, err := s.Read(make([]byte, 1)); err == nil || err == io.EOF {
		t.Fatalf("Read after the reset: %v, want an error", err)
	}
}

// A frame larger than our SETTINGS_MAX_FRAME_SIZE ends the connection
// with FRAME_SIZE_ERROR.
func TestConnFrameTooLarge(t *testing.T) {
	code := make(chan http2.ErrCode, 1)
	nc := scripted(t, func(p *peer) {
		p.settings()
		id := p.accept()
		p.fr.WriteData(id, false, make([]byte, maxDataFrame+1))
		f, ok := p.next(http2.FrameSettings, http2.FrameWindowUpdate).(*http2.GoAwayFrame)
		if !ok {
			code <- 0xff
			return
		}
		code <- f.ErrCode
	})
	s := openT(t, newConnT(t, nc))
	if got := <-code; got != http2.ErrCodeFrameSize {
		t.Fatalf("GOAWAY code %v (0xff: none), want FRAME_SIZE_ERROR", got)
	}
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, errConnLost) {
		t.Fatalf("Read: %v, want errConnLost", err)
	}
}

// A frame on a stream the client never opened ends the connection with
// PROTOCOL_ERROR.
func TestConnFrameOnIdleStream(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(fr *http2.Framer, open uint32)
	}{
		{"DATA", func(fr *http2.Framer, open uint32) { fr.WriteData(open+2, false, []byte("x")) }},
		{"RST_STREAM", func(fr *http2.Framer, open uint32) { fr.WriteRSTStream(open+2, http2.ErrCodeCancel) }},
		{"WINDOW_UPDATE", func(fr *http2.Framer, open uint32) { fr.WriteWindowUpdate(open+2, 1) }},
		{"even DATA", func(fr *http2.Framer, open uint32) { fr.WriteData(2, false, []byte("x")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := make(chan http2.ErrCode, 1)
			nc := scripted(t, func(p *peer) {
				p.settings()
				id := p.accept()
				tc.write(p.fr, id)
				f, ok := p.next(http2.FrameSettings, http2.FrameWindowUpdate).(*http2.GoAwayFrame)
				if !ok {
					code <- 0xff
					return
				}
				code <- f.ErrCode
			})
			s := openT(t, newConnT(t, nc))
			if got := <-code; got != http2.ErrCodeProtocol {
				t.Fatalf("GOAWAY code %v (0xff: none), want PROTOCOL_ERROR", got)
			}
			if _, err := s.Read(make([]byte, 1)); !errors.Is(err, errConnLost) {
				t.Fatalf("Read: %v, want errConnLost", err)
			}
		})
	}
}
