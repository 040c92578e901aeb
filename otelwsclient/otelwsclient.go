// Package otelwsclient reports what wsclient connections and Clients do as
// OpenTelemetry traces and metrics, built on wsclient.Trace.
//
// Traces: a span for each dial ("websocket.dial", its phases as events:
// dns.start, dns.done, connect.start, connect.done, proxy.connect,
// tls.start, tls.done, request.written, response), a span for each
// connection's lifetime ("websocket.connection", linked to its dial's
// span), and, when Config.MessageSpans is set, a span per message
// ("websocket.send", "websocket.receive"; off by default: a span per
// message costs far more than the message).
//
// Metrics (names under websocket.client.): connections (current),
// connections.opened, connections.closed (by websocket.close.cause: local,
// remote, lost), reconnects, dial.duration (s), messages and io (bytes; by
// network.io.direction), ping.rtt (s), outbox.depth, frames (by
// websocket.frame.fate: confirmed, unconfirmed, redelivered, undelivered).
// Attributes follow the OpenTelemetry semantic conventions where they have
// one (server.address, server.port, url.full, network.peer.address,
// network.protocol.name and version, http.response.status_code,
// tls.protocol.version, tls.cipher, error.type); WebSocket has none, so
// its own attributes are under websocket.
//
// A Trace made by Instrumentation.Trace follows one connection at a time:
// give each Client its own (Options.Trace), and dial a Conn with
// Instrumentation.Dial.
package otelwsclient

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsclient/wsclient"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/wsclient/wsclient/otelwsclient"

// Config chooses the providers and the per-message spans.
type Config struct {
	TracerProvider trace.TracerProvider // nil: otel.GetTracerProvider()
	MeterProvider  metric.MeterProvider // nil: otel.GetMeterProvider()
	// MessageSpans records a span per message written or read.
	MessageSpans bool
}

// Instrumentation holds the tracer and the instruments; it is safe for
// concurrent use and is shared by every Trace it makes.
type Instrumentation struct {
	tracer       trace.Tracer
	messageSpans bool

	conns        metric.Int64UpDownCounter
	opened       metric.Int64Counter
	closed       metric.Int64Counter
	reconnects   metric.Int64Counter
	dialDuration metric.Float64Histogram
	messages     metric.Int64Counter
	io           metric.Int64Counter
	pingRTT      metric.Float64Histogram
	outbox       metric.Int64Gauge
	frames       metric.Int64Counter
}

// New makes the tracer and the instruments.
func New(cfg Config) (*Instrumentation, error) {
	tp, mp := cfg.TracerProvider, cfg.MeterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(ScopeName)
	in := &Instrumentation{tracer: tp.Tracer(ScopeName), messageSpans: cfg.MessageSpans}
	var err error
	must := func(e error) {
		if err == nil {
			err = e
		}
	}
	var e error
	in.conns, e = m.Int64UpDownCounter("websocket.client.connections", metric.WithUnit("{connection}"), metric.WithDescription("Connections open now."))
	must(e)
	in.opened, e = m.Int64Counter("websocket.client.connections.opened", metric.WithUnit("{connection}"), metric.WithDescription("Connections established (handshake completed)."))
	must(e)
	in.closed, e = m.Int64Counter("websocket.client.connections.closed", metric.WithUnit("{connection}"), metric.WithDescription("Connections ended, by cause."))
	must(e)
	in.reconnects, e = m.Int64Counter("websocket.client.reconnects", metric.WithUnit("{reconnect}"), metric.WithDescription("Reconnections a Client scheduled."))
	must(e)
	in.dialDuration, e = m.Float64Histogram("websocket.client.dial.duration", metric.WithUnit("s"), metric.WithDescription("Duration of dials: DNS, connect, proxy, TLS and the upgrade."),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	must(e)
	in.messages, e = m.Int64Counter("websocket.client.messages", metric.WithUnit("{message}"), metric.WithDescription("Data messages written and read."))
	must(e)
	in.io, e = m.Int64Counter("websocket.client.io", metric.WithUnit("By"), metric.WithDescription("Payload bytes of data messages written and read (uncompressed)."))
	must(e)
	in.pingRTT, e = m.Float64Histogram("websocket.client.ping.rtt", metric.WithUnit("s"), metric.WithDescription("Round trip of pings answered."),
		metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5))
	must(e)
	in.outbox, e = m.Int64Gauge("websocket.client.outbox.depth", metric.WithUnit("{frame}"), metric.WithDescription("Frames waiting in a Client's outbox, when it last crossed a quarter of its size."))
	must(e)
	in.frames, e = m.Int64Counter("websocket.client.frames", metric.WithUnit("{frame}"), metric.WithDescription("Frames of a Client by fate: confirmed, unconfirmed, redelivered, undelivered."))
	must(e)
	if err != nil {
		return nil, err
	}
	return in, nil
}

