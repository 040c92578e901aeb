//go:build !js

package wsclient_test

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// The helpers of the external test package wsclient_test (package
// wsclient's own tests have theirs in helpers_test.go): a recording
// handler, starting a client, waiting, and server scripts shared by the
// Client's tests.

// th is a configurable test handler that records every callback.
type th struct {
	wsclient.BaseHandler
	mode      wsclient.InitMode
	initErr   error
	connect   func(c *wsclient.Client, info wsclient.ConnInfo) wsclient.Action
	disc      func(c *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction
	frame     func(c *wsclient.Client, f wsclient.Frame) wsclient.Action
	info      func(c *wsclient.Client, msg any) wsclient.Action
	term      func(c *wsclient.Client, reason error)
	undeliver func(c *wsclient.Client, f wsclient.Frame, err error)

	ev chan ev
}

// ev is one recorded callback.
type ev struct {
	kind  string // init, connect, disconnect, frame, info, terminate, undelivered
	info  wsclient.ConnInfo
	d     wsclient.Disconnect
	f     wsclient.Frame // Data copied
	msg   any
	err   error
	at    time.Time
	state wsclient.State
}

func newTH() *th { return &th{ev: make(chan ev, 4096)} }

func (h *th) rec(c *wsclient.Client, e ev) {
	e.at = time.Now()
	e.state = c.State()
	select {
	case h.ev <- e:
	default:
		panic("th: event buffer full")
	}
}

func (h *th) Init(c *wsclient.Client) (wsclient.InitMode, error) {
	h.rec(c, ev{kind: "init"})
	return h.mode, h.initErr
}

func (h *th) OnConnect(c *wsclient.Client, info wsclient.ConnInfo) wsclient.Action {
	h.rec(c, ev{kind: "connect", info: info})
	if h.connect != nil {
		return h.connect(c, info)
	}
	return wsclient.Action{}
}

func (h *th) OnDisconnect(c *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	h.rec(c, ev{kind: "disconnect", d: d, err: d.Reason})
	if h.disc != nil {
		return h.disc(c, d)
	}
	return wsclient.DisconnectAction{}
}

func (h *th) HandleFrame(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
	h.rec(c, ev{kind: "frame", f: wsclient.Frame{Type: f.Type, Data: bytes.Clone(f.Data)}})
	if h.frame != nil {
		return h.frame(c, f)
	}
	return wsclient.Action{}
}

func (h *th) HandleInfo(c *wsclient.Client, msg any) wsclient.Action {
	h.rec(c, ev{kind: "info", msg: msg})
	if h.info != nil {
		return h.info(c, msg)
	}
	return wsclient.Action{}
}

func (h *th) Terminate(c *wsclient.Client, reason error) {
	h.rec(c, ev{kind: "terminate", err: reason})
	if h.term != nil {
		h.term(c, reason)
	}
}

func (h *th) OnUndelivered(c *wsclient.Client, f wsclient.Frame, err error) {
	h.rec(c, ev{kind: "undelivered", f: f, err: err})
	if h.undeliver != nil {
		h.undeliver(c, f, err)
	}
}

// next returns the next event, failing after a timeout.
func (h *th) next(t *testing.T) ev {
	t.Helper()
	select {
	case e := <-h.ev:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a callback")
		return ev{}
	}
}

// expect returns the next event and checks its kind.
func (h *th) expect(t *testing.T, kind string) ev {
	t.Helper()
	e := h.next(t)
	if e.kind != kind {
		t.Fatalf("got callback %s (%v %v %v), want %s", e.kind, e.f, e.err, e.msg, kind)
	}
	return e
}

// until skips events until one of kind arrives.
func (h *th) until(t *testing.T, kind string) ev {
	t.Helper()
	for {
		if e := h.next(t); e.kind == kind {
			return e
		}
	}
}

// noMore checks that no callback arrives within d.
func (h *th) noMore(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case e := <-h.ev:
		t.Fatalf("unexpected callback %s (%v %v)", e.kind, e.f, e.err)
	case <-time.After(d):
	}
}

// start starts a client for url with the options opts holds (at most one;
// none means the defaults) and stops it when the test ends.
func start(t *testing.T, url string, h wsclient.Handler, opts ...*wsclient.Options) *wsclient.Client {
	t.Helper()
	var o *wsclient.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	c, err := wsclient.Start(t.Context(), url, h, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Stop(ctx)
		c.Wait()
	})
	return c
}

