//go:build !js

package wsclient_test

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// The Client's keepalive (client_keepalive.go): what counts as life, what
// times out, and what is not a keepalive timeout.

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
	start(t, srv.URL, h, &wsclient.Options{Keepalive: interval, KeepaliveMissed: maxMissed, Dialer: &wsclient.Dialer{MaxMessageSize: 8 << 20}})
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
//
// With confirmation on, the big frame fills the retention bound (and the
// server answers no pings): the user's ping, which is not kept, still goes.
func TestClientUserPingSurvivesKeepalive(t *testing.T) {
	t.Run("unconfirmed", func(t *testing.T) { testUserPingSurvivesKeepalive(t, 0) })
	t.Run("confirmed", func(t *testing.T) { testUserPingSurvivesKeepalive(t, 1<<20) })
}

func testUserPingSurvivesKeepalive(t *testing.T, confirm int) {
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
	c, _ := startConnected(t, srv.URL, &wsclient.Options{Keepalive: interval, KeepaliveMissed: 1000, StopTimeout: 200 * time.Millisecond, Confirm: confirm})
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

// With keepalive configured, a server that accepts TCP but never answers
// the upgrade ends the attempt within interval × (maxMissed+1) with
// ErrKeepaliveTimeout (not after the 30 s handshake timeout).
func TestClientKeepaliveCoversHandshake(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithHandshakeDelay(time.Minute))
	const interval, missed = 100 * time.Millisecond, 2
	h := newTH()
	t0 := time.Now()
	c := start(t, srv.URL, h, &wsclient.Options{Keepalive: interval, KeepaliveMissed: missed})
	h.expect(t, "init")
	e := h.expect(t, "disconnect")
	if !errors.Is(e.err, wsclient.ErrKeepaliveTimeout) || e.d.WasConnected || e.d.Attempt != 1 {
		t.Fatalf("disconnect %+v", e.d)
	}
	// interval × (missed+1), plus slack for a loaded machine.
	if el := e.at.Sub(t0); el < interval*missed || el > interval*(missed+1)+time.Second {
		t.Fatalf("attempt ended after %v", el)
	}
	if err := waitDone(t, c); !errors.Is(err, wsclient.ErrKeepaliveTimeout) {
		t.Fatalf("Wait = %v", err)
	}
}

// A server that sends close 1000 and keeps the TCP connection open is
// reported with its close code and reason, not as a keepalive timeout,
// however short the keepalive.
func TestClientRemoteCloseNotKeepalive(t *testing.T) {
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		sc.Close(1000, "server done")
		<-sc.Context().Done() // keep TCP open, read nothing
		return nil
	}, wstest.WithT(t))
	c, h := startConnected(t, srv.URL, &wsclient.Options{Keepalive: 20 * time.Millisecond, KeepaliveMissed: 1})
	e := h.expect(t, "disconnect")
	var ce *wsclient.CloseError
	if !errors.As(e.err, &ce) || ce.Code != 1000 || ce.Reason != "server done" {
		t.Fatalf("disconnect reason %v", e.err)
	}
	waitDone(t, c)
}

// Any inbound traffic counts as life for the keepalive: a large message
// arriving slowly, over many intervals, while the server answers no ping,
// keeps the connection up; once bytes stop, the keepalive times out.
//
// The keepalive allows maxMissed unanswered pings, a silence of about
// (maxMissed+1) intervals: far longer than the 10 ms between pieces, so
// that a goroutine stalled for a while on a loaded machine does not end
// the connection mid-message, yet the message lasts at least twice that
// silence.
func TestClientKeepaliveCountsBytes(t *testing.T) {
	const interval, maxMissed = 50 * time.Millisecond, 8
	const silence = (maxMissed + 1) * interval
	msg := bytes.Repeat([]byte("0123456789abcdef"), 1024) // 16 KiB
	sent := make(chan time.Time, 1)
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		raw := wstest.Frame{Fin: true, Opcode: wstest.OpBinary, Payload: msg}.Bytes()
		// 128 pieces 10 ms apart (the peer's pace): about 26 keepalive
		// intervals, 3 silences.
		if err := sc.WriteChunked(raw, []int{128}, 10*time.Millisecond); err != nil {
			return nil
		}
		sent <- time.Now()
		for { // read, never answer a ping
			if _, err := sc.ReadFrame(); err != nil {
				return nil
			}
		}
	}, wstest.WithT(t))
	h := newTH()
	start(t, srv.URL, h, &wsclient.Options{Keepalive: interval, KeepaliveMissed: maxMissed})
	h.expect(t, "init")
	conn := h.expect(t, "connect")
	e := h.next(t)
	if e.kind != "frame" || !bytes.Equal(e.f.Data, msg) {
		t.Fatalf("callback %s %v (%v) after %v, want the 16 KiB message", e.kind, e.f, e.err, e.at.Sub(conn.at))
	}
	end := <-sent
	if el := end.Sub(conn.at); el < 2*silence {
		t.Fatalf("the message took only %v, the test proves nothing", el)
	}
	e = h.expect(t, "disconnect")
	if !errors.Is(e.err, wsclient.ErrKeepaliveTimeout) {
		t.Fatalf("reason %v", e.err)
	}
	// maxMissed intervals without bytes (plus up to one for the phase of
	// the ticker); the lower bound leaves room for the server's clock
	// reading, taken after its last write.
	if el := e.at.Sub(end); el < maxMissed/2*interval || el > 5*time.Second {
		t.Fatalf("timed out %v after the last byte", el)
	}
}

