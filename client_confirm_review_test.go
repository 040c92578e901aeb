package wsclient_test

import (
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// A user ping queued while a confirmation ping waits for the writer (busy
// with a frame the server is slow to read) must not cancel the
// confirmation ping: the kept frames are confirmed once the server reads
// again, with no keepalive and no later frame to ask for another ping.
func TestClientConfirmUserPingKeepsConfirmationPing(t *testing.T) {
	gotA := make(chan struct{})
	resume := make(chan struct{})
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		first := true
		for {
			op, p, err := sc.ReadMessage()
			if err != nil {
				return nil
			}
			switch op {
			case wstest.OpText, wstest.OpBinary:
				if first {
					first = false
					close(gotA)
					<-resume // the client's writer blocks on the big frame
				}
			case wstest.OpPing:
				sc.WriteFrame(true, 0, wstest.OpPong, p)
			case wstest.OpClose:
				sc.WriteFrame(true, 0, wstest.OpClose, p)
				return nil
			}
		}
	}, wstest.WithT(t))
	h := newTH()
	c := start(t, srv.URL, h, &wsclient.Options{Confirm: 1 << 20})
	h.expect(t, "init")
	h.expect(t, "connect")
	big := make([]byte, 24<<20)
	if err := c.Cast(wsclient.TextFrame("a")); err != nil {
		t.Fatal(err)
	}
	if err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: big}); err != nil {
		t.Fatal(err)
	}
	<-gotA
	// confirmAge (100 ms) after "a" was kept, a confirmation ping is
	// asked for; the writer is still stuck in the big frame. (A timer in
	// the client: no event to wait for.)
	time.Sleep(400 * time.Millisecond)
	if err := c.Cast(wsclient.Frame{Type: wsclient.PingMessage, Data: []byte("user")}); err != nil {
		t.Fatal(err)
	}
	close(resume)
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().Confirmed < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("kept frames never confirmed: %+v", c.Stats())
		}
		time.Sleep(20 * time.Millisecond) // polling counters: no event to wait for
	}
}
