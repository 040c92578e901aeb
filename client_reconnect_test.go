//go:build !js

package wsclient_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// {reconnect, Ms}: ReconnectAfter waits the delay.
func TestClientReconnectAfter(t *testing.T) {
	srv := wstest.NewServer(func(sc *wstest.Conn) error { return sc.Drop() }, wstest.WithT(t))
	h := newTH()
	h.disc = func(*wsclient.Client, wsclient.Disconnect) wsclient.DisconnectAction {
		return wsclient.ReconnectAfter(100 * time.Millisecond)
	}
	start(t, srv.URL, h)
	h.expect(t, "init")
	h.expect(t, "connect")
	d := h.expect(t, "disconnect")
	c2 := h.expect(t, "connect")
	if el := c2.at.Sub(d.at); el < 100*time.Millisecond || el > 2*time.Second {
		t.Fatalf("reconnected after %v, want 100ms", el)
	}
}

// The built-in backoff: attempt numbers 1, 2, 3 ... with growing delays,
// reset after a successful connection.
func TestClientReconnectWithBackoff(t *testing.T) {
	refused := wstest.NewServer(nil, wstest.WithT(t), wstest.WithStatus(http.StatusServiceUnavailable, ""))
	h := newTH()
	h.disc = func(c *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
		return wsclient.ReconnectAfter(d.Backoff)
	}
	b := wsclient.Backoff{Initial: 20 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: -1}
	start(t, refused.URL, h, &wsclient.Options{Backoff: b})
	h.expect(t, "init")
	var (
		last        time.Time
		prevBackoff time.Duration
	)
	for i := 1; i <= 4; i++ {
		e := h.expect(t, "disconnect")
		if e.d.Attempt != i || e.d.WasConnected {
			t.Fatalf("disconnect %+v, want attempt %d", e.d, i)
		}
		if i > 1 {
			// After attempt i-1 failed the delay was 20ms * 2^(i-1),
			// as the previous disconnect said.
			want := time.Duration(20<<(i-1)) * time.Millisecond
			if prevBackoff != want {
				t.Fatalf("disconnect %d: Backoff %v, want %v", i-1, prevBackoff, want)
			}
			if el := e.at.Sub(last); el < want || el > want+time.Second {
				t.Fatalf("attempt %d came %v after the previous, want about %v", i, el, want)
			}
		}
		last, prevBackoff = e.at, e.d.Backoff
	}
}

// The attempt count resets after a successful connection.
func TestClientAttemptReset(t *testing.T) {
	srv := wstest.NewServer(func(sc *wstest.Conn) error { return sc.Drop() }, wstest.WithT(t))
	var dials atomic.Int32
	d := &wsclient.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if n := dials.Add(1); n <= 2 || n == 4 {
			return nil, errors.New("injected dial failure")
		}
		var nd net.Dialer
		return nd.DialContext(ctx, network, addr)
	}}
	h := newTH()
	h.disc = func(*wsclient.Client, wsclient.Disconnect) wsclient.DisconnectAction {
		return wsclient.ReconnectAfter(0)
	}
	start(t, srv.URL, h, &wsclient.Options{Dialer: d})
	h.expect(t, "init")
	for _, want := range []struct {
		attempt int
		was     bool
	}{{1, false}, {2, false}, {0, true}, {1, false}, {0, true}} {
		e := h.until(t, "disconnect")
		if e.d.Attempt != want.attempt || e.d.WasConnected != want.was {
			t.Fatalf("disconnect %+v (%v), want attempt %d connected %v", e.d, e.err, want.attempt, want.was)
		}
	}
}

// keepalive started from onconnect ({ok, State, KeepaliveMs}): pings go
// out every interval and the pongs reach HandleFrame.
func TestClientKeepaliveFromOnConnect(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	h := newTH()
	h.connect = func(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
		return wsclient.Keepalive(20 * time.Millisecond)
	}
	start(t, srv.URL, h, &wsclient.Options{Keepalive: 0, KeepaliveMissed: 1})
	h.expect(t, "init")
	conn := h.expect(t, "connect")
	var last time.Time
	for range 5 {
		e := h.expect(t, "frame")
		if e.f.Type != wsclient.PongMessage {
			t.Fatalf("frame %v", e.f)
		}
		last = e.at
	}
	if el := last.Sub(conn.at); el < 90*time.Millisecond {
		t.Fatalf("5 pongs within %v of connecting, want >= 100ms at 20ms intervals", el)
	}
	// An echo server answers: the connection stays up (maxMissed 1).
	h.noMoreExcept(t, "frame", 100*time.Millisecond)
}

// noMoreExcept checks that only callbacks of kind arrive within d.
func (h *th) noMoreExcept(t *testing.T, kind string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e := <-h.ev:
			if e.kind != kind {
				t.Fatalf("unexpected callback %s (%v)", e.kind, e.err)
			}
		case <-deadline:
			return
		}
	}
}

// Connect cuts a reconnect delay short.
func TestClientConnectDuringDelay(t *testing.T) {
	srv := wstest.NewServer(func(sc *wstest.Conn) error { return sc.Drop() }, wstest.WithT(t))
	h := newTH()
	h.disc = func(*wsclient.Client, wsclient.Disconnect) wsclient.DisconnectAction {
		return wsclient.ReconnectAfter(time.Hour)
	}
	c := start(t, srv.URL, h)
	h.expect(t, "init")
	h.expect(t, "connect")
	h.expect(t, "disconnect")
	h.noMore(t, 30*time.Millisecond)
	c.Connect()
	h.expect(t, "connect")
}

// The Dialer's headers, TLS configuration and dial function (Erlang
// extra_headers, ssl_verify, socket_opts) apply to the Client's connections;
// an untrusted certificate is a *DialError with Op "tls".
func TestClientDialerOptions(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithTLS())
	var dials atomic.Int32
	d := &wsclient.Dialer{
		Header:    http.Header{"Authorization": {"Bearer t0k3n"}},
		TLSConfig: srv.ClientTLSConfig(),
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			var nd net.Dialer
			return nd.DialContext(ctx, network, addr)
		},
	}
	h := newTH()
	start(t, srv.URL, h, &wsclient.Options{Dialer: d})
	h.expect(t, "init")
	h.expect(t, "connect")
	if got := srv.Conns()[0].Request().Header.Get("Authorization"); got != "Bearer t0k3n" || dials.Load() != 1 {
		t.Fatalf("Authorization %q, %d dials", got, dials.Load())
	}
	h2 := newTH()
	start(t, srv.URL, h2) // system roots: the self-signed certificate is refused
	h2.expect(t, "init")
	e := h2.expect(t, "disconnect")
	var de *wsclient.DialError
	if !errors.As(e.err, &de) || de.Op != "tls" {
		t.Fatalf("reason %v", e.err)
	}
}