// keepalive + keepalive_max_attempts: a server that reads but never
// answers pings gets maxMissed pings, then the client drops the connection
// with ErrKeepaliveTimeout.
func TestClientKeepaliveTimeout(t *testing.T) {
	var pings atomic.Int32
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		for {
			op, _, err := sc.ReadMessage()
			if err != nil {
				return nil
			}
			if op == wstest.OpPing {
				pings.Add(1)
			}
		}
	}, wstest.WithT(t))
	h := newTH()
	c := start(t, srv.URL, h, &wsclient.Options{Keepalive: 30 * time.Millisecond, KeepaliveMissed: 2})
	h.expect(t, "init")
	conn := h.expect(t, "connect")
	e := h.expect(t, "disconnect")
	if !errors.Is(e.err, wsclient.ErrKeepaliveTimeout) {
		t.Fatalf("reason %v", e.err)
	}
	// Pings at 30, 60 (1 missed), 90 (2 missed: drop, no third ping).
	if n := pings.Load(); n != 2 {
		t.Fatalf("server saw %d pings, want 2", n)
	}
	if el := e.at.Sub(conn.at); el < 80*time.Millisecond || el > 2*time.Second {
		t.Fatalf("dropped after %v", el)
	}
	h.expect(t, "terminate")
	if err := waitDone(t, c); !errors.Is(err, wsclient.ErrKeepaliveTimeout) {
		t.Fatalf("Wait = %v", err)
	}
}

// A server that stops reading: Cast never blocks (it fills the outbox and
// then refuses), the stuck writer does not keep the keepalive from ending
// the connection, and every frame Cast took is written or handed back.
func TestClientKeepaliveWithBlockedWriter(t *testing.T) {
	// Until the test has filled the outbox the server keeps the connection
	// alive with a pong every 20 ms (any inbound byte counts as life), so
	// that on a slow machine the keepalive cannot end it while the Casts
	// below are still copying their frames; then it goes silent. It never
	// reads. (After 10 s it goes silent anyway, so that a Cast that blocks
	// ends with the connection.)
	filled := make(chan struct{})
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for silent := time.After(10 * time.Second); ; {
			select {
			case <-tick.C:
				if err := sc.WriteFrame(true, 0, wstest.OpPong, nil); err != nil {
					return nil
				}
				continue
			case <-filled:
			case <-silent:
			case <-sc.Context().Done():
			}
			break
		}
		<-sc.Context().Done()
		return nil
	}, wstest.WithT(t))
	h := newTH()
	const outbox = 8
	c := start(t, srv.URL, h, &wsclient.Options{Keepalive: 100 * time.Millisecond, OutboxSize: outbox})
	h.expect(t, "init")
	h.expect(t, "connect")
	big := make([]byte, 4<<20)
	accepted := 0
	t0 := time.Now()
	for {
		err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: big})
		if errors.Is(err, wsclient.ErrOutboxFull) {
			break
		}
		if err != nil {
			t.Fatalf("Cast: %v", err)
		}
		accepted++
		if accepted > 100 {
			t.Fatal("the outbox bound does not hold")
		}
	}
	close(filled)
	// A Cast that waited for the network would have waited 10 s, until the
	// server went silent and the keepalive ended the connection.
	if el := time.Since(t0); el > 5*time.Second {
		t.Fatalf("Cast blocked: %d frames took %v", accepted, el)
	}
	// The outbox holds outbox frames; the writer has taken one or two more
	// (the socket buffers hold a few MiB).
	if accepted < outbox || accepted > outbox+3 {
		t.Fatalf("accepted %d frames, want %d to %d", accepted, outbox, outbox+3)
	}
	var und int
	disconnected := false
	for e := h.next(t); e.kind != "terminate"; e = h.next(t) {
		switch e.kind {
		case "undelivered":
			und++
		case "disconnect":
			disconnected = true
			if !errors.Is(e.err, wsclient.ErrKeepaliveTimeout) {
				t.Fatalf("disconnect reason %v", e.err)
			}
		}
	}
	if !disconnected {
		t.Fatal("no disconnect")
	}
	if st := c.Stats(); int(st.MessagesOut)+und != accepted {
		t.Fatalf("accepted %d, written %d, undelivered %d", accepted, st.MessagesOut, und)
	}
}
