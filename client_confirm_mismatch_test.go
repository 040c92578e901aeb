//go:build !js

package wsclient_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// Servers that answer pings without echoing the payload never confirm:
// the client gives confirmation up on the connection within a bound,
// reports the kept frames with ErrUnconfirmed and ErrPongMismatch, and
// works on without keeping frames, instead of stalling at the retention
// bound.

// An empty pong (lxzan/gws's default), no keepalive: SendConfirmed ends
// with the mismatch error after the documented 2 s instead of waiting for
// its context, the frames kept before go to OnUndelivered with it, and the
// client then writes without keeping frames.
func TestClientConfirmEmptyPong(t *testing.T) {
	got := make(chan string, 16)
	srv := wstest.NewServer(mismatchServer(got, func([]byte) []byte { return nil }), wstest.WithT(t))
	c, h := startConnected(t, srv.URL, &wsclient.Options{Confirm: 1 << 20})
	for _, s := range []string{"a", "b", "c"} {
		if err := c.Cast(wsclient.TextFrame(s)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	t0 := time.Now()
	err := c.Send(ctx, wsclient.TextFrame("d"))
	if !errors.Is(err, wsclient.ErrPongMismatch) || !errors.Is(err, wsclient.ErrUnconfirmed) {
		t.Fatalf("SendConfirmed = %v after %v", err, time.Since(t0))
	}
	t.Logf("given up after %v: %v", time.Since(t0), err)
	var und []string
	for len(und) < 3 {
		e := h.until(t, "undelivered")
		if !errors.Is(e.err, wsclient.ErrPongMismatch) || !errors.Is(e.err, wsclient.ErrUnconfirmed) {
			t.Fatalf("undelivered %q with %v", e.f.Data, e.err)
		}
		und = append(und, string(e.f.Data))
	}
	if !slices.Equal(und, []string{"a", "b", "c"}) {
		t.Fatalf("reported %q", und)
	}
	// Now a plain client on this connection: SendConfirmed says at once
	// that its frame was written but cannot be confirmed.
	if err := c.Send(ctx, wsclient.TextFrame("e")); !errors.Is(err, wsclient.ErrPongMismatch) {
		t.Fatalf("SendConfirmed after giving up = %v", err)
	}
	if err := c.Cast(wsclient.TextFrame("f")); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, wsclient.TextFrame("g")); !errors.Is(err, wsclient.ErrPongMismatch) {
		t.Fatalf("Send after giving up = %v", err)
	}
	st := c.Stats()
	if st.PongMismatches != 1 || st.Confirmed != 0 || st.Unconfirmed != 0 || st.Unconfirmable != 3 ||
		st.Undelivered != 3 || c.State() != wsclient.Connected {
		t.Fatalf("stats %+v", st)
	}
	for _, want := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		select {
		case s := <-got:
			if s != want {
				t.Fatalf("server got %q, want %q", s, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("server did not get %q", want)
		}
	}
}

// A pong with another payload of the same length, with keepalive: the
// client stalled at the retention bound gets going again within
// interval × maxMissed (plus slack for a loaded machine), still connected.
func TestClientConfirmWrongPong(t *testing.T) {
	srv := wstest.NewServer(mismatchServer(nil, func(p []byte) []byte {
		q := slices.Clone(p)
		slices.Reverse(q)
		return q
	}), wstest.WithT(t))
	h := newTH()
	const bound, size = 1000, 100
	c := start(t, srv.URL, h, &wsclient.Options{Confirm: bound, OutboxSize: 1 << 20, Keepalive: 100 * time.Millisecond})
	h.expect(t, "init")
	h.expect(t, "connect")
	data := make([]byte, size)
	full := time.Time{}
	cast := 0
	for ; cast < 1<<16; cast++ {
		err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: data})
		if errors.Is(err, wsclient.ErrOutboxFull) {
			full = time.Now()
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if full.IsZero() {
		// The client may have given up already (a loaded machine): fine,
		// as long as it did so for the right reason.
		t.Logf("no push-back in %d casts", cast)
	}
	e := h.until(t, "undelivered")
	if !errors.Is(e.err, wsclient.ErrPongMismatch) || !errors.Is(e.err, wsclient.ErrUnconfirmed) {
		t.Fatalf("undelivered with %v", e.err)
	}
	if !full.IsZero() {
		// The bound is 300 ms; allow for a loaded machine.
		if d := time.Since(full); d > 5*time.Second {
			t.Fatalf("gave up %v after the push-back", d)
		}
		t.Logf("gave up %v after the push-back", time.Since(full))
	}
	// Past the retention bound now: nothing is kept.
	for i := range 4 * bound / size {
		if err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: data}); err != nil {
			t.Fatalf("cast %d after giving up: %v", i, err)
		}
	}
	// Send waits for confirmation, which this connection cannot give: it
	// says so at once (the frame was written).
	waitNoCallback(t, c)
	if err := c.Send(t.Context(), wsclient.Frame{Type: wsclient.BinaryMessage, Data: data}); !errors.Is(err, wsclient.ErrPongMismatch) || !errors.Is(err, wsclient.ErrUnconfirmed) {
		t.Fatalf("Send after giving up = %v", err)
	}
	if st := c.Stats(); st.PongMismatches != 1 || st.Confirmed != 0 || st.Unconfirmed != 0 ||
		st.Unconfirmable < 4*bound/size+1 || c.State() != wsclient.Connected {
		t.Fatalf("stats %+v, state %v", st, c.State())
	}
}

