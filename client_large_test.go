//go:build !js

package wsclient_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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
	c, _ := startConnected(t, srv.URL, &wsclient.Options{StopTimeout: 100 * time.Millisecond})
	const size, n = 1 << 20, 20
	data := bytes.Repeat([]byte{'x'}, size)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	marker := wsclient.Frame{Type: wsclient.BinaryMessage, Data: []byte("m")}
	cast := func() {
		if err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: data}); err != nil {
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
	c := start(t, srv.URL, h, &wsclient.Options{Confirm: 1 << 20})
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
	c := start(t, url, h, &wsclient.Options{StopTimeout: 100 * time.Millisecond})
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

// largeMsg returns message i of stream id: over 64 KiB (pooled sizes of
// several classes) and of content unique to (id, i), text-safe.
func largeMsg(id, i int) []byte {
	n := 64<<10 + 1 + (i*37%5)*41000 + i
	b := make([]byte, n)
	for j := range b {
		b[j] = 'A' + byte((id*31+i*7+j)%26)
	}
	return b
}

// integrityHandler checks that message i of the echoed stream is
// largeMsg(id, i) when HandleFrame starts and still when it ends (no one
// else writes into the buffer while the callback runs).
type integrityHandler struct {
	wsclient.BaseHandler
	id        int
	connected chan struct{}
	next      int
	n         int
	done      chan struct{}
	bad       atomic.Value // string
}

func (h *integrityHandler) OnConnect(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
	close(h.connected)
	return wsclient.Action{}
}

func (h *integrityHandler) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	if f.Type != wsclient.TextMessage {
		return wsclient.Action{}
	}
	want := largeMsg(h.id, h.next)
	if !bytes.Equal(f.Data, want) {
		h.bad.CompareAndSwap(nil, fmt.Sprintf("client %d: message %d differs on arrival (%d bytes, want %d)", h.id, h.next, len(f.Data), len(want)))
	}
	for range 20 {
		runtime.Gosched() // let the other client's reader and writers run
	}
	if !bytes.Equal(f.Data, want) {
		h.bad.CompareAndSwap(nil, fmt.Sprintf("client %d: message %d changed during HandleFrame", h.id, h.next))
	}
	h.next++
	if h.next == h.n {
		close(h.done)
	}
	return wsclient.Action{}
}

// Two clients in one process (sharing the big-buffer pools) cast streams
// of large messages, the caller overwriting its data right after each
// Cast, and an echo server sends them back: every message arrives intact
// and stays intact while HandleFrame runs.
//
// Also compressed: a decompressed message's buffer (grown to a power of
// two, a class size) goes to the pools too.
func TestClientLargeEchoIntact(t *testing.T) {
	t.Run("plain", func(t *testing.T) { largeEchoIntegrity(t, nil, nil) })
	t.Run("deflate", func(t *testing.T) {
		largeEchoIntegrity(t, []wstest.Option{wstest.WithDeflate(wstest.DeflateOptions{})},
			&wsclient.Dialer{Compression: &wsclient.CompressionOptions{}})
	})
}

func largeEchoIntegrity(t *testing.T, srvOpts []wstest.Option, d *wsclient.Dialer) {
	srv := wstest.NewServer(func(sc *wstest.Conn) error { return sc.Echo() }, append(srvOpts, wstest.WithT(t))...)
	const n = 30
	var wg sync.WaitGroup
	hs := make([]*integrityHandler, 2)
	for id := range hs {
		h := &integrityHandler{id: id, connected: make(chan struct{}), n: n, done: make(chan struct{})}
		hs[id] = h
		c := start(t, srv.URL, h, &wsclient.Options{Dialer: d, StopTimeout: time.Second, OutboxSize: n + 1})
		select {
		case <-h.connected:
		case <-time.After(10 * time.Second):
			t.Fatal("not connected")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range n {
				buf = append(buf[:0], largeMsg(id, i)...)
				if err := c.Cast(wsclient.Frame{Type: wsclient.TextMessage, Data: buf}); err != nil {
					t.Error(err)
					return
				}
				for j := range buf {
					buf[j] = '!' // the caller may reuse its data at once
				}
			}
		}()
	}
	wg.Wait()
	for _, h := range hs {
		select {
		case <-h.done:
		case <-time.After(30 * time.Second):
			t.Fatalf("client %d: %d of %d messages", h.id, h.next, n)
		}
		if s, _ := h.bad.Load().(string); s != "" {
			t.Error(s)
		}
	}
}

