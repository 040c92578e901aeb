package interop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/peertest"
)

// The Client (callback API) against the real servers, through its public
// API only: Start, Cast, Send, Stop, Wait, a Handler on BaseHandler, and the
// WithDialer, WithKeepalive and WithBackoff options.

// recorder is a Handler that reports every callback on channels, big
// enough that callbacks never block on a slow test.
type recorder struct {
	wsclient.BaseHandler
	mode        wsclient.InitMode
	connects    chan wsclient.ConnInfo
	disconnects chan wsclient.Disconnect
	msgs        chan wsclient.Frame
	terminated  chan error
}

func newRecorder(mode wsclient.InitMode) *recorder {
	return &recorder{
		mode:        mode,
		connects:    make(chan wsclient.ConnInfo, 16),
		disconnects: make(chan wsclient.Disconnect, 64),
		msgs:        make(chan wsclient.Frame, 4096),
		terminated:  make(chan error, 1),
	}
}

func (r *recorder) Init(*wsclient.Client) (wsclient.InitMode, error) { return r.mode, nil }

func (r *recorder) OnConnect(_ *wsclient.Client, info wsclient.ConnInfo) wsclient.Action {
	r.connects <- info
	return wsclient.Action{}
}

func (r *recorder) OnDisconnect(_ *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	r.disconnects <- d
	if r.mode == wsclient.KeepReconnecting {
		return wsclient.ReconnectAfter(d.Backoff)
	}
	return wsclient.StopWith(d.Reason)
}

func (r *recorder) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	if f.Type == wsclient.TextMessage || f.Type == wsclient.BinaryMessage {
		r.msgs <- wsclient.Frame{Type: f.Type, Data: append([]byte(nil), f.Data...)}
	}
	return wsclient.Action{}
}

func (r *recorder) Terminate(_ *wsclient.Client, err error) { r.terminated <- err }

// startClient starts a client for url and stops it when the test ends.
// (opts holds at most one *Options; none means the defaults).
func startClient(t *testing.T, url string, h wsclient.Handler, opts ...*wsclient.Options) *wsclient.Client {
	t.Helper()
	var o *wsclient.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	c, err := wsclient.Start(ctxFor(t), url, h, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Stop(ctx)
	})
	return c
}

func awaitConnect(t *testing.T, r *recorder) wsclient.ConnInfo {
	t.Helper()
	select {
	case info := <-r.connects:
		return info
	case d := <-r.disconnects:
		t.Fatalf("disconnected instead of connecting: %v", d.Reason)
	case <-time.After(eventTimeout):
		t.Fatal("no connection")
	}
	return wsclient.ConnInfo{}
}

// awaitReconnect waits for the next connection, through failed attempts.
func awaitReconnect(t *testing.T, r *recorder) {
	t.Helper()
	deadline := time.After(eventTimeout)
	for {
		select {
		case <-r.connects:
			return
		case d := <-r.disconnects:
			if d.WasConnected {
				t.Fatalf("a connection ended while reconnecting: %v", d.Reason)
			}
		case <-deadline:
			t.Fatal("no reconnect")
		}
	}
}

func awaitMsg(t *testing.T, r *recorder) wsclient.Frame {
	t.Helper()
	select {
	case f := <-r.msgs:
		return f
	case d := <-r.disconnects:
		t.Fatalf("disconnected while waiting for a message: %v", d.Reason)
	case <-time.After(eventTimeout):
		t.Fatal("no message")
	}
	return wsclient.Frame{}
}

// stopClient stops c gracefully and returns Wait's result.
func stopClient(t *testing.T, c *wsclient.Client) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
	return c.Wait()
}

// TestClientCastSendOrder: frames cast and sent from one goroutine, text
// and binary, small and large, come back from the echo server in the order
// they were given, and the server saw them in that order.
func TestClientCastSendOrder(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		r := newRecorder(wsclient.ConnectOnce)
		c := startClient(t, p.URL+"/", r)
		awaitConnect(t, r)
		ctx := ctxFor(t)
		const n = 400
		var sizes []int
		frameFor := func(i int) wsclient.Frame {
			body := fmt.Sprintf("%04d:", i)
			if i%50 == 7 {
				body += strings.Repeat("x", 70000) // a 64-bit length
			}
			if i%3 == 0 {
				return wsclient.Frame{Type: wsclient.BinaryMessage, Data: []byte(body)}
			}
			return wsclient.TextFrame(body)
		}
		for i := range n {
			f := frameFor(i)
			sizes = append(sizes, len(f.Data))
			var err error
			if i%10 == 9 {
				err = c.Send(ctx, f) // returns once written
			} else if err = c.Cast(f); errors.Is(err, wsclient.ErrOutboxFull) {
				err = c.Send(ctx, f) // waits for room, keeps the order
			}
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
		}
		for i := range n {
			f := awaitMsg(t, r)
			want := frameFor(i)
			if f.Type != want.Type || string(f.Data) != string(want.Data) {
				t.Fatalf("echo %d: %v %.12q (%d bytes), want %v %.12q", i, f.Type, f.Data, len(f.Data), want.Type, want.Data)
			}
		}
		if err := stopClient(t, c); err != nil {
			t.Errorf("Wait after Stop: %v", err)
		}
		// The server reports events in order: once it reports the close,
		// it has reported every message.
		if ev, ok := p.WaitEvent(eventTimeout, func(e peertest.Event) bool { return e.Kind == "close" }); !ok {
			t.Error("the server saw no close")
		} else if ev.Code != wsclient.CloseNormalClosure && ev.Code != wsclient.CloseGoingAway {
			t.Errorf("server saw close %d %q", ev.Code, ev.Reason)
		}
		var got []int
		for _, e := range p.Events() {
			if e.Kind == "message" {
				got = append(got, e.Size)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(sizes) {
			t.Errorf("server saw message sizes %v\nwant %v", got, sizes)
		}
	})
}

