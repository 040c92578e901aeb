package wsclient

import (
	"context"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// gidHandler records the goroutine that runs each OnConnect.
type gidHandler struct {
	BaseHandler
	gids chan uint64
}

func (h *gidHandler) OnConnect(*Client, ConnInfo) Action {
	h.gids <- curGoid()
	return Action{}
}

// Clients started one after another dial on one goroutine: an attempt is
// handed to the dialling goroutine that finished the previous one, which
// ends dialLinger after its last attempt.
func TestClientDialGoroutineReused(t *testing.T) {
	// Dialling goroutines left waiting by earlier tests would take turns
	// with this test's: let them end first (they wait dialLinger).
	for deadline := time.Now().Add(5 * time.Second); dialWaiting.Load() != 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	before := goleak.IgnoreCurrent()
	d := memDialer()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	h := &gidHandler{gids: make(chan uint64, 1)}
	const n = 20
	reused := 0
	var last uint64
	for i := range n {
		c, err := Start(context.Background(), "ws://example.com/chat", h, &Options{Dialer: d})
		if err != nil {
			t.Fatal(err)
		}
		var g uint64
		select {
		case g = <-h.gids:
		case <-clientDone(c):
			t.Fatalf("client %d ended: %v", i, c.Wait())
		}
		_ = c.Stop(ended)
		<-clientDone(c)
		// Let the attempt's goroutine reach its wait (it has dialLinger
		// to do so; a loaded machine may take longer).
		for deadline := time.Now().Add(5 * time.Second); dialWaiting.Load() == 0 && time.Now().Before(deadline); {
			runtime.Gosched()
		}
		if g == last {
			reused++
		}
		last = g
	}
	// The previous attempt's goroutine waits for the next one unless it
	// did not reach its wait within dialLinger, or another client's
	// attempt took it: most attempts reuse it.
	if reused < n/2 {
		t.Fatalf("%d of %d attempts ran on the previous attempt's goroutine, want most", reused, n-1)
	}
	goleak.VerifyNone(t, before) // the dialling goroutine has ended
}
