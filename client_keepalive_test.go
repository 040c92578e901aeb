package wsclient_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// A large message that arrives fast and then slows down is a live
// connection: bytes the kernel holds for a read that waits for more of
// the frame (the Conn raises the socket's receive low-water mark for large
// payloads) count for the keepalive as bytes read do. The message spends
// several keepalive windows in that state.
func TestClientKeepaliveLargeSlowMessage(t *testing.T) {
	const interval, maxMissed = 100 * time.Millisecond, 3
	msg := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16) // 4 MiB
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		raw := wstest.Frame{Fin: true, Opcode: wstest.OpBinary, Payload: msg}.Bytes()
		// The header and 1 MiB at once, then 64 KiB every 40 ms: about
		// 1.9 s, with 1 MiB arriving each 640 ms, over 6 intervals.
		if err := sc.WriteRaw(raw[:1<<20]); err != nil {
			return nil
		}
		if err := sc.WriteChunked(raw[1<<20:], []int{64 << 10}, 40*time.Millisecond); err != nil {
			return nil
		}
		for { // read, never answer a ping
			if _, err := sc.ReadFrame(); err != nil {
				return nil
			}
		}
	}, wstest.WithT(t), wstest.WithRecordLimit(0))
	h := newTH()
	start(t, srv.URL, h, wsclient.WithKeepalive(interval, maxMissed), wsclient.WithDialer(&wsclient.Dialer{MaxMessageSize: 8 << 20}))
	h.expect(t, "init")
	h.expect(t, "connect")
	e := h.next(t)
	if e.kind != "frame" || !bytes.Equal(e.f.Data, msg) {
		t.Fatalf("callback %s (%v), want the 4 MiB message", e.kind, e.err)
	}
}

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
	c := start(t, srv.URL, h, wsclient.WithKeepalive(interval, 1000), wsclient.WithStopTimeout(200*time.Millisecond))
	h.expect(t, "init")
	h.expect(t, "connect")
	if err := c.Cast(wsclient.BinaryFrame(make([]byte, 32<<20))); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping([]byte("user")); err != nil {
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
