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
	"github.com/wsclient/wsclient/wstest"
)

// A stream of large Casts reuses the client's copies: each Cast copies its
// frame (the caller may reuse its data at once), but the copy goes into a
// pooled buffer that comes back once the frame is written, so a client
// casting 1 MiB messages one after another does not allocate 1 MiB each.
func TestClientLargeCastReusesCopy(t *testing.T) {
	if raceEnabled {
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
