//go:build !js

package wsclient_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/netfault"
	"github.com/wsclient/wsclient/wstest"
)

// Frames cast while disconnected wait in the outbox, in order, and go out
// after OnConnect's replies; Cast copies the data; Send returns once its
// frame is written.
func TestClientOutboxFlushAfterOnConnect(t *testing.T) {
	got := make(chan []string, 1)
	srv := wstest.NewServer(textRecorder(got), wstest.WithT(t))
	h := newTH()
	h.mode = wsclient.StartDisconnected
	h.connect = func(c *wsclient.Client, _ wsclient.ConnInfo) wsclient.Action {
		// Cast from OnConnect queues behind what is waiting.
		if err := c.Cast(wsclient.TextFrame("4")); err != nil {
			t.Errorf("Cast in OnConnect: %v", err)
		}
		return wsclient.Reply(wsclient.TextFrame("auth"))
	}
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	buf := []byte("1")
	if err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: buf}); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X' // Cast copied it
	c.Cast(wsclient.TextFrame("2"))
	sent := make(chan error, 1)
	go func() { sent <- c.Send(t.Context(), wsclient.TextFrame("3")) }()
	select {
	case err := <-sent:
		t.Fatalf("Send returned %v while disconnected", err)
	case <-time.After(50 * time.Millisecond):
	}
	c.Connect()
	if err := <-sent; err != nil {
		t.Fatalf("Send = %v", err)
	}
	h.expect(t, "connect")
	for range 4 {
		h.expect(t, "frame")
	}
	c.Stop(t.Context())
	texts := <-got
	if !slices.Equal(texts, []string{"auth", "2", "3", "4"}) {
		t.Fatalf("server got %q", texts)
	}
	frames := srv.Conns()[0].Frames()
	if frames[1].Opcode != wstest.OpBinary || string(frames[1].Payload) != "1" {
		t.Fatalf("second frame %v %q", frames[1].Opcode, frames[1].Payload)
	}
}

