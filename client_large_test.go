package wsclient_test

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/race"
	"github.com/wsclient/wsclient/wstest"
)

// A stream of large Casts reuses the client's copies: each Cast copies its
// frame (the caller may reuse its data at once), but the copy goes into a
// pooled buffer that comes back once the frame is written, so a client
// casting 1 MiB messages one after another does not allocate 1 MiB each.
func TestClientLargeCastReusesCopy(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	srv := sinkServer(t)
	h := newTH()
	c := start(t, srv.URL, h, wsclient.WithStopTimeout(100*time.Millisecond))
	h.expect(t, "init")
	h.expect(t, "connect")
	const size, n = 1 << 20, 20
	data := bytes.Repeat([]byte{'x'}, size)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	marker := wsclient.BinaryFrame([]byte("m"))
	cast := func() {
		if err := c.Cast(wsclient.BinaryFrame(data)); err != nil {
			t.Fatal(err)
		}
		// Send returns once its frame is written, so the large frame
		// before it is written and its copy given back.
		if err := c.Send(ctx, marker); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		cast()
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range n {
		cast()
	}
	runtime.ReadMemStats(&m1)
	// A collection may empty the pool once or twice (a fresh buffer
	// each time); without reuse every Cast allocates its size.
	if got := m1.TotalAlloc - m0.TotalAlloc; got > 4*size {
		t.Errorf("%d Casts of %d bytes allocated %d bytes (%.2f per Cast)", n, size, got, float64(got)/n)
	}
}

// Frames given to OnUndelivered are the handler's to keep (the
// UndeliveredHandler doc): their copies are not reused for later Casts,
// small or large.
func TestClientUndeliveredKept(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := wstest.NewServer(pongRecorder(&mu, &got, false, 4), wstest.WithT(t))
	h := newTH()
	h.mode = wsclient.StartDisconnected
	c := start(t, srv.URL, h, wsclient.WithConfirmation(0))
	h.expect(t, "init")
	var want []string
	for i, size := range []int{16, 16, 100 << 10, 100 << 10} {
		s := strings.Repeat(string(rune('a'+i)), size)
		want = append(want, s)
		if err := c.Cast(wsclient.TextFrame(s)); err != nil {
			t.Fatal(err)
		}
	}
	c.Connect()
	var und []wsclient.Frame
	for len(und) < len(want) {
		if e := h.next(t); e.kind == "undelivered" {
			und = append(und, e.f)
		}
	}
	// Casts while disconnected copy their frames into the outbox.
	for _, s := range want {
		if err := c.Cast(wsclient.TextFrame(strings.Repeat("z", len(s)))); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range und {
		if string(f.Data) != want[i] {
			t.Errorf("undelivered frame %d changed after later Casts: %.20q..., want %.20q...", i, f.Data, want[i])
		}
	}
}

// bigHandler signals the length of every data message HandleFrame sees,
// keeping nothing.
type bigHandler struct {
	wsclient.BaseHandler
	connected chan struct{}
	got       chan int
}

func (h *bigHandler) OnConnect(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
	close(h.connected)
	return wsclient.Action{}
}

func (h *bigHandler) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	if f.Type == wsclient.BinaryMessage || f.Type == wsclient.TextMessage {
		h.got <- len(f.Data)
	}
	return wsclient.Action{}
}

// bigServer sends one binary message of size bytes (0x5a each) per text
// message it reads, and "small" as a text message after each.
func bigServer(t *testing.T, size int) *wstest.Server {
	big := wstest.Frame{Fin: true, Opcode: wstest.OpBinary, Payload: bytes.Repeat([]byte{0x5a}, size)}.Bytes()
	small := wstest.Frame{Fin: true, Opcode: wstest.OpText, Payload: []byte("small")}.Bytes()
	return wstest.NewServer(func(sc *wstest.Conn) error {
		for {
			op, _, err := sc.ReadMessage()
			if err != nil || op == wstest.OpClose {
				return nil
			}
			if sc.WriteRaw(big) != nil || sc.WriteRaw(small) != nil {
				return nil
			}
		}
	}, wstest.WithT(t))
}

func startBig(t *testing.T, url string) (*wsclient.Client, *bigHandler) {
	h := &bigHandler{connected: make(chan struct{}), got: make(chan int, 16)}
	c := start(t, url, h, wsclient.WithStopTimeout(100*time.Millisecond))
	select {
	case <-h.connected:
	case <-time.After(10 * time.Second):
		t.Fatal("not connected")
	}
	return c, h
}

// ask has the server send a large message and "small", and waits for both.
func ask(t *testing.T, c *wsclient.Client, h *bigHandler, size int) {
	t.Helper()
	if err := c.Send(t.Context(), wsclient.TextFrame("next")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{size, len("small")} {
		select {
		case n := <-h.got:
			if n != want {
				t.Fatalf("message of %d bytes, want %d", n, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no message")
		}
	}
}

// A Client receiving a stream of large messages reuses one buffer: after
// each message it goes back to the shared pool, where the next message of
// that size takes it.
func TestClientLargeReadsReuseBuffer(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	const size, n = 1<<20 + 100, 20
	c, h := startBig(t, bigServer(t, size).URL)
	for range 3 {
		ask(t, c, h, size)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range n {
		ask(t, c, h, size)
	}
	runtime.ReadMemStats(&m1)
	if got := m1.TotalAlloc - m0.TotalAlloc; got > 4*size {
		t.Errorf("%d messages of %d bytes: %d bytes allocated (%.0f per message)", n, size, got, float64(got)/n)
	}
}

// An idle Client holds no large receive buffer: once a large message has
// been handled its buffer is the pool's, and the collector frees it.
func TestClientIdleHoldsNoLargeBuffer(t *testing.T) {
	const size = 8 << 20
	c, h := startBig(t, bigServer(t, size).URL)
	heap := func() uint64 {
		for range 3 {
			runtime.GC() // (twice at least: pools keep a victim cache)
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	h0 := heap()
	ask(t, c, h, size) // the reader passed "small": the large buffer is back
	if h1 := heap(); h1 > h0+size/4 {
		t.Errorf("heap %d bytes after an %d-byte message, %d before: the idle client holds its buffer", h1, size, h0)
	}
}