// Unsolicited pongs (RFC 6455 section 5.5.3 allows them) confirm nothing,
// an empty one nor one of the confirmation pings' length, and do not make
// a server that answers pings correctly, if late, look like a mismatching
// one.
func TestClientConfirmUnsolicitedPong(t *testing.T) {
	strays := make(chan struct{}, 16)
	release := make(chan struct{})
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		for {
			op, p, err := sc.ReadMessage()
			if err != nil {
				return nil
			}
			switch op {
			case wstest.OpText:
				sc.WriteFrame(true, 0, wstest.OpPong, nil)
				sc.WriteFrame(true, 0, wstest.OpPong, []byte("0123456789abcdef"))
				strays <- struct{}{}
			case wstest.OpPing:
				<-release // answer late, but right
				sc.WriteFrame(true, 0, wstest.OpPong, p)
			case wstest.OpClose:
				sc.WriteFrame(true, 0, wstest.OpClose, p)
				return nil
			}
		}
	}, wstest.WithT(t))
	c, h := startConnected(t, srv.URL, &wsclient.Options{Confirm: 1 << 20})
	if err := c.Cast(wsclient.TextFrame("a")); err != nil {
		t.Fatal(err)
	}
	<-strays
	for range 2 {
		if e := h.until(t, "frame"); e.f.Type != wsclient.PongMessage {
			t.Fatalf("HandleFrame got %v", e.f.Type)
		}
	}
	if st := c.Stats(); st.Confirmed != 0 || st.Unconfirmed != 1 {
		t.Fatalf("an unsolicited pong confirmed: %+v", st)
	}
	close(release)
	waitNoCallback(t, c) // the last pong's HandleFrame has returned
	if err := c.Send(t.Context(), wsclient.TextFrame("b")); err != nil {
		t.Fatalf("SendConfirmed = %v", err)
	}
	if st := c.Stats(); st.Confirmed != 2 || st.PongMismatches != 0 || st.Unconfirmable != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// The answers to the user's own pings are no stray pongs: a confirmation