// A full outbox refuses frames synchronously.
func TestClientOutboxFull(t *testing.T) {
	h := newTH()
	h.mode = wsclient.StartDisconnected
	c := start(t, closedURL(t), h, &wsclient.Options{OutboxSize: 2})
	h.expect(t, "init")
	for i := range 2 {
		if err := c.Cast(wsclient.TextFrame(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Cast(wsclient.TextFrame("x")); !errors.Is(err, wsclient.ErrOutboxFull) {
		t.Fatalf("Cast = %v", err)
	}
	// Send is not refused: it waits for its turn (here until its context
	// ends, as the client never connects).
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if err := c.Send(ctx, wsclient.TextFrame("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v", err)
	}
	if err := c.Cast(wsclient.Frame{Type: wsclient.CloseMessage}); !errors.Is(err, wsclient.ErrBadFrame) {
		t.Fatalf("Cast close = %v", err)
	}
	if err := c.Cast(wsclient.Frame{Type: wsclient.PingMessage, Data: make([]byte, 126)}); !errors.Is(err, wsclient.ErrBadFrame) {
		t.Fatalf("Cast ping = %v", err)
	}
}

// At termination the frames still waiting are handed back: Cast frames to
// OnUndelivered (in order), Send with ErrTerminated.
func TestClientUndeliveredAtStop(t *testing.T) {
	h := newTH()
	h.mode = wsclient.StartDisconnected
	c := start(t, closedURL(t), h)
	h.expect(t, "init")
	c.Cast(wsclient.TextFrame("a"))
	c.Cast(wsclient.TextFrame("b"))
	sent := make(chan error, 1)
	sctx := newWaitCtx(context.Background())
	go func() { sent <- c.Send(sctx, wsclient.TextFrame("s")) }()
	recvT(t, sctx.waiting) // Send's frame is queued: Send waits for it
	c.Stop(t.Context())
	var und []string
	for e := h.next(t); e.kind != "terminate"; e = h.next(t) {
		if e.kind != "undelivered" || !errors.Is(e.err, wsclient.ErrClosed) {
			t.Fatalf("callback %s %v", e.kind, e.err)
		}
		und = append(und, string(e.f.Data))
	}
	if !slices.Equal(und, []string{"a", "b"}) {
		t.Fatalf("undelivered %q", und)
	}
	if err := <-sent; !errors.Is(err, wsclient.ErrClosed) {
		t.Fatalf("Send = %v", err)
	}
	if n := c.Stats().Undelivered; n != 2 {
		t.Fatalf("Stats.Undelivered = %d", n)
	}
}

// waitCtx is a context that tells when someone first waits on it: the
// first call of Done closes waiting. Send calls it once its frame is in
// the outbox, to wait for the frame's fate.
type waitCtx struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func newWaitCtx(parent context.Context) *waitCtx {
	return &waitCtx{Context: parent, waiting: make(chan struct{})}
}

func (c *waitCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

// A Send whose context ends while it waits is withdrawn: never written.
func TestClientSendWithdrawn(t *testing.T) {
	got := make(chan []string, 1)
	srv := wstest.NewServer(textRecorder(got), wstest.WithT(t))
	h := newTH()
	h.mode = wsclient.StartDisconnected
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := c.Send(ctx, wsclient.TextFrame("withdrawn")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v", err)
	}
	c.Cast(wsclient.TextFrame("kept"))
	c.Connect()
	h.expect(t, "connect")
	h.expect(t, "frame")
	c.Stop(t.Context())
	if texts := <-got; !slices.Equal(texts, []string{"kept"}) {
		t.Fatalf("server got %q", texts)
	}
}

// Replies from HandleInfo while disconnected wait in the outbox; a frame
// of a bad type is handed to OnUndelivered.
func TestClientReplyWhileDisconnected(t *testing.T) {
	got := make(chan []string, 1)
	srv := wstest.NewServer(textRecorder(got), wstest.WithT(t))
	h := newTH()
	h.mode = wsclient.StartDisconnected
	h.info = func(c *wsclient.Client, msg any) wsclient.Action {
		return wsclient.Reply(wsclient.TextFrame(msg.(string)), wsclient.Frame{Type: wsclient.CloseMessage})
	}
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	c.Post("queued")
	h.expect(t, "info")
	if e := h.expect(t, "undelivered"); !errors.Is(e.err, wsclient.ErrBadFrame) {
		t.Fatalf("undelivered %v", e.err)
	}
	c.Connect()
	h.expect(t, "connect")
	h.expect(t, "frame")
	c.Stop(t.Context())
	if texts := <-got; !slices.Equal(texts, []string{"queued"}) {
		t.Fatalf("server got %q", texts)
	}
}

// Many goroutines Cast, Send and Post at once (run with -race): every
// frame is echoed or, for HandleInfo's replies that find the outbox full,
// handed to OnUndelivered. The outbox is smaller than what the casters
// send, so they meet ErrOutboxFull and fall back to Send.
func TestClientConcurrentSenders(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithRecordLimit(0))
	const casters, senders, posters, per = 8, 4, 4, 200
	const total = (casters + senders + posters) * per
	var echoed, refusedReplies atomic.Int64
	accounted := make(chan struct{}) // closed when echoes and refused replies make total
	calls := 0                       // handler state without a lock: callbacks never overlap
	h := newTH()
	h.frame = func(*wsclient.Client, wsclient.Frame) wsclient.Action {
		calls++
		if echoed.Add(1)+refusedReplies.Load() == total {
			close(accounted)
		}
		return wsclient.Action{}
	}
	h.info = func(_ *wsclient.Client, msg any) wsclient.Action {
		calls++
		return wsclient.Reply(wsclient.TextFrame(msg.(string)))
	}
	h.undeliver = func(_ *wsclient.Client, f wsclient.Frame, err error) {
		calls++
		if !errors.Is(err, wsclient.ErrOutboxFull) {
			t.Errorf("undelivered %v: %v", f, err)
		}
		if refusedReplies.Add(1)+echoed.Load() == total {
			close(accounted)
		}
	}
	h.ev = make(chan ev, 1<<16)
	c := start(t, srv.URL, h, &wsclient.Options{OutboxSize: 64})
	h.expect(t, "init")
	h.expect(t, "connect")
	var wg sync.WaitGroup
	for g := range casters + senders + posters {
		wg.Go(func() {
			for i := range per {
				msg := fmt.Sprintf("g%d-%d", g, i)
				var err error
				switch {
				case g < casters:
					// With the outbox full, Send waits for room.
					if err = c.Cast(wsclient.TextFrame(msg)); errors.Is(err, wsclient.ErrOutboxFull) {
						err = c.Send(t.Context(), wsclient.TextFrame(msg))
					}
				case g < casters+senders:
					err = c.Send(t.Context(), wsclient.TextFrame(msg))
				default:
					err = c.Post(msg)
				}
				if err != nil {
					t.Error(err)
					return
				}
				_ = c.Stats()
				_ = c.State()
			}
		})
	}
	wg.Wait()
	select {
	case <-accounted:
	case <-time.After(10 * time.Second):
	}
	n, r := echoed.Load(), refusedReplies.Load()
	if n+r != total || r > posters*per {
		t.Fatalf("echoed %d + refused replies %d, want %d; stats %+v", n, r, total, c.Stats())
	}
	if st := c.Stats(); int64(st.MessagesOut) != n || int64(st.MessagesIn) != n || int64(st.Undelivered) != r {
		t.Fatalf("stats %+v", st)
	}
	c.Stop(t.Context())
	if want := total + posters*per; calls != want {
		t.Fatalf("callbacks counted %d, want %d", calls, want)
	}
	t.Logf("echoed %d, replies refused with the outbox full %d", n, r)
}

// Message fate under churn: with the server dropping connections and the
// client reconnecting, every frame Cast accepted is either written or
// handed to OnUndelivered, none lost in silence.
func TestClientFateAccounting(t *testing.T) {
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		for range 37 {
			op, p, err := sc.ReadMessage()
			if err != nil {
				return nil
			}
			if op == wstest.OpText {
				sc.WriteMessage(op, p)
			}
		}
		return sc.Drop()
	}, wstest.WithT(t), wstest.WithRecordLimit(0))
	var undelivered atomic.Int64
	h := newTH()
	h.ev = make(chan ev, 1<<16)
	h.mode = wsclient.KeepReconnecting
	h.undeliver = func(*wsclient.Client, wsclient.Frame, error) { undelivered.Add(1) }
	c := start(t, srv.URL, h, &wsclient.Options{OutboxSize: 1 << 20, Backoff: wsclient.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond}})
	const goroutines, per = 4, 500
	var accepted, refused atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for i := range per {
				if c.Cast(wsclient.TextFrame(fmt.Sprint(i))) == nil {
					accepted.Add(1)
				} else {
					refused.Add(1)
				}
				if i%50 == 0 {
					time.Sleep(time.Millisecond) // the producers' pace, so that casts meet the server's drops
				}
			}
		})
	}
	wg.Wait()
	// On a loaded machine the producers may finish before the first
	// reconnect: go on casting until one has happened (the casts make the
	// server drop the connection; the pause paces them, it does not wait
	// for anything).
	total := int64(goroutines * per)
	for deadline := time.Now().Add(10 * time.Second); c.Stats().Reconnects == 0 && time.Now().Before(deadline); total++ {
		if c.Cast(wsclient.TextFrame("more")) == nil {
			accepted.Add(1)
		} else {
			refused.Add(1)
		}
		time.Sleep(time.Millisecond)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if accepted.Load()+refused.Load() != total {
		t.Fatalf("accounting broken")
	}
	if int64(st.MessagesOut)+undelivered.Load() != accepted.Load() || int64(st.Undelivered) != undelivered.Load() {
		t.Fatalf("accepted %d, written %d + undelivered %d (refused %d)", accepted.Load(), st.MessagesOut, undelivered.Load(), refused.Load())
	}
	if st.Reconnects == 0 {
		t.Fatalf("no reconnects: %+v", st)
	}
	t.Logf("accepted %d written %d undelivered %d refused %d reconnects %d", accepted.Load(), st.MessagesOut, undelivered.Load(), refused.Load(), st.Reconnects)
}