// Dial is wsclient.Dial with d's copy traced (d's own Trace, if any, is
// replaced).
func (in *Instrumentation) Dial(ctx context.Context, rawURL string, d *wsclient.Dialer) (*wsclient.Conn, error) {
	var dc wsclient.Dialer
	if d != nil {
		dc = *d
	}
	t := in.newTracker(rawURL)
	dc.Trace = t.trace()
	t.beginDial(ctx)
	c, err := wsclient.Dial(ctx, rawURL, &dc)
	if err != nil {
		t.dialFailed(err)
	}
	return c, err
}

// Trace returns a fresh Trace for one Client (Options.Trace) or for a
// Dialer that dials one connection at a time, whose URL is rawURL.
func (in *Instrumentation) Trace(rawURL string) *wsclient.Trace {
	return in.newTracker(rawURL).trace()
}

// tracker follows one connection at a time: its dial, then its life.
type tracker struct {
	in    *Instrumentation
	url   string
	attrs []attribute.KeyValue // server.address, server.port, url.full

	mu        sync.Mutex
	dialSpan  trace.Span
	dialStart time.Time
	dialErr   error
	connSpan  trace.Span
	connCtx   context.Context
	closeCode int
	closeWhy  string
	local     bool // this side started the close
}

func (in *Instrumentation) newTracker(rawURL string) *tracker {
	t := &tracker{in: in, url: rawURL}
	if u, err := url.Parse(rawURL); err == nil {
		t.url = u.Redacted()
		port, _ := strconv.Atoi(u.Port())
		if port == 0 {
			port = 80
			if u.Scheme == "wss" {
				port = 443
			}
		}
		t.attrs = []attribute.KeyValue{semconv.ServerAddress(u.Hostname()), semconv.ServerPort(port)}
	}
	t.attrs = append(t.attrs, semconv.URLFull(t.url))
	return t
}

var (
	dirTransmit = metric.WithAttributeSet(attribute.NewSet(semconv.NetworkIODirectionTransmit))
	dirReceive  = metric.WithAttributeSet(attribute.NewSet(semconv.NetworkIODirectionReceive))
)

