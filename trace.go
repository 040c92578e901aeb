package wsclient

// Trace hooks: what a connection and a Client report as it happens, for
// logs, metrics and traces (the otelwsclient module builds on them). The
// library calls them from one or two lines at each place an event happens;
// everything else about tracing is in this file.

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"time"
)

// Trace holds optional callbacks that report what a connection and a
// Client do; set it as Dialer.Trace (the dials and connections of that
// Dialer) or Options.Trace (a Client, its dials and its connections). A nil
// field is not called; a nil *Trace costs nothing.
//
// The callbacks run synchronously on the goroutine where the event happens,
// sometimes with the connection's or the Client's internal locks held: they
// must be quick, must not block, and must not call methods of the Conn or
// Client that reported them. Callbacks of one connection may run
// concurrently (a reader and a writer), so shared state needs a lock or
// atomics. The arguments are valid only during the call.
//
// An httptrace.ClientTrace in the dial's context is honoured as net/http
// does: its DNSStart, DNSDone, ConnectStart, ConnectDone, TLSHandshakeStart,
// TLSHandshakeDone, WroteRequest and GotFirstResponseByte hooks are called
// (after the Trace's own, which are passed to it the same way).
type Trace struct {
	// The dial, for each hop of a redirect chain. DNS and connect
	// callbacks come from net.Dialer (a Dialer.NetDialContext receives them
	// in its context, as httptrace hooks, and decides); for a proxy they
	// describe the proxy's address.
	DNSStart     func(host string)
	DNSDone      func(addrs []net.IPAddr, err error)
	ConnectStart func(network, addr string)
	ConnectDone  func(network, addr string, err error)
	// ProxyConnect reports the answer of an HTTP proxy to CONNECT: its
	// status code (0 if none was read) and the error that ended the
	// attempt, if any. proxy is the proxy's URL without credentials.
	ProxyConnect func(proxy string, status int, err error)
	TLSStart     func()
	TLSDone      func(state tls.ConnectionState, err error)
	// WroteRequest reports the upgrade request written (or not, err).
	WroteRequest func(err error)
	// GotResponse reports the answer to the upgrade: its status code,
	// "HTTP/1.1" or "h2", and, when accepted, the subprotocol and
	// extensions the server selected.
	GotResponse func(status int, proto, subprotocol, extensions string)
	// Ready reports a connection ready for messages, as Conn.Info
	// describes it (its TLS state included).
	Ready func(info ConnInfo)

	// The connection. size is a message's payload; wire is its payload on
	// the wire (smaller when compressed; -1 when not measured: a message
	// compressed in a Client's batch). A message read with NextReader is
	// reported once read in full; one streamed with NextWriter is not
	// reported.
	MessageWritten func(typ MessageType, size, wire int)
	MessageRead    func(typ MessageType, size, wire int)
	// PingSent reports a ping written by Conn.Ping or queued by a Client
	// (keepalive and confirmation pings); PongReceived the pong that
	// answered one, with the round trip.
	PingSent     func()
	PongReceived func(rtt time.Duration)
	// CloseSent and CloseReceived report close frames; local says that
	// this side started the close handshake (it sent its close first).
	CloseSent     func(code int, reason string, local bool)
	CloseReceived func(code int, reason string, local bool)
	// ConnectionLost reports a connection that ended without a close
	// handshake: err matches ErrConnectionLost.
	ConnectionLost func(err error)

	// The Client.
	StateChanged func(from, to State)
	// ReconnectScheduled reports OnDisconnect's choice to connect again
	// after delay (0: at once); attempt counts the failed attempts in a
	// row (0 after a connection that was up), reason is why the last
	// connection or attempt ended.
	ReconnectScheduled func(attempt int, delay time.Duration, reason error)
	// OutboxDepth reports the frames waiting in the outbox (counted against
	// Options.OutboxSize) when that number crosses a quarter of the size:
	// on reaching 1/4, 1/2, 3/4 and full, and on falling back below each.
	OutboxDepth func(frames, size int)
	// With Options.Confirm: frames confirmed by a pong (or a clean close),
	// reported unconfirmed at a connection's end, and written again on a
	// new connection; and, always, frames handed back undelivered
	// (OnUndelivered, or the log).
	FramesConfirmed   func(n int)
	FramesUnconfirmed func(n int)
	FramesRedelivered func(n int)
	FramesUndelivered func(n int)
}

// traceConfig returns the Trace of a Client with Options.Trace t and its
// dialer d, and the dialer it dials with: d, or a copy of d with t when d
// has no Trace of its own.
func traceConfig(t *Trace, d *Dialer) (*Trace, *Dialer) {
	if t == nil {
		return d.Trace, d
	}
	if d.Trace == nil {
		dt := *d
		dt.Trace = t
		d = &dt
	}
	return t, d
}

// dialContext returns ctx with t's dial hooks added as an
// httptrace.ClientTrace (composed with one ctx has), so that net.Dialer
// and net/http (HTTP/2) call them as they call the user's.
func (t *Trace) dialContext(ctx context.Context) context.Context {
	if t == nil || (t.DNSStart == nil && t.DNSDone == nil && t.ConnectStart == nil && t.ConnectDone == nil &&
		t.TLSStart == nil && t.TLSDone == nil && t.WroteRequest == nil) {
		return ctx
	}
	ct := &httptrace.ClientTrace{}
	if f := t.DNSStart; f != nil {
		ct.DNSStart = func(i httptrace.DNSStartInfo) { f(i.Host) }
	}
	if f := t.DNSDone; f != nil {
		ct.DNSDone = func(i httptrace.DNSDoneInfo) { f(i.Addrs, i.Err) }
	}
	ct.ConnectStart, ct.ConnectDone = t.ConnectStart, t.ConnectDone
	ct.TLSHandshakeStart, ct.TLSHandshakeDone = t.TLSStart, t.TLSDone
	if f := t.WroteRequest; f != nil {
		ct.WroteRequest = func(i httptrace.WroteRequestInfo) { f(i.Err) }
	}
	return httptrace.WithClientTrace(ctx, ct)
}

