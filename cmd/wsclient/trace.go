package main

// -v / --trace: the dial's phases with their durations (as curl -w's
// timings) and the client's statistics at exit, on stderr.

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/wsclient/wsclient"
)

// tracer prints Trace events through the printer (so that they do not
// interleave with its other lines).
type tracer struct {
	p     *printer
	start time.Time // the dial's start (the state's change to connecting)
	phase time.Time // the current phase's start
}

// line writes one trace line: the time since the dial began, the phase's
// own duration, what happened.
func (t *tracer) line(phase bool, format string, a ...any) {
	now := time.Now()
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearPromptLocked()
	took := ""
	if phase && !t.phase.IsZero() {
		took = fmt.Sprintf(" (%s)", round(now.Sub(t.phase)))
	}
	fmt.Fprint(p.errw, terminalSafe(redact(fmt.Sprintf("wsclient: * %9s  "+format+"%s\n", append([]any{round(now.Sub(t.start))}, append(a, took)...)...))))
	t.phase = now
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// trace returns the hooks that print the dial's phases and the
// connection's life.
func (t *tracer) trace() *wsclient.Trace {
	errs := func(err error) string {
		if err != nil {
			return ": " + err.Error()
		}
		return ""
	}
	return &wsclient.Trace{
		StateChanged: func(from, to wsclient.State) {
			if to == wsclient.Connecting {
				t.p.mu.Lock()
				t.start, t.phase = time.Now(), time.Time{}
				t.p.mu.Unlock()
				t.line(false, "connecting")
				return
			}
			t.line(false, "state %v -> %v", from, to)
		},
		DNSStart: func(host string) { t.line(false, "resolving %s", host) },
		DNSDone: func(addrs []net.IPAddr, err error) {
			t.line(true, "resolved: %v%s", addrs, errs(err))
		},
		ConnectStart: func(network, addr string) { t.line(false, "connecting to %s", addr) },
		ConnectDone: func(network, addr string, err error) {
			t.line(true, "connected to %s%s", addr, errs(err))
		},
		ProxyConnect: func(proxy string, status int, err error) {
			t.line(true, "proxy %s answered CONNECT: %d%s", proxy, status, errs(err))
		},
		TLSStart: func() { t.line(false, "TLS handshake") },
		TLSDone: func(st tls.ConnectionState, err error) {
			t.line(true, "TLS %s %s%s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), errs(err))
		},
		WroteRequest: func(err error) { t.line(true, "upgrade request written%s", errs(err)) },
		GotResponse: func(status int, proto, sub, ext string) {
			s := fmt.Sprintf("response %d (%s)", status, proto)
			if sub != "" {
				s += ", subprotocol " + sub
			}
			if ext != "" {
				s += ", extensions " + ext
			}
			t.line(true, "%s", s)
		},
		Ready: func(info wsclient.ConnInfo) { t.line(false, "ready: %s", info.URL) },
		PongReceived: func(rtt time.Duration) {
			t.line(false, "pong after %s", round(rtt))
		},
		CloseSent: func(code int, reason string, local bool) {
			t.line(false, "close sent: %d %q", code, reason)
		},
		CloseReceived: func(code int, reason string, local bool) {
			t.line(false, "close received: %d %q", code, reason)
		},
		ConnectionLost: func(err error) { t.line(false, "connection lost: %v", err) },
		ReconnectScheduled: func(attempt int, delay time.Duration, reason error) {
			t.line(false, "reconnect #%d in %s", attempt+1, round(delay))
		},
	}
}

// stats prints the client's statistics.
func (t *tracer) stats(st wsclient.Stats) {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearPromptLocked()
	fmt.Fprintf(p.errw, "wsclient: * stats: %d messages (%d bytes) sent, %d (%d bytes) received; %d connects, %d reconnects, %d failed dials; %d undelivered",
		st.MessagesOut, st.BytesOut, st.MessagesIn, st.BytesIn, st.Connects, st.Reconnects, st.DialFailures, st.Undelivered)
	if st.Confirmed > 0 || st.Unconfirmed > 0 {
		fmt.Fprintf(p.errw, "; %d confirmed, %d unconfirmed", st.Confirmed, st.Unconfirmed)
	}
	if st.PingRTT > 0 {
		fmt.Fprintf(p.errw, "; last ping %s", round(st.PingRTT))
	}
	fmt.Fprintln(p.errw)
}
