package h2

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Tests of the connection against a scripted HTTP/2 server on 127.0.0.1
// (prior-knowledge h2c), frame by frame.

// peer is the server side of one scripted connection.
type peer struct {
	t  *testing.T
	nc net.Conn
	fr *http2.Framer
}

// scripted starts a server that reads the client preface and runs script,
// and returns the client's connection to it.
func scripted(t *testing.T, script func(p *peer)) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer nc.Close()
		pre := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(nc, pre); err != nil || string(pre) != http2.ClientPreface {
			t.Errorf("client preface %q, %v", pre, err)
			return
		}
		fr := http2.NewFramer(nc, nc)
		fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		script(&peer{t: t, nc: nc, fr: fr})
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

// next returns the client's next frame that is not one of skip's types.
func (p *peer) next(skip ...http2.FrameType) http2.Frame {
	p.t.Helper()
	for {
		f, err := p.fr.ReadFrame()
		if err != nil {
			p.t.Errorf("server reading: %v", err)
			return nil
		}
		if !bytes.Contains(frameTypes(skip), []byte{byte(f.Header().Type)}) {
			return f
		}
	}
}

func frameTypes(ts []http2.FrameType) []byte {
	b := make([]byte, len(ts))
	for i, t := range ts {
		b[i] = byte(t)
	}
	return b
}

// settings sends the server's SETTINGS with extended CONNECT enabled.
func (p *peer) settings(s ...http2.Setting) {
	p.fr.WriteSettings(append([]http2.Setting{{ID: http2.SettingEnableConnectProtocol, Val: 1}}, s...)...)
}

// accept reads the client's SETTINGS, WINDOW_UPDATE and the CONNECT's
// HEADERS and answers 200; it returns the stream ID.
func (p *peer) accept() uint32 {
	p.t.Helper()
	f, ok := p.next(http2.FrameSettings, http2.FrameWindowUpdate).(*http2.MetaHeadersFrame)
	if !ok {
		p.t.Errorf("want the CONNECT's HEADERS, got %v", f)
		return 0
	}
	if f.PseudoValue("method") != "CONNECT" || f.PseudoValue("protocol") != "websocket" || f.StreamEnded() {
		p.t.Errorf("request %v", f.Fields)
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hb.Bytes(), EndHeaders: true})
	return f.StreamID
}

func newConnT(t *testing.T, nc net.Conn) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := NewConn(ctx, nc, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// openT opens a stream on a connection of a fresh Pool.
func openT(t *testing.T, c *Conn) *Stream {
	t.Helper()
	p := NewPool()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := p.Acquire(ctx, Key{Scheme: "http", Addr: "x"}, func(context.Context) (*Conn, error) { return c, nil })
	if err != nil {
		t.Fatal(err)
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Scheme: "http", Host: "x", Path: "/"}, Header: http.Header{":protocol": {"websocket"}}}
	s, resp, err := got.OpenStream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestNewConnRefusals(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		answer func(p *peer)
		want   error
	}{
		{"no extended CONNECT", func(p *peer) { p.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 5}) }, ErrNoExtendedConnect},
		{"HTTP/1.1 answer", func(p *peer) { io.WriteString(p.nc, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") }, ErrNoSettings},
		{"PING first", func(p *peer) { p.fr.WritePing(false, [8]byte{}) }, ErrNoSettings},
		{"closed", func(p *peer) {}, ErrNoSettings},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := scripted(t, tc.answer)
			if _, err := NewConn(ctx, nc, 1<<10); !errors.Is(err, tc.want) {
				t.Fatalf("NewConn: %v, want %v", err, tc.want)
			}
		})
	}
	// A server that never answers: the context ends the set-up.
	quiet := make(chan struct{})
	nc := scripted(t, func(p *peer) { <-quiet })
	defer close(quiet)
	ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := NewConn(ctx, nc, 1<<10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NewConn against a silent server: %v", err)
	}
}

