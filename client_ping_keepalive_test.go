package wsclient_test

import (
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// A Client.Ping that waits behind a busy writer reaches the server with
// its payload, with keepalive pings due meanwhile. (The outbox keeps one
// pending ping: a keepalive ping must not replace a user's, see
// queueConfirmPing; this test did not catch that replacement before the
// fix, as no keepalive tick came while the user's ping waited.)
func TestClientUserPingSurvivesKeepalive(t *testing.T) {
	const interval = 200 * time.Millisecond
	resume := make(chan struct{})
	pings := make(chan string, 16)
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		// Read nothing until the test says: the client's writer is stuck
		// in the 32 MiB frame meanwhile (the socket buffers hold less).
		select {
		case <-resume:
		case <-sc.Context().Done():
			return nil
		}
		for {
			f, err := sc.ReadFrame()
			if err != nil {
				return nil
			}
			if f.Opcode == wstest.OpPing {
				pings <- string(f.Payload)
			}
		}
	}, wstest.WithT(t), wstest.WithRecordLimit(0), wstest.WithReadLimit(64<<20))
	h := newTH()
	c := start(t, srv.URL, h, &wsclient.Options{Keepalive: interval, KeepaliveMissed: 1000, StopTimeout: 200 * time.Millisecond})
	h.expect(t, "init")
	h.expect(t, "connect")
	if err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: make([]byte, 32<<20)}); err != nil {
		t.Fatal(err)
	}
	if err := c.Cast(wsclient.Frame{Type: wsclient.PingMessage, Data: []byte("user")}); err != nil {
		t.Fatal(err)
	}
	// Keepalive ticks queue their pings while the user's waits; no event
	// reports a tick, so give it several intervals.
	time.Sleep(3 * interval)
	close(resume)
	// Keepalive pings may come before or after it, but the user's must
	// arrive.
	timeout := time.After(5 * time.Second)
	var got []string
	for {
		select {
		case p := <-pings:
			if p == "user" {
				return
			}
			got = append(got, p)
		case <-timeout:
			t.Fatalf("the user's ping never reached the server (pings: %q)", got)
		}
	}
}