// traceTLSStart and traceTLSDone call the context's TLS hooks.
func traceTLSStart(ctx context.Context) {
	if ct := httptrace.ContextClientTrace(ctx); ct != nil && ct.TLSHandshakeStart != nil {
		ct.TLSHandshakeStart()
	}
}

func traceTLSDone(ctx context.Context, tc *tls.Conn, err error) {
	if ct := httptrace.ContextClientTrace(ctx); ct != nil && ct.TLSHandshakeDone != nil {
		ct.TLSHandshakeDone(tc.ConnectionState(), err)
	}
}

// traceWrote calls the context's WroteRequest hook.
func traceWrote(ctx context.Context, err error) {
	if ct := httptrace.ContextClientTrace(ctx); ct != nil && ct.WroteRequest != nil {
		ct.WroteRequest(httptrace.WroteRequestInfo{Err: err})
	}
}

// traceFirstByte calls the context's GotFirstResponseByte hook (once the
// response's head has arrived: the head is read as it comes).
func traceFirstByte(ctx context.Context) {
	if ct := httptrace.ContextClientTrace(ctx); ct != nil && ct.GotFirstResponseByte != nil {
		ct.GotFirstResponseByte()
	}
}

// traceProxy reports a proxy's answer to CONNECT (resp, or err).
func (t *Trace) traceProxy(pu *url.URL, resp *http.Response, err error) {
	if t == nil || t.ProxyConnect == nil {
		return
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
		if status != http.StatusOK {
			err = &ProxyError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header}
		}
	}
	t.ProxyConnect(pu.Redacted(), status, err)
}

// traceResponse reports the answer to the upgrade.
func (t *Trace) traceResponse(status int, proto, subprotocol, extensions string) {
	if t != nil && t.GotResponse != nil {
		t.GotResponse(status, proto, subprotocol, extensions)
	}
}

// traceReady reports a dialled connection ready.
func (t *Trace) traceReady(c *Conn) {
	if t.Ready != nil {
		t.Ready(c.Info())
	}
}

// traceWrite reports a message written (or not: err).
func (c *Conn) traceWrite(typ MessageType, size, wire int, err error) {
	if err == nil && c.trace.MessageWritten != nil {
		c.trace.MessageWritten(typ, size, wire)
	}
}

// traceBatch reports the messages of a batch written.
func (c *Conn) traceBatch(typ MessageType, msgs [][]byte) {
	for _, m := range msgs {
		c.traceWrite(typ, len(m), len(m), nil)
	}
}

// tracePing reports a ping written.
func (t *Trace) tracePing() {
	if t.PingSent != nil {
		t.PingSent()
	}
}

// tracePong reports the pong that answered a ping, with the round trip.
func (t *Trace) tracePong(rtt time.Duration) {
	if t.PongReceived != nil {
		t.PongReceived(rtt)
	}
}

// traceCloseSent reports a close frame written (code 1005: none given).
func (c *Conn) traceCloseSent(code int, reason string, first bool, err error) {
	if err == nil && c.trace.CloseSent != nil {
		c.trace.CloseSent(code, reason, first)
	}
}

// traceCloseReceived reports the server's close frame.
func (c *Conn) traceCloseReceived(code int, reason string, oursFirst bool) {
	if c.trace.CloseReceived != nil {
		c.trace.CloseReceived(code, reason, oursFirst)
	}
}

// traceLost reports the connection lost, when err says it was.
func (c *Conn) traceLost(err error) {
	if c.trace.ConnectionLost != nil && errors.Is(err, ErrConnectionLost) {
		c.trace.ConnectionLost(err)
	}
}

// traceState reports a Client's state transition.
func (c *Client) traceState(from, to State) {
	if from != to && c.cfg.trace.StateChanged != nil {
		c.cfg.trace.StateChanged(from, to)
	}
}

// traceReconnect reports a reconnection OnDisconnect scheduled (da).
func (c *Client) traceReconnect(d Disconnect, da DisconnectAction) {
	f := c.cfg.trace.ReconnectScheduled
	if f == nil {
		return
	}
	switch da.kind {
	case daAfter:
		f(d.Attempt, max(da.delay, 0), d.Reason)
	case daBackoff:
		f(d.Attempt, d.Backoff, d.Reason)
	}
}

// traceDepth reports the outbox's depth when it crossed a quarter of its
// size since it was prev. The caller holds ob.mu.
func (ob *outbox) traceDepth(prev int) {
	if ob.cfg.trace.OutboxDepth == nil || ob.limit <= 0 {
		return
	}
	if level(prev, ob.limit) != level(ob.count, ob.limit) {
		ob.cfg.trace.OutboxDepth(ob.count, ob.limit)
	}
}

// level is the quarter of size that n has reached: 0 below 1/4, 1 from
// 1/4, ... 4 when full.
func level(n, size int) int { return n * 4 / size }

// traceFrames calls f (one of the Frames hooks of the Client's Trace) with
// n, when both are set.
func traceFrames(f func(int), n int) {
	if f != nil && n > 0 {
		f(n)
	}
}
