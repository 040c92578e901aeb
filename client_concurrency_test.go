//go:build !js

package wsclient_test

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// goid returns the calling goroutine's ID, from the first line of its
// stack ("goroutine 42 [running]:").
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic("goid: cannot parse " + string(buf[:]))
	}
	return id
}

// gidHandler records the callbacks, checks that none overlaps another,
// and keeps state without locks (calls, seq): with -race, a callback that
// did not happen-before the next would be reported.
type gidHandler struct {
	calls  []string // no lock: callbacks are serialised
	seq    int
	active atomic.Int32
	bad    atomic.Value
	gids   map[string]uint64
	pongs  chan struct{}
}

func (h *gidHandler) rec(name string) {
	if h.active.Add(1) != 1 {
		h.bad.Store(name + " overlapped another callback")
	}
	h.calls = append(h.calls, name)
	h.seq++
	h.gids[name] = goid()
	time.Sleep(time.Millisecond) // not synchronisation: a slow callback, so that an overlap would show
	h.active.Add(-1)
}

func (h *gidHandler) Init(*wsclient.Client) (wsclient.InitMode, error) {
	h.rec("Init")
	return wsclient.ConnectOnce, nil
}

func (h *gidHandler) OnConnect(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
	h.rec("OnConnect")
	return wsclient.Reply(wsclient.Frame{Type: wsclient.PingMessage, Data: []byte("client ping")})
}

func (h *gidHandler) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	h.rec("HandleFrame/" + f.Type.String())
	if f.Type == wsclient.PongMessage {
		close(h.pongs)
	}
	return wsclient.Action{}
}

func (h *gidHandler) HandleInfo(*wsclient.Client, any) wsclient.Action {
	h.rec("HandleInfo")
	// A frame of a bad type goes to OnUndelivered; "bye" makes the server
	// close.
	return wsclient.Reply(wsclient.Frame{Type: wsclient.CloseMessage}, wsclient.TextFrame("bye"))
}

func (h *gidHandler) OnDisconnect(*wsclient.Client, wsclient.Disconnect) wsclient.DisconnectAction {
	h.rec("OnDisconnect")
	return wsclient.StopWith(nil)
}

func (h *gidHandler) OnUndelivered(*wsclient.Client, wsclient.Frame, error) {
	h.rec("OnUndelivered")
}

func (h *gidHandler) Terminate(*wsclient.Client, error) { h.rec("Terminate") }

// Callbacks never overlap and each happens-before the next, although they
// run on several goroutines (issue 9): Init on Serve's, HandleFrame on the
// reader's, HandleInfo on the mail goroutine's.
func TestClientCallbacksSerialised(t *testing.T) {
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		sc.WriteMessage(wstest.OpText, []byte("hello"))
		sc.WriteMessage(wstest.OpBinary, []byte{1, 2})
		sc.WriteFrame(true, 0, wstest.OpPing, []byte("server ping"))
		for {
			op, p, err := sc.ReadMessage()
			if err != nil {
				return nil
			}
			switch op {
			case wstest.OpPing:
				sc.WriteFrame(true, 0, wstest.OpPong, p)
			case wstest.OpText:
				if string(p) == "bye" {
					sc.Close(4000, "as asked")
				}
			case wstest.OpClose:
				return nil
			}
		}
	}, wstest.WithT(t))
	h := &gidHandler{gids: map[string]uint64{}, pongs: make(chan struct{})}
	c := wsclient.New(srv.URL, h, nil)
	serveG := make(chan uint64, 1)
	served := make(chan error, 1)
	go func() {
		serveG <- goid()
		served <- c.Serve(t.Context())
	}()
	select {
	case <-h.pongs:
	case <-time.After(10 * time.Second):
		t.Fatal("no pong")
	}
	// The server's frames came before its pong, in order on one connection.
	if err := c.Post("go on"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	want := <-serveG
	if b := h.bad.Load(); b != nil {
		t.Fatal(b)
	}
	for _, name := range []string{"Init", "OnConnect", "HandleFrame/text", "HandleFrame/binary",
		"HandleFrame/ping", "HandleFrame/pong", "HandleInfo", "OnUndelivered", "OnDisconnect", "Terminate"} {
		if _, ok := h.gids[name]; !ok {
			t.Errorf("%s was not called (calls %v)", name, h.calls)
		}
	}
	if h.gids["Init"] != want {
		t.Errorf("Init ran on goroutine %d, Serve on %d", h.gids["Init"], want)
	}
	if h.seq != len(h.calls) || h.calls[len(h.calls)-1] != "Terminate" {
		t.Errorf("calls %v", h.calls)
	}
}