// Large frames written on a connection that drops, unconfirmed, are sent
// again on the next one intact and in order (their pooled copies are not
// reused meanwhile), and the client's copies are not shared with the
// caller's data.
func TestClientLargeRedeliveryIntact(t *testing.T) {
	var mu sync.Mutex
	var first, second []string
	var conns atomic.Int32
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		if conns.Add(1) == 1 {
			return pongRecorder(&mu, &first, false, 2)(sc)
		}
		return pongRecorder(&mu, &second, true, 0)(sc)
	}, wstest.WithT(t))
	h := newTH()
	h.mode = wsclient.KeepReconnecting
	c := start(t, srv.URL, h, &wsclient.Options{Confirm: 1 << 20, Redelivery: true, Backoff: wsclient.Backoff{Initial: time.Millisecond, Max: time.Millisecond}})
	h.expect(t, "init")
	const n = 8
	buf := make([]byte, 0, 1<<20)
	for i := range n {
		buf = append(buf[:0], largeMsg(9, i)...)
		if err := c.Cast(wsclient.Frame{Type: wsclient.TextMessage, Data: buf}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := c.Send(ctx, wsclient.TextFrame("end")); err != nil {
		t.Fatalf("SendConfirmed = %v", err)
	}
	// A frame whose write the drop cut short was never written: it goes
	// to OnUndelivered (with its data), the others are sent again, in
	// order.
	mu.Lock()
	defer mu.Unlock()
	if len(second) == 0 || second[len(second)-1] != "end" {
		t.Fatalf("second connection got %d messages, the last not \"end\"", len(second))
	}
	j := 0
	for i := range n {
		m := string(largeMsg(9, i))
		if j < len(second)-1 && second[j] == m {
			j++
			continue
		}
		for {
			e := h.next(t)
			if e.kind != "undelivered" {
				continue
			}
			if string(e.f.Data) != m {
				t.Fatalf("frame %d neither sent again nor reported; reported: %d bytes", i, len(e.f.Data))
			}
			break
		}
	}
	if j != len(second)-1 {
		t.Fatalf("second connection: message %d (%d bytes) is none of the frames cast, in order", j, len(second[j]))
	}
	for i, s := range first {
		if s != string(largeMsg(9, i)) {
			t.Fatalf("first connection: message %d differs (%d bytes)", i, len(s))
		}
	}
}

// A client stopped while it writes a large frame to a server that does
// not read reports that frame and the large frames queued behind it to
// OnUndelivered, each with its own data, which stays the handler's: later
// large Casts of another client (taking buffers from the shared pools)
// do not change it.
func TestClientLargeUndeliveredAtStopIntact(t *testing.T) {
	stall := wstest.NewServer(func(sc *wstest.Conn) error {
		<-sc.Context().Done() // never reads
		return nil
	}, wstest.WithT(t))
	h := newTH()
	c, err := wsclient.Start(t.Context(), stall.URL, h, &wsclient.Options{StopTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.expect(t, "init")
	h.expect(t, "connect")
	const n = 4
	want := make([][]byte, n)
	buf := make([]byte, 0, 4<<20)
	for i := range n {
		want[i] = bytes.Repeat(largeMsg(5, i), 16) // over a MiB each: the first fills the socket
		buf = append(buf[:0], want[i]...)
		if err := c.Cast(wsclient.Frame{Type: wsclient.TextMessage, Data: buf}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.Stop(ctx)
	if err := waitDone(t, c); err != nil {
		t.Logf("Wait = %v", err)
	}
	var und [][]byte
	for e := range len(h.ev) {
		_ = e
		if ev := <-h.ev; ev.kind == "undelivered" {
			und = append(und, ev.f.Data) // not copied: the handler's own
		}
	}
	if len(und) == 0 {
		t.Fatal("no frame reported undelivered")
	}
	// The reported frames are the last ones cast, in order (those before
	// them were written).
	off := n - len(und)
	check := func(when string) {
		for i, d := range und {
			if !bytes.Equal(d, want[off+i]) {
				t.Fatalf("%s: undelivered frame %d (%d bytes) differs from frame %d cast", when, i, len(d), off+i)
			}
		}
	}
	check("at once")
	echo := wstest.NewServer(func(sc *wstest.Conn) error { return sc.Echo() }, wstest.WithT(t))
	h2 := newTH()
	c2 := start(t, echo.URL, h2)
	h2.expect(t, "init")
	h2.expect(t, "connect")
	for i := range 3 * n {
		junk := bytes.Repeat([]byte{'#'}, len(want[i%n]))
		if err := c2.Cast(wsclient.Frame{Type: wsclient.TextMessage, Data: junk}); err != nil {
			t.Fatal(err)
		}
		if e := h2.until(t, "frame"); len(e.f.Data) != len(junk) {
			t.Fatalf("echo of %d bytes, want %d", len(e.f.Data), len(junk))
		}
	}
	check("after other large Casts")
}