func (t *tracker) trace() *wsclient.Trace {
	in := t.in
	return &wsclient.Trace{
		DNSStart: func(host string) { t.event("dns.start", attribute.String("dns.question.name", host)) },
		DNSDone: func(addrs []net.IPAddr, err error) {
			t.event("dns.done", attribute.Int("websocket.dns.addresses", len(addrs)), errAttr(err))
			t.noteErr(err)
		},
		ConnectStart: func(network, addr string) { t.event("connect.start", semconv.NetworkPeerAddress(addr)) },
		ConnectDone: func(network, addr string, err error) {
			t.event("connect.done", semconv.NetworkPeerAddress(addr), errAttr(err))
			t.noteErr(err)
		},
		ProxyConnect: func(proxy string, status int, err error) {
			t.event("proxy.connect", attribute.String("websocket.proxy", proxy), semconv.HTTPResponseStatusCode(status), errAttr(err))
			t.noteErr(err)
		},
		TLSStart: func() { t.event("tls.start") },
		TLSDone: func(st tls.ConnectionState, err error) {
			t.event("tls.done", semconv.TLSProtocolVersion(tlsVersion(st.Version)), semconv.TLSCipher(tls.CipherSuiteName(st.CipherSuite)), errAttr(err))
			t.noteErr(err)
		},
		WroteRequest: func(err error) { t.event("request.written", errAttr(err)) },
		GotResponse: func(status int, proto, sub, ext string) {
			name, version := "http", "1.1"
			if proto == "h2" {
				version = "2"
			}
			t.event("response", semconv.HTTPResponseStatusCode(status), semconv.NetworkProtocolName(name), semconv.NetworkProtocolVersion(version),
				attribute.String("websocket.subprotocol", sub), attribute.String("websocket.extensions", ext))
		},
		Ready:          t.ready,
		MessageWritten: func(typ wsclient.MessageType, size, wire int) { t.message(typ, size, wire, true) },
		MessageRead:    func(typ wsclient.MessageType, size, wire int) { t.message(typ, size, wire, false) },
		PongReceived: func(rtt time.Duration) {
			in.pingRTT.Record(context.Background(), rtt.Seconds())
		},
		CloseSent: func(code int, reason string, local bool) {
			t.closeFrame(code, reason, local)
			if !local { // our answer to the server's close: the handshake is done
				t.endConn("remote")
			}
		},
		CloseReceived: func(code int, reason string, local bool) {
			t.closeFrame(code, reason, local)
			if local { // the answer to our close
				t.endConn("local")
			}
		},
		ConnectionLost: func(err error) { t.endConnErr(err) },
		StateChanged: func(from, to wsclient.State) {
			switch {
			case to == wsclient.Connecting:
				t.beginDial(context.Background())
			case from == wsclient.Connecting && (to == wsclient.Disconnected || to == wsclient.Stopping || to == wsclient.Terminated):
				t.dialFailed(nil)
			case to == wsclient.Disconnected || to == wsclient.Terminated:
				t.endConn("local") // ended without a close handshake seen: dropped by this side
			}
		},
		ReconnectScheduled: func(int, time.Duration, error) { in.reconnects.Add(context.Background(), 1) },
		OutboxDepth: func(frames, _ int) {
			in.outbox.Record(context.Background(), int64(frames), metric.WithAttributes(semconv.URLFull(t.url)))
		},
		FramesConfirmed:   func(n int) { in.frames.Add(context.Background(), int64(n), fateConfirmed) },
		FramesUnconfirmed: func(n int) { in.frames.Add(context.Background(), int64(n), fateUnconfirmed) },
		FramesRedelivered: func(n int) { in.frames.Add(context.Background(), int64(n), fateRedelivered) },
		FramesUndelivered: func(n int) { in.frames.Add(context.Background(), int64(n), fateUndelivered) },
	}
}

var (
	fateConfirmed   = fate("confirmed")
	fateUnconfirmed = fate("unconfirmed")
	fateRedelivered = fate("redelivered")
	fateUndelivered = fate("undelivered")
)

func fate(s string) metric.AddOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("websocket.frame.fate", s)))
}

// errAttr is err's error.type, or an empty attribute (dropped) for nil.
func errAttr(err error) attribute.KeyValue {
	if err == nil {
		return attribute.KeyValue{}
	}
	return semconv.ErrorTypeKey.String(errorType(err))
}

// errorType is the error.type of err: its Go type.
func errorType(err error) string { return fmt.Sprintf("%T", err) }

func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return ""
}

// beginDial starts the dial's span.
func (t *tracker) beginDial(ctx context.Context) {
	_, span := t.in.tracer.Start(ctx, "websocket.dial", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(t.attrs...))
	t.mu.Lock()
	if t.dialSpan != nil {
		t.dialSpan.End()
	}
	t.dialSpan, t.dialStart, t.dialErr = span, time.Now(), nil
	t.mu.Unlock()
}

func (t *tracker) event(name string, attrs ...attribute.KeyValue) {
	attrs = slices.DeleteFunc(attrs, func(kv attribute.KeyValue) bool { return !kv.Valid() })
	t.mu.Lock()
	span := t.dialSpan
	t.mu.Unlock()
	if span != nil {
		span.AddEvent(name, trace.WithAttributes(attrs...))
	}
}

func (t *tracker) noteErr(err error) {
	if err != nil {
		t.mu.Lock()
		t.dialErr = err
		t.mu.Unlock()
	}
}

// dialFailed ends the dial's span with err (or the last phase's error).
func (t *tracker) dialFailed(err error) {
	t.mu.Lock()
	span, start := t.dialSpan, t.dialStart
	if err == nil {
		err = t.dialErr
	}
	t.dialSpan = nil
	t.mu.Unlock()
	if span == nil {
		return
	}
	et := "dial_failed"
	if err != nil {
		et = errorType(err)
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	} else {
		span.SetStatus(codes.Error, "dial failed")
	}
	t.in.dialDuration.Record(context.Background(), time.Since(start).Seconds(), metric.WithAttributes(semconv.ErrorTypeKey.String(et)))
	span.End()
}