// A large outbox flushed to an echo server: more bytes than the socket
// buffers hold, so the echoes must be read while the flush goes on.
func TestClientLargeFlush(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithRecordLimit(0))
	const n = 400
	var got atomic.Int64
	all := make(chan struct{}) // closed with the n-th echo
	h := newTH()
	h.mode = wsclient.StartDisconnected
	h.frame = func(*wsclient.Client, wsclient.Frame) wsclient.Action {
		if got.Add(1) == n {
			close(all)
		}
		return wsclient.Action{}
	}
	h.ev = make(chan ev, 1<<12)
	c := start(t, srv.URL, h, &wsclient.Options{ReadBufferRetain: 64 << 10})
	big := make([]byte, 128<<10) // 50 MiB in all
	for range n {
		if err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: big}); err != nil {
			t.Fatal(err)
		}
	}
	c.Connect()
	select {
	case <-all:
	case <-time.After(20 * time.Second):
	}
	if got.Load() != n {
		t.Fatalf("%d of %d echoes", got.Load(), n)
	}
}

// A batch write that fails part-way settles each frame by the bytes the
// socket took: the frames written in full count as written (the server
// has them), the frame cut part-way and those after it go to
// OnUndelivered, in order; none is reported both ways.
func TestClientPartialBatchWrite(t *testing.T) {
	got := make(chan []string, 1)
	srv := wstest.NewServer(textRecorder(got), wstest.WithT(t))
	var d wsclient.Dialer
	// Each frame is 2+4+1 bytes: cut the fourth frame after 4 bytes, so
	// the fifth is not written at all.
	d.NetDialContext = netfault.Dial(func(nc net.Conn) net.Conn { return &netfault.CutConn{Conn: nc, Cut: 3 + 7} })
	h := newTH()
	h.mode = wsclient.StartDisconnected
	c := start(t, srv.URL, h, &wsclient.Options{Dialer: &d})
	h.expect(t, "init")
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		if err := c.Cast(wsclient.TextFrame(s)); err != nil {
			t.Fatal(err)
		}
	}
	c.Connect()
	h.expect(t, "connect")
	var und []string
	for len(und) < 2 {
		e := h.next(t)
		if e.kind != "undelivered" {
			continue
		}
		if e.err == nil {
			t.Fatalf("undelivered %q without an error", e.f.Data)
		}
		und = append(und, string(e.f.Data))
	}
	if !slices.Equal(und, []string{"d", "e"}) {
		t.Fatalf("undelivered %q, want [d e]", und)
	}
	if texts := <-got; !slices.Equal(texts, []string{"a", "b", "c"}) {
		t.Fatalf("server got %q", texts)
	}
	c.Stop(t.Context())
	c.Wait()
	if st := c.Stats(); st.MessagesOut != 3 || st.Undelivered != 2 {
		t.Fatalf("MessagesOut %d, Undelivered %d; want 3, 2", st.MessagesOut, st.Undelivered)
	}
}