// The client never sends more than the server's windows allow, and goes
// on as WINDOW_UPDATEs and a new SETTINGS_INITIAL_WINDOW_SIZE open them.
func TestStreamSendFlowControl(t *testing.T) {
	got := make(chan []byte, 1)
	nc := scripted(t, func(p *peer) {
		p.settings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10})
		id := p.accept()
		var all []byte
		window := 10
		for len(all) < 100 {
			f, ok := p.next(http2.FrameSettings, http2.FrameWindowUpdate).(*http2.DataFrame)
			if !ok {
				p.t.Errorf("want DATA, got %v", f)
				return
			}
			if len(f.Data()) > window {
				p.t.Errorf("DATA of %d bytes with a window of %d", len(f.Data()), window)
			}
			window -= len(f.Data())
			all = append(all, f.Data()...)
			switch {
			case len(all) == 10:
				p.fr.WriteWindowUpdate(id, 15)
				window += 15
			case len(all) == 25:
				// The initial window grows by 75: so does this stream's.
				p.settings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 85})
				window += 75
			}
		}
		got <- all
		p.next(http2.FrameSettings, http2.FrameWindowUpdate, http2.FrameData, http2.FrameRSTStream) // until the client leaves
	})
	s := openT(t, newConnT(t, nc))
	msg := bytes.Repeat([]byte("0123456789"), 10)
	if n, err := s.Write(msg); n != len(msg) || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	if b := <-got; !bytes.Equal(b, msg) {
		t.Fatalf("server got %q", b)
	}
}

// Pings are answered with the same data.
func TestConnAnswersPing(t *testing.T) {
	acked := make(chan [8]byte, 1)
	nc := scripted(t, func(p *peer) {
		p.settings()
		p.fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
		f, ok := p.next(http2.FrameSettings, http2.FrameWindowUpdate).(*http2.PingFrame)
		if !ok || !f.IsAck() {
			p.t.Errorf("want a PING ack, got %v", f)
			return
		}
		acked <- f.Data
	})
	c := newConnT(t, nc)
	defer c.nc.Close()
	if d := <-acked; d != [8]byte{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Fatalf("PING ack with %v", d)
	}
}

// What the server sends is refunded (WINDOW_UPDATE) as it is read, padding
// at once; a server that overruns the window has the stream reset.
func TestStreamReceiveWindow(t *testing.T) {
	refunded := make(chan uint32, 10)
	reset := make(chan http2.ErrCode, 1)
	nc := scripted(t, func(p *peer) {
		p.settings()
		id := p.accept()
		chunk := make([]byte, 16<<10)
		for range refundAt / len(chunk) { // a quarter of the window, the point where it is refunded
			p.fr.WriteData(id, false, chunk)
		}
		for {
			switch f := p.next(http2.FrameSettings).(type) {
			case *http2.WindowUpdateFrame:
				if f.StreamID == id {
					refunded <- f.Increment
					// Now overrun: the whole window and one byte more.
					for range streamWindow / len(chunk) {
						p.fr.WriteData(id, false, chunk)
					}
					p.fr.WriteData(id, false, []byte{1})
				}
			case *http2.RSTStreamFrame:
				reset <- f.ErrCode
				return
			case nil:
				return
			}
		}
	})
	s := openT(t, newConnT(t, nc))
	if _, err := io.ReadFull(s, make([]byte, refundAt)); err != nil {
		t.Fatal(err)
	}
	if n := <-refunded; n != refundAt {
		t.Fatalf("WINDOW_UPDATE of %d after reading %d", n, refundAt)
	}
	if code := <-reset; code != http2.ErrCodeFlowControl {
		t.Fatalf("overrun stream reset with %v, want FLOW_CONTROL_ERROR", code)
	}
	// What came within the window can still be read; then the error.
	n, err := io.Copy(io.Discard, s)
	if n != streamWindow || err == nil {
		t.Fatalf("after the overrun: read %d bytes, %v; want %d and an error", n, err, streamWindow)
	}
}