// ready ends the dial's span and starts the connection's.
func (t *tracker) ready(info wsclient.ConnInfo) {
	ctx := context.Background()
	t.mu.Lock()
	dial, start := t.dialSpan, t.dialStart
	t.dialSpan = nil
	t.mu.Unlock()
	attrs := append([]attribute.KeyValue{}, t.attrs...)
	if info.RemoteAddr != nil {
		attrs = append(attrs, semconv.NetworkPeerAddress(info.RemoteAddr.String()))
	}
	attrs = append(attrs, semconv.NetworkProtocolName("websocket"),
		attribute.String("websocket.subprotocol", info.Subprotocol), attribute.String("websocket.extensions", info.Extensions),
		attribute.Bool("websocket.http2", info.HTTP2))
	if info.TLS != nil {
		attrs = append(attrs, semconv.TLSProtocolVersion(tlsVersion(info.TLS.Version)))
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...)}
	if dial != nil {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: dial.SpanContext()}))
		dial.SetStatus(codes.Ok, "")
		dial.End()
		t.in.dialDuration.Record(ctx, time.Since(start).Seconds())
	}
	cctx, span := t.in.tracer.Start(ctx, "websocket.connection", opts...)
	t.mu.Lock()
	if t.connSpan != nil {
		t.connSpan.End()
	}
	t.connSpan, t.connCtx, t.closeCode, t.closeWhy = span, cctx, 0, ""
	t.mu.Unlock()
	t.in.conns.Add(ctx, 1)
	t.in.opened.Add(ctx, 1)
}

func (t *tracker) closeFrame(code int, reason string, local bool) {
	t.mu.Lock()
	if t.closeCode == 0 {
		t.closeCode, t.closeWhy, t.local = code, reason, local
	}
	span := t.connSpan
	t.mu.Unlock()
	if span != nil {
		span.AddEvent("close", trace.WithAttributes(attribute.Int("websocket.close.code", code), attribute.String("websocket.close.reason", reason), attribute.Bool("websocket.close.local", local)))
	}
}

// endConn ends the connection's span, for cause.
func (t *tracker) endConn(cause string) { t.end(cause, nil) }

func (t *tracker) endConnErr(err error) { t.end("lost", err) }

func (t *tracker) end(cause string, err error) {
	t.mu.Lock()
	span, code, why, local := t.connSpan, t.closeCode, t.closeWhy, t.local
	t.connSpan, t.connCtx = nil, nil
	t.mu.Unlock()
	if span == nil {
		return
	}
	if code != 0 && cause != "lost" {
		cause = "remote"
		if local {
			cause = "local"
		}
		span.SetAttributes(attribute.Int("websocket.close.code", code), attribute.String("websocket.close.reason", why))
	}
	span.SetAttributes(attribute.String("websocket.close.cause", cause))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
	ctx := context.Background()
	t.in.conns.Add(ctx, -1)
	t.in.closed.Add(ctx, 1, metric.WithAttributes(attribute.String("websocket.close.cause", cause)))
}

// message counts a message and, with MessageSpans, records its span.
func (t *tracker) message(typ wsclient.MessageType, size, wire int, out bool) {
	ctx := context.Background()
	dir := dirReceive
	if out {
		dir = dirTransmit
	}
	t.in.messages.Add(ctx, 1, dir)
	t.in.io.Add(ctx, int64(size), dir)
	if !t.in.messageSpans {
		return
	}
	t.mu.Lock()
	cctx := t.connCtx
	t.mu.Unlock()
	if cctx == nil {
		cctx = ctx
	}
	name, kind := "websocket.receive", trace.SpanKindConsumer
	if out {
		name, kind = "websocket.send", trace.SpanKindProducer
	}
	_, span := t.in.tracer.Start(cctx, name, trace.WithSpanKind(kind), trace.WithAttributes(
		attribute.String("websocket.message.type", typ.String()),
		attribute.Int("websocket.message.size", size),
		attribute.Int("websocket.message.wire_size", wire)))
	span.End()
}
