package wsclient

import (
	"errors"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
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
		t.Run(s.name, func(t *testing.T) { runABClientCases(t, s.cases()) })
	}
}

func runABClientCases(t *testing.T, cases []abCase) {
	sem := make(chan struct{}, abConcurrency)
	done := make(chan struct{}, len(cases))
	for _, tc := range cases {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; done <- struct{}{} }()
			t.Run(tc.id, func(t *testing.T) {
				if tc.skip != "" {
					t.Skip(tc.skip)
				}
				runABClient(t, tc)
			})
		}()
	}
	for range cases {
		<-done
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

// runABClient is runAB with a Client as the echo client.
func runABClient(t *testing.T, tc abCase) {
	t.Helper()
	connCh := make(chan *wstest.Conn, 1)
	release := make(chan struct{})
	srv := newServer(t, func(c *wstest.Conn) error {
		connCh <- c
		<-release
		return nil
	}, tc.srvOpts...)
	t.Cleanup(func() { close(release) })
	d := &Dialer{}
	if tc.dialer != nil {
		d = tc.dialer()
	}
	h := &abEchoHandler{end: make(chan abEchoResult, 1), conn: make(chan struct{})}
	cl, err := Start(testCtx(t), srv.URL, h, WithDialer(d))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Wait()
	c := recv(t, connCh)
	recv(t, h.conn)
	p := &abPeer{t: t, c: c, ev: make(chan abEvent, 4096), eof: make(chan error, 1)}
	var inflate func([]byte) ([]byte, error)
	if tc.inflate != nil {
		inflate = tc.inflate()
	}
	readerDone := make(chan struct{})
	go func() { defer close(readerDone); p.readLoop(inflate) }()
	defer func() {
		c.Drop()
		<-readerDone
	}()

	tc.play(p)
	if t.Failed() {
		return
	}
	want := tc.want
	if !want.anyEvents {
		p.awaitEvents(len(want.events), abWait)
	}
	if want.byServer {
		p.quiet(5 * time.Millisecond)
		if !p.sentClose && p.closeEv == nil && !p.eofSeen {
			p.sendClose(want.codes[0], "")
		}
	}
	p.awaitClose(abWait)
	if p.closeEv != nil && p.clientFirst && !p.sentClose {
		p.sendClose(p.closeEv.code, "")
	}
	c.Drop()
	p.wait(abWait, func() bool { return p.eofSeen })
	var res abEchoResult
	select {
	case res = <-h.end:
	case <-time.After(abWait):
		t.Fatalf("client still connected %v after the server closed the connection", abWait)
	}
	if want.anyEvents {
		if len(p.got) > len(want.events) {
			t.Errorf("client sent %v, want a prefix of %v", p.got, want.events)
		}
		for i := range min(len(p.got), len(want.events)) {
			if !p.got[i].equal(want.events[i]) {
				t.Errorf("client sent %v, want a prefix of %v", p.got, want.events)
				break
			}
		}
	} else if !abEqual(p.got, want.events) {
		t.Errorf("client sent %v\nwant %v", p.got, want.events)
	}
	switch {
	case p.closeEv == nil:
		t.Errorf("client sent no close frame (it ended with %v)", res.err)
	case p.closeEv.err != nil:
		t.Errorf("client sent an invalid close frame: %v", p.closeEv.err)
	case want.byServer && p.clientFirst:
		t.Errorf("client started the closing handshake (code %d)", p.closeEv.code)
	case !want.byServer && !p.clientFirst:
		t.Errorf("client did not fail the connection; it answered the server's close with %d", p.closeEv.code)
	case !containsInt(want.codes, p.closeEv.code):
		t.Errorf("client closed with code %d, want one of %v", p.closeEv.code, want.codes)
	}
	if p.closeEv != nil && p.closeEv.err == nil {
		var ce *CloseError
		var pe *ProtocolError
		switch {
		case errors.As(res.err, &pe):
			if pe.Code != p.closeEv.code {
				t.Errorf("client error %v has code %d, but the client sent %d", res.err, pe.Code, p.closeEv.code)
			}
		case errors.As(res.err, &ce):
		default:
			t.Errorf("client ended with %v, want a *CloseError or *ProtocolError", res.err)
		}
	}
}
