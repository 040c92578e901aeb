package h2

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// FuzzConnRead feeds arbitrary server bytes to a connection: after a valid
// SETTINGS and the answer to one open stream (fromStart false), or as the
// server's very first bytes (fromStart true). Whatever they are, the
// connection answers a PING that follows them or ends with an error, a
// stream's Read, Write and Close return within their deadlines, and the
// read loop is gone once the stream is closed.
func FuzzConnRead(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed, false)
	}
	f.Add(append(frames(func(fr *http2.Framer) {
		fr.WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	}), fuzzSeeds()[0]...), true)
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, fromStart bool) {
		fuzzConn(t, wholeFrames(data), fromStart)
	})
}

// pingMark is the data of the PING that follows the fuzzed bytes.
var pingMark = [8]byte{'f', 'u', 'z', 'z', 'm', 'a', 'r', 'k'}

// hangLimit is how long any one step may take before it counts as a hang.
const hangLimit = 5 * time.Second

func fuzzConn(t *testing.T, data []byte, fromStart bool) {
	cli, srv := net.Pipe()
	defer srv.Close()
	heads := make(chan uint32, 1)
	acked := make(chan struct{})
	readerDone := make(chan struct{})
	go fuzzServerReader(srv, heads, acked, readerDone)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		w := http2.NewFramer(srv, nil)
		if !fromStart {
			w.WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
			select {
			case id := <-heads:
				var hb bytes.Buffer
				hpack.NewEncoder(&hb).WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
				w.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true})
			case <-readerDone:
				return
			}
		}
		if _, err := srv.Write(data); err == nil {
			w.WritePing(false, pingMark)
		}
	}()
	defer func() {
		srv.Close()
		<-writerDone
		<-readerDone
	}()

	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	c, err := NewConn(ctx, cli, 4<<10)
	if err != nil {
		if ctx.Err() != nil {
			t.Fatalf("NewConn hung: %v", err)
		}
		return
	}
	var s *Stream
	if !fromStart {
		s = fuzzOpen(t, ctx, c)
	}
	select {
	case <-acked:
	case <-c.readDone:
	case <-time.After(hangLimit):
		t.Fatal("the connection neither answered the PING nor ended")
	}
	if s != nil {
		fuzzUse(t, s)
	} else {
		c.shutdown()
	}
	select {
	case <-c.readDone:
	case <-time.After(hangLimit):
		t.Fatal("the read loop outlived the connection's end")
	}
}

// fuzzOpen opens a stream on c through a Pool; nil if the connection ended
// first.
func fuzzOpen(t *testing.T, ctx context.Context, c *Conn) *Stream {
	got, err := NewPool().Acquire(ctx, Key{Scheme: "http", Addr: "x"}, func(context.Context) (*Conn, error) { return c, nil })
	if err != nil {
		t.Fatalf("Acquire on a new connection: %v", err)
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Scheme: "http", Host: "x", Path: "/"}, Header: http.Header{":protocol": {"websocket"}}}
	s, _, err := got.OpenStream(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			t.Fatalf("OpenStream hung: %v", err)
		}
		t.Fatalf("OpenStream: %v", err) // the fuzzed bytes come after the answer
	}
	return s
}

// fuzzUse reads what the stream holds, writes to it and closes it; each
// returns within its deadline.
func fuzzUse(t *testing.T, s *Stream) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.SetReadDeadline(time.Unix(1, 0)) // only what is buffered
		buf := make([]byte, 4<<10)
		for {
			if _, err := s.Read(buf); err != nil {
				break
			}
		}
		s.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
		s.Write([]byte("after the fuzz"))
		s.Close()
	}()
	select {
	case <-done:
	case <-time.After(hangLimit):
		t.Fatal("Read, Write or Close of the stream hung")
	}
}

// fuzzServerReader reads the client's frames: the CONNECT's stream ID goes
// to heads, the answer to the marked PING closes acked, and the client's
// GOAWAY (or any error) closes the server's side.
func fuzzServerReader(srv net.Conn, heads chan<- uint32, acked chan<- struct{}, done chan<- struct{}) {
	defer close(done)
	defer srv.Close()
	if _, err := io.ReadFull(srv, make([]byte, len(http2.ClientPreface))); err != nil {
		return
	}
	fr := http2.NewFramer(nil, srv)
	for ackedOnce := false; ; {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.HeadersFrame:
			select {
			case heads <- f.StreamID:
			default:
			}
		case *http2.PingFrame:
			if f.IsAck() && f.Data == pingMark && !ackedOnce {
				ackedOnce = true
				close(acked)
			}
		case *http2.GoAwayFrame:
			return
		}
	}
}

// wholeFrames cuts data after its last whole frame (by the frame headers'
// lengths), so that the PING after it is read as a frame of its own.
func wholeFrames(data []byte) []byte {
	end := 0
	for off := 0; off+9 <= len(data); {
		n := 9 + (int(data[off])<<16 | int(data[off+1])<<8 | int(data[off+2]))
		if off+n > len(data) {
			break
		}
		off += n
		end = off
	}
	return data[:end]
}

// frames returns what fn writes with a Framer.
func frames(fn func(fr *http2.Framer)) []byte {
	var b bytes.Buffer
	fn(http2.NewFramer(&b, nil))
	return b.Bytes()
}

// fuzzSeeds are valid (and a few invalid) frame sequences on stream 1.
func fuzzSeeds() [][]byte {
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	enc.WriteField(hpack.HeaderField{Name: "x-trailer", Value: "yes"})
	enc.WriteField(hpack.HeaderField{Name: "x-more", Value: string(bytes.Repeat([]byte("v"), 40))})
	block := hb.Bytes()
	rawWindowUpdate := make([]byte, 13)
	copy(rawWindowUpdate, []byte{0, 0, 4, byte(http2.FrameWindowUpdate), 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint32(rawWindowUpdate[9:], 1<<31-1)
	return [][]byte{
		frames(func(fr *http2.Framer) { fr.WriteData(1, false, []byte("hello")) }),
		frames(func(fr *http2.Framer) { fr.WriteData(1, true, []byte("bye")) }),
		frames(func(fr *http2.Framer) { fr.WriteDataPadded(1, false, []byte("pad"), make([]byte, 20)) }),
		frames(func(fr *http2.Framer) { fr.WriteWindowUpdate(0, 1000); fr.WriteWindowUpdate(1, 1000) }),
		rawWindowUpdate, // overflows the stream's window
		frames(func(fr *http2.Framer) { fr.WritePing(false, [8]byte{1}); fr.WritePing(true, [8]byte{2}) }),
		frames(func(fr *http2.Framer) { fr.WriteGoAway(1, http2.ErrCodeNo, nil) }),
		frames(func(fr *http2.Framer) { fr.WriteGoAway(0, http2.ErrCodeEnhanceYourCalm, []byte("calm")) }),
		frames(func(fr *http2.Framer) { fr.WriteRSTStream(1, http2.ErrCodeCancel) }),
		frames(func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:10], EndStream: true})
			fr.WriteContinuation(1, false, block[10:20])
			fr.WriteContinuation(1, true, block[20:])
		}),
		frames(func(fr *http2.Framer) {
			fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0}, http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20})
			fr.WriteSettingsAck()
		}),
		frames(func(fr *http2.Framer) { fr.WriteData(3, false, []byte("unknown stream")) }),
		frames(func(fr *http2.Framer) {
			fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: block, EndHeaders: true})
		}),
	}
}