// ping held by the server for longer than the bound, while user pings are
// answered, does not make the client give up.
func TestClientConfirmUserPings(t *testing.T) {
	release := make(chan struct{})
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		var held [][]byte
		for {
			op, p, err := sc.ReadMessage()
			if err != nil {
				return nil
			}
			select {
			case <-release:
				for _, q := range held {
					sc.WriteFrame(true, 0, wstest.OpPong, q)
				}
				held = nil
			default:
			}
			switch op {
			case wstest.OpPing:
				if len(p) == 16 && !closed(release) {
					held = append(held, p)
					continue
				}
				sc.WriteFrame(true, 0, wstest.OpPong, p)
			case wstest.OpClose:
				sc.WriteFrame(true, 0, wstest.OpClose, p)
				return nil
			}
		}
	}, wstest.WithT(t))
	h := newTH()
	const interval = 100 * time.Millisecond
	c := start(t, srv.URL, h, &wsclient.Options{Confirm: 1 << 20, Keepalive: interval})
	h.expect(t, "init")
	h.expect(t, "connect")
	if err := c.Cast(wsclient.TextFrame("a")); err != nil {
		t.Fatal(err)
	}
	// Twice the bound (interval × 3) of user pings, answered.
	tick := time.NewTicker(interval / 4)
	defer tick.Stop()
	for i := range 24 {
		<-tick.C
		if err := c.Cast(wsclient.Frame{Type: wsclient.PingMessage, Data: []byte(fmt.Sprint("user", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.PongMismatches != 0 || st.Unconfirmed != 1 || st.Confirmed != 0 {
		t.Fatalf("stats %+v", st)
	}
	close(release)
	if err := c.Send(t.Context(), wsclient.TextFrame("b")); err != nil {
		t.Fatalf("SendConfirmed = %v", err)
	}
	if st := c.Stats(); st.PongMismatches != 0 || st.Confirmed != 2 {
		t.Fatalf("stats %+v", st)
	}
}

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
	c, _ := startConnected(t, srv.URL, &wsclient.Options{Confirm: 1 << 20})
	big := make([]byte, 24<<20)
	if err := c.Cast(wsclient.TextFrame("a")); err != nil {
		t.Fatal(err)
	}
	if err := c.Cast(wsclient.Frame{Type: wsclient.BinaryMessage, Data: big}); err != nil {
		t.Fatal(err)
	}
	<-gotA
	// confirmAlone (2 s) after "a" was kept, a confirmation ping is
	// asked for; the writer is still stuck in the big frame. (A timer in
	// the client: no event to wait for.)
	time.Sleep(2500 * time.Millisecond)
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

// A server that answers no ping at all, while the connection lives on,
// does not stall a confirming client at the retention bound: after the
// no-pong bound the kept frames go to OnUndelivered with ErrUnconfirmed
// and ErrNoPong, the connection is kept, and later frames are written
// without being kept.
func TestClientConfirmNoPong(t *testing.T) {
	got := make(chan string, 16)
	srv := wstest.NewServer(mismatchServer(got, nil), wstest.WithT(t))
	c, h := startConnected(t, srv.URL, &wsclient.Options{Confirm: 1 << 20})
	wsclient.SetConfirmNoPong(c, 300*time.Millisecond)
	for _, s := range []string{"a", "b"} {
		if err := c.Cast(wsclient.TextFrame(s)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	err := c.Send(ctx, wsclient.TextFrame("c"))
	if !errors.Is(err, wsclient.ErrNoPong) || !errors.Is(err, wsclient.ErrUnconfirmed) {
		t.Fatalf("Send = %v", err)
	}
	for _, want := range []string{"a", "b"} {
		e := h.until(t, "undelivered")
		if string(e.f.Data) != want || !errors.Is(e.err, wsclient.ErrNoPong) || !errors.Is(e.err, wsclient.ErrUnconfirmed) {
			t.Fatalf("undelivered %q with %v, want %q", e.f.Data, e.err, want)
		}
	}
	if err := c.Cast(wsclient.TextFrame("d")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b", "c", "d"} {
		select {
		case s := <-got:
			if s != want {
				t.Fatalf("server got %q, want %q", s, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("server did not get %q", want)
		}
	}
	st := c.Stats()
	if st.PongMismatches != 1 || st.Confirmed != 0 || st.Unconfirmed != 0 || st.Undelivered != 2 || c.State() != wsclient.Connected {
		t.Fatalf("stats %+v, state %v", st, c.State())
	}
}