// TestClientDeflate: a Client whose Dialer offers permessage-deflate
// negotiates it with both servers, and compresses on the wire.
func TestClientDeflate(t *testing.T) {
	for _, s := range []struct {
		name  string
		start func(t *testing.T) *peertest.Peer
	}{
		{"node-ws", func(t *testing.T) *peertest.Peer {
			return peertest.NodeWS(t, peertest.NodeOptions{Deflate: &peertest.DeflateOptions{}})
		}},
		{"python-websockets", func(t *testing.T) *peertest.Peer { return peertest.PythonWS(t, peertest.PythonOptions{}) }},
	} {
		t.Run(s.name, func(t *testing.T) {
			p := s.start(t)
			var w wire
			d := &wsclient.Dialer{Compression: &wsclient.CompressionOptions{}, NetDialContext: w.dialFunc()}
			r := newRecorder(wsclient.ConnectOnce)
			c := startClient(t, p.URL+"/", r, &wsclient.Options{Dialer: d})
			info := awaitConnect(t, r)
			if !strings.Contains(info.Extensions, "permessage-deflate") {
				t.Fatalf("extensions %q", info.Extensions)
			}
			msg := strings.Repeat(`{"symbol":"WSCL","price":123.45,"side":"buy"} `, 2000) // ~94 KB
			base := w.written.Load()
			for range 5 {
				if err := c.Cast(wsclient.TextFrame(msg)); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 5 {
				if f := awaitMsg(t, r); string(f.Data) != msg {
					t.Fatalf("echo %d: %d bytes, want %d", i, len(f.Data), len(msg))
				}
			}
			if sent := w.written.Load() - base; sent > int64(5*len(msg)/10) {
				t.Errorf("wrote %d bytes on the wire for %d bytes of messages: not compressed", sent, 5*len(msg))
			}
			if err := stopClient(t, c); err != nil {
				t.Errorf("Wait after Stop: %v", err)
			}
		})
	}
}

// relay forwards TCP connections from its own address to a target that can
// change, like a load balancer in front of a server that is restarted; it
// can also stall, holding every byte in both directions, like a network
// path that went dead.
type relay struct {
	ln     net.Listener
	target atomic.Value // string
	mu     sync.Mutex
	conns  map[net.Conn]struct{} // nil once closed
	hold   chan struct{}         // while stalled: closed to resume
	wg     sync.WaitGroup
}

// stall holds every byte from now on, in both directions, until resume.
func (r *relay) stall() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold == nil {
		r.hold = make(chan struct{})
	}
}

// resume lets the held bytes through.
func (r *relay) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold != nil {
		close(r.hold)
		r.hold = nil
	}
}

// gate waits while the relay is stalled; false means it was closed.
func (r *relay) gate() bool {
	r.mu.Lock()
	h, open := r.hold, r.conns != nil
	r.mu.Unlock()
	if h != nil {
		<-h
	}
	return open
}

func newRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, conns: map[net.Conn]struct{}{}}
	r.target.Store(target)
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(r.close)
	return r
}

func (r *relay) url() string { return "ws://" + r.ln.Addr().String() }

