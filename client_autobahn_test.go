//go:build !js

package wsclient

import (
	"context"
	"testing"
	"time"
)

// The Autobahn cases of sections 1 to 7 driven through a Client whose
// handler echoes every message with a Reply action (the Erlang echo
// client), judged like the Conn's echo client. Among them 3.2, 3.3, 4.1.3,
// 4.1.4, 4.2.3, 4.2.4 and 5.15, where a reply to a message received just
// before a protocol error must be written before the connection is failed.
func TestAutobahnClient(t *testing.T) {
	for _, s := range []struct {
		name  string
		cases func() []abCase
	}{
		{"1", abSection1}, {"2", abSection2}, {"3", abSection3}, {"4", abSection4},
		{"5", abSection5}, {"6", abSection6}, {"7", abSection7},
	} {
		t.Run(s.name, func(t *testing.T) { runABCases(t, abConcurrency, s.cases(), abClientEcho) })
	}
}

// abEchoHandler is the echo client as a Handler.
type abEchoHandler struct {
	BaseHandler
	n    int
	end  chan abEchoResult
	conn chan struct{}
}

func (h *abEchoHandler) OnConnect(*Client, ConnInfo) Action { close(h.conn); return Action{} }

func (h *abEchoHandler) HandleFrame(_ *Client, f Frame) Action {
	if f.Type == TextMessage || f.Type == BinaryMessage {
		h.n++
		return Reply(f)
	}
	return Action{}
}

func (h *abEchoHandler) OnDisconnect(_ *Client, d Disconnect) DisconnectAction {
	h.end <- abEchoResult{h.n, d.Reason, time.Now()}
	return StopWith(nil)
}

// abClientEcho is a Client with abEchoHandler; it is stopped (if it has
// not stopped itself) when the test ends.
func abClientEcho(t *testing.T, url string, d *Dialer) (<-chan abEchoResult, <-chan struct{}) {
	if d == nil {
		d = &Dialer{}
	}
	h := &abEchoHandler{end: make(chan abEchoResult, 1), conn: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), abCaseLimit)
	t.Cleanup(cancel)
	cl, err := Start(ctx, url, h, &Options{Dialer: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), abWait)
		defer cancel()
		if err := cl.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return h.end, h.conn
}