// Cast never waits for the network: with a server that does not read and a
// frame far larger than the socket buffers already being written, Casts
// return at once, in order with what is queued.
func TestClientCastDoesNotBlock(t *testing.T) {
	release := make(chan struct{})
	got := make(chan []string, 1)
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		select {
		case <-release:
		case <-sc.Context().Done():
			return nil
		}
		return textRecorder(got)(sc)
	}, wstest.WithT(t), wstest.WithRecordLimit(0))
	c, h := startConnected(t, srv.URL)
	big := make([]byte, 64<<20)
	casts := make(chan error, 1)
	go func() {
		// The first Cast copies 64 MiB; none waits for the server.
		err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: big})
		for i := range 3 {
			if err == nil {
				err = c.Cast(wsclient.TextFrame(strconv.Itoa(i)))
			}
		}
		casts <- err
	}()
	select {
	case err := <-casts:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Cast blocked on a server that does not read")
	}
	close(release)
	for range 3 {
		h.expect(t, "frame") // the text echoes: the server got everything
	}
	c.Stop(t.Context())
	if texts := <-got; !slices.Equal(texts, []string{"0", "1", "2"}) {
		t.Fatalf("server got %q", texts)
	}
}

// Stop is bounded by the stop timeout even while a reply of 64 MiB is
// stuck on a server that never reads; Terminate runs and the stuck frame
// is handed back. The same holds when Serve's context is cancelled.
func TestClientStopWithStuckReply(t *testing.T) {
	stalled := make(chan struct{}, 1)
	srv := wstest.NewServer(readThenStall(1<<20, stalled), wstest.WithT(t))
	for _, how := range []string{"Stop", "cancel"} {
		t.Run(how, func(t *testing.T) {
			h := newTH()
			h.info = func(*wsclient.Client, any) wsclient.Action {
				return wsclient.Reply(wsclient.Frame{Type: wsclient.BinaryMessage, Data: make([]byte, 16<<20)})
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			c, err := wsclient.Start(ctx, srv.URL, h, &wsclient.Options{StopTimeout: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			h.expect(t, "init")
			h.expect(t, "connect")
			c.Post("reply big")
			h.expect(t, "info")
			recvT(t, stalled) // the writer is stuck in the reply now
			t0 := time.Now()
			switch how {
			case "Stop":
				sctx, scancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer scancel()
				if err := c.Stop(sctx); err != nil {
					t.Fatalf("Stop = %v after %v", err, time.Since(t0))
				}
			case "cancel":
				cancel()
				waitDone(t, c)
			}
			// Without the stop timeout, Stop would wait for its 5 s
			// context; the slack covers -race and a loaded CI machine.
			if el := time.Since(t0); el > 3*time.Second {
				t.Fatalf("took %v with a stop timeout of 500ms", el)
			}
			var kinds []string
			for e := h.next(t); ; e = h.next(t) {
				kinds = append(kinds, e.kind)
				if e.kind == "undelivered" && len(e.f.Data) != 16<<20 {
					t.Errorf("undelivered %v", e.f)
				}
				if e.kind == "terminate" {
					break
				}
			}
			if !slices.Equal(kinds, []string{"undelivered", "terminate"}) {
				t.Fatalf("callbacks %v", kinds)
			}
		})
	}
}

// A handler that echoes every message back to an echo server, with more
// bytes in flight than the socket buffers hold both ways: the reader must
// keep reading while replies wait to be written, and no callback waits for
// the network.
func TestClientEchoStormNoDeadlock(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithRecordLimit(0))
	const inFlight, size, rounds = 64, 512 << 10, 256
	payload := make([]byte, size)
	seen := 0
	h := newTH()
	h.ev = make(chan ev, 1<<12)
	h.connect = func(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
		frames := make([]wsclient.Frame, inFlight)
		for i := range frames {
			frames[i] = wsclient.Frame{Type: wsclient.BinaryMessage, Data: payload}
		}
		return wsclient.Reply(frames...)
	}
	h.frame = func(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
		seen++
		if seen == rounds {
			c.CloseConn(wsclient.CloseNormalClosure, "done")
			return wsclient.Action{}
		}
		if seen > rounds-inFlight {
			return wsclient.Action{}
		}
		return wsclient.Reply(f) // the buffer is reused: the reply is a copy
	}
	c := start(t, srv.URL, h, &wsclient.Options{OutboxSize: 2 * inFlight})
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("stuck after %d of %d echoes; stats %+v", c.Stats().MessagesIn, rounds, c.Stats())
	}
	if st := c.Stats(); st.MessagesIn != rounds || st.MessagesOut != rounds || st.Undelivered != 0 {
		t.Fatalf("stats %+v", st)
	}
}