// After GOAWAY the connection takes no new streams; the ones the server
// accepted go on.
func TestConnGoAway(t *testing.T) {
	echoed := make(chan string, 1)
	nc := scripted(t, func(p *peer) {
		p.settings()
		id := p.accept()
		p.fr.WriteGoAway(id, http2.ErrCodeNo, nil)
		f, ok := p.next(http2.FrameSettings, http2.FrameWindowUpdate).(*http2.DataFrame)
		if !ok {
			p.t.Errorf("want DATA, got %v", f)
			return
		}
		p.fr.WriteData(id, true, f.Data())
		echoed <- string(f.Data())
		p.next(http2.FrameSettings, http2.FrameWindowUpdate, http2.FrameData, http2.FrameRSTStream)
	})
	c := newConnT(t, nc)
	s := openT(t, c)
	if _, err := s.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got := <-echoed; got != "hello" {
		t.Fatalf("server got %q", got)
	}
	if b, err := io.ReadAll(s); string(b) != "hello" || err != nil {
		t.Fatalf("Read after GOAWAY: %q, %v", b, err)
	}
	if c.reserve() {
		t.Fatal("a connection that got GOAWAY took a new stream")
	}
}

// A server that allows no stream at all fails the dial, once: the new
// connection is ended (GOAWAY), not dialed again and again.
func TestPoolServerAllowsNoStreams(t *testing.T) {
	goAway := make(chan bool, 1)
	nc := scripted(t, func(p *peer) {
		p.settings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 0})
		_, ok := p.next(http2.FrameSettings, http2.FrameWindowUpdate).(*http2.GoAwayFrame)
		goAway <- ok
	})
	dials := 0
	_, err := NewPool().Acquire(context.Background(), Key{Scheme: "http", Addr: "x"}, func(context.Context) (*Conn, error) {
		dials++
		return newConnT(t, nc), nil
	})
	if !errors.Is(err, errNoStreams) || dials != 1 {
		t.Fatalf("Acquire: %v after %d dials, want errNoStreams after 1", err, dials)
	}
	if !<-goAway {
		t.Fatal("the connection was not ended with GOAWAY")
	}
}

// The server's first SETTINGS is acknowledged, before the first request:
// a server may end a connection whose client never does.
func TestConnAcksFirstSettings(t *testing.T) {
	acked := make(chan bool, 1)
	nc := scripted(t, func(p *peer) {
		p.settings()
		for {
			switch f := p.next(http2.FrameWindowUpdate).(type) {
			case *http2.SettingsFrame:
				if f.IsAck() {
					acked <- true
					return
				}
			default:
				acked <- false
				return
			}
		}
	})
	c := newConnT(t, nc)
	defer c.nc.Close()
	if !<-acked {
		t.Fatal("the server's first SETTINGS was not acknowledged")
	}
}

// A stream reserved before the server's GOAWAY is not sent (the server
// would ignore it and the dial would wait for nothing): OpenStream fails
// at once with ErrGoAway.
func TestConnGoAwayBeforeOpen(t *testing.T) {
	pinged := make(chan struct{})
	nc := scripted(t, func(p *peer) {
		p.settings()
		p.fr.WriteGoAway(0, http2.ErrCodeNo, nil)
		p.fr.WritePing(false, [8]byte{})
		// The PING is answered after the GOAWAY is taken.
		if _, ok := p.next(http2.FrameSettings, http2.FrameWindowUpdate).(*http2.PingFrame); !ok {
			p.t.Error("want a PING ack")
		}
		close(pinged)
		p.next(http2.FrameSettings, http2.FrameWindowUpdate, http2.FrameRSTStream)
	})
	c := newConnT(t, nc)
	p := NewPool()
	got, err := p.Acquire(context.Background(), Key{Scheme: "http", Addr: "x"}, func(context.Context) (*Conn, error) { return c, nil })
	if err != nil {
		t.Fatal(err)
	}
	<-pinged
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Scheme: "http", Host: "x", Path: "/"}, Header: http.Header{":protocol": {"websocket"}}}
	if _, _, err := got.OpenStream(ctx, req); !errors.Is(err, ErrGoAway) {
		t.Fatalf("OpenStream after GOAWAY: %v, want ErrGoAway", err)
	}
}