// startConnected starts a client on url with a new recording handler (th)
// and opts, registered for a stop at the test's end (see start), and waits
// for its Init and OnConnect.
func startConnected(t *testing.T, url string, opts ...*wsclient.Options) (*wsclient.Client, *th) {
	t.Helper()
	h := newTH()
	c := start(t, url, h, opts...)
	h.expect(t, "init")
	h.expect(t, "connect")
	waitNoCallback(t, c) // OnConnect has returned
	return c, h
}

func waitDone(t *testing.T, c *wsclient.Client) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("client did not terminate")
		return nil
	}
}

// syncBuffer is a goroutine-safe bytes.Buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// readThenStall is a server script that takes the first n bytes the
// client sends, sends a value on stalled, and then reads nothing more: a
// client frame larger than n plus the socket buffers (a few MiB) is then
// stuck in the client's writer, which the value tells. It reads the socket
// directly (the client sends nothing before the handshake's answer).
func readThenStall(n int, stalled chan<- struct{}) func(*wstest.Conn) error {
	return func(sc *wstest.Conn) error {
		_, err := io.ReadFull(sc.NetConn(), make([]byte, n))
		stalled <- struct{}{}
		if err != nil {
			return nil
		}
		<-sc.Context().Done()
		return nil
	}
}

func recvT[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
		var zero T
		return zero
	}
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// serverScript is a wstest server script that reads the client's messages
// and does what its fields say; the server answers the client's close and
// ends.
type serverScript struct {
	onText    func(string)        // called for each text message, if set
	echo      bool                // echo text messages
	pong      func([]byte) []byte // a ping's answer is a pong with pong(payload); nil: pings go unanswered
	dropAfter int                 // drop the connection after this many text messages (0: never)
	onEnd     func()              // called when the script ends, if set
}

func (s serverScript) run(sc *wstest.Conn) error {
	if s.onEnd != nil {
		defer s.onEnd()
	}
	for n := 0; ; {
		op, p, err := sc.ReadMessage()
		if err != nil {
			return nil
		}
		switch op {
		case wstest.OpText:
			if s.onText != nil {
				s.onText(string(p))
			}
			if s.echo {
				sc.WriteMessage(op, p)
			}
			if n++; n == s.dropAfter {
				return sc.Drop()
			}
		case wstest.OpPing:
			if s.pong != nil {
				sc.WriteFrame(true, 0, wstest.OpPong, s.pong(p))
			}
		case wstest.OpClose:
			sc.WriteFrame(true, 0, wstest.OpClose, p)
			return nil
		}
	}
}

// samePayload answers a ping as RFC 6455 wants: with its payload.
func samePayload(p []byte) []byte { return p }

// appendLocked returns an onText that appends to *got under mu.
func appendLocked(mu *sync.Mutex, got *[]string) func(string) {
	return func(s string) {
		mu.Lock()
		*got = append(*got, s)
		mu.Unlock()
	}
}

// pongRecorder records the text messages it reads, answers pings when pong
// is set, and drops the connection after drop messages (0: never).
func pongRecorder(mu *sync.Mutex, got *[]string, pong bool, drop int) func(*wstest.Conn) error {
	s := serverScript{onText: appendLocked(mu, got), dropAfter: drop}
	if pong {
		s.pong = samePayload
	}
	return s.run
}

// echoRecorder records the text messages it reads and echoes them,
// answering pings when pong is set. A server that answers no pings
// confirms nothing.
func echoRecorder(mu *sync.Mutex, got *[]string, pong bool) func(*wstest.Conn) error {
	s := serverScript{onText: appendLocked(mu, got), echo: true}
	if pong {
		s.pong = samePayload
	}
	return s.run
}

// textRecorder echoes the text messages it reads and sends the slice of
// them on got when the script ends.
func textRecorder(got chan<- []string) func(*wstest.Conn) error {
	return func(sc *wstest.Conn) error {
		var texts []string
		return serverScript{
			onText: func(s string) { texts = append(texts, s) },
			echo:   true,
			onEnd:  func() { got <- texts },
		}.run(sc)
	}
}

// mismatchServer sends the text messages it reads to got (when not nil)
// and answers each ping with pong(payload).
func mismatchServer(got chan<- string, pong func([]byte) []byte) func(*wstest.Conn) error {
	s := serverScript{pong: pong}
	if got != nil {
		s.onText = func(m string) { got <- m }
	}
	return s.run
}

// waitNoCallback waits until no callback of c runs, so that a Send made
// next is not taken for one made while a callback runs (which returns once
// written, without waiting for confirmation). h.next returns while the
// callback that recorded the event may still run.
func waitNoCallback(t *testing.T, c *wsclient.Client) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); wsclient.InCallback(c); runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("a callback did not return")
		}
	}
}