func (r *relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil {
		c.Close()
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *relay) accept() {
	defer r.wg.Done()
	for {
		in, err := r.ln.Accept()
		if err != nil {
			return
		}
		if !r.track(in) {
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			out, err := net.DialTimeout("tcp", r.target.Load().(string), 5*time.Second)
			if err != nil || !r.track(out) {
				in.Close() // the server is down: the client sees the connection end
				return
			}
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				defer func() { done <- struct{}{} }()
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if !r.gate() {
						return
					}
					if n > 0 {
						if _, werr := dst.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}
			go pipe(out, in)
			go pipe(in, out)
			<-done // one side ended: end both
			in.Close()
			out.Close()
			<-done
		}()
	}
}

func (r *relay) close() {
	r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
	r.resume()
	r.wg.Wait()
}

// TestClientReconnectAcrossRestart: the server process is killed and a new
// one started; a KeepReconnecting client notices, retries with backoff
// until the new server is up, reconnects, and the frames cast while it was
// down are delivered after the reconnect, in order.
func TestClientReconnectAcrossRestart(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			first := s.start(t)
			rl := newRelay(t, first.Addr)
			r := newRecorder(wsclient.KeepReconnecting)
			c := startClient(t, rl.url()+"/", r,
				&wsclient.Options{Backoff: wsclient.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond, Multiplier: 2}})
			awaitConnect(t, r)
			if err := c.Send(ctxFor(t), wsclient.TextFrame("before")); err != nil {
				t.Fatal(err)
			}
			if f := awaitMsg(t, r); string(f.Data) != "before" {
				t.Fatalf("echo %q", f.Data)
			}

			first.Kill() // the server dies without a close frame
			select {
			case d := <-r.disconnects:
				if !d.WasConnected || !errors.Is(d.Reason, wsclient.ErrConnectionLost) {
					t.Errorf("disconnect %+v, want a lost connection", d)
				}
			case <-time.After(eventTimeout):
				t.Fatal("the client did not notice the server's death")
			}
			// While the server is down: attempts fail, frames wait.
			for i := range 3 {
				if err := c.Cast(wsclient.TextFrame(fmt.Sprintf("while down %d", i))); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case d := <-r.disconnects:
				if d.WasConnected || d.Attempt < 1 {
					t.Errorf("failed attempt reported as %+v", d)
				}
			case <-time.After(eventTimeout):
				t.Fatal("no failed reconnect attempt while the server was down")
			}

			second := s.start(t) // a new process (on another port, behind the relay)
			rl.target.Store(second.Addr)
			awaitReconnect(t, r)
			for i := range 3 {
				if f := awaitMsg(t, r); string(f.Data) != fmt.Sprintf("while down %d", i) {
					t.Fatalf("after the reconnect, echo %q, want %q", f.Data, fmt.Sprintf("while down %d", i))
				}
			}
			if err := c.Send(ctxFor(t), wsclient.TextFrame("after")); err != nil {
				t.Fatal(err)
			}
			if f := awaitMsg(t, r); string(f.Data) != "after" {
				t.Fatalf("echo %q", f.Data)
			}
			if _, ok := second.WaitEvent(eventTimeout, func(e peertest.Event) bool { return e.Kind == "message" }); !ok {
				t.Error("the new server saw no message")
			}
			if err := stopClient(t, c); err != nil {
				t.Errorf("Wait after Stop: %v", err)
			}
		})
	}
}

// TestClientKeepalive: the client's keepalive pings are answered by both
// servers (node reports them), so an idle connection stays up; when the
// path to the server goes dead, unanswered pings end the connection with
// ErrKeepaliveTimeout.
func TestClientKeepalive(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		rl := newRelay(t, p.Addr)
		r := newRecorder(wsclient.ConnectOnce)
		// Generous for a loaded machine: 8 pings may go unanswered.
		const interval, missed = 100 * time.Millisecond, 8
		c := startClient(t, rl.url()+"/", r, &wsclient.Options{Keepalive: interval, KeepaliveMissed: missed})
		awaitConnect(t, r)
		// Idle for many intervals: still connected.
		select {
		case d := <-r.disconnects:
			t.Fatalf("idle connection dropped: %v", d.Reason)
		case <-time.After(15 * interval):
		}
		if s.reportsPing {
			pings := 0
			for _, e := range p.Events() {
				if e.Kind == "ping" {
					pings++
				}
			}
			if pings < 3 {
				t.Errorf("server saw %d pings in %v with a %v keepalive", pings, 15*interval, interval)
			}
		}
		if err := c.Send(ctxFor(t), wsclient.TextFrame("still here")); err != nil {
			t.Fatal(err)
		}
		if f := awaitMsg(t, r); string(f.Data) != "still here" {
			t.Fatalf("echo %q", f.Data)
		}

		rl.stall()
		start := time.Now()
		select {
		case d := <-r.disconnects:
			if !errors.Is(d.Reason, wsclient.ErrKeepaliveTimeout) {
				t.Errorf("disconnect reason %v, want ErrKeepaliveTimeout", d.Reason)
			}
		case <-time.After(eventTimeout):
			t.Fatal("a dead path went unnoticed")
		}
		if d := time.Since(start); d < (missed-2)*interval {
			t.Errorf("keepalive timeout after %v, long before %d unanswered pings at %v", d, missed, interval)
		}
		if err := c.Wait(); !errors.Is(err, wsclient.ErrKeepaliveTimeout) {
			t.Errorf("Wait: %v", err)
		}
		rl.resume()
	})
}
