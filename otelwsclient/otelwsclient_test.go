package otelwsclient_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/otelwsclient"
	"github.com/wsclient/wsclient/wstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// setup returns an Instrumentation recording into memory.
func setup(t testing.TB, messageSpans bool) (*otelwsclient.Instrumentation, *tracetest.InMemoryExporter, *sdkmetric.ManualReader) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { tp.Shutdown(context.Background()); mp.Shutdown(context.Background()) })
	in, err := otelwsclient.New(otelwsclient.Config{TracerProvider: tp, MeterProvider: mp, MessageSpans: messageSpans})
	if err != nil {
		t.Fatal(err)
	}
	return in, exp, reader
}

// metrics collects the reader's data points as name{attrs} → value (sums,
// gauges) or count (histograms).
func metrics(t *testing.T, r *sdkmetric.ManualReader) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	key := func(name string, set attribute.Set) string {
		var parts []string
		for _, kv := range set.ToSlice() {
			if kv.Key == "url.full" {
				continue
			}
			parts = append(parts, string(kv.Key)+"="+kv.Value.String())
		}
		if len(parts) == 0 {
			return name
		}
		slices.Sort(parts)
		s := name + "{"
		for i, p := range parts {
			if i > 0 {
				s += ","
			}
			s += p
		}
		return s + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelwsclient.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Count)
				}
			}
		}
	}
	return out
}

func spanNamed(t *testing.T, exp *tracetest.InMemoryExporter, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %q in %v", name, exp.GetSpans())
	return tracetest.SpanStub{}
}

func attr(s tracetest.SpanStub, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

type echoHandler struct {
	wsclient.BaseHandler
	got chan string
}

func (*echoHandler) Init(*wsclient.Client) (wsclient.InitMode, error) {
	return wsclient.ConnectOnce, nil
}

func (h *echoHandler) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	h.got <- string(f.Data)
	return wsclient.Action{}
}

// A Client's dial and connection spans, and its metrics, from a real
// connection to an echo server on 127.0.0.1.
func TestClient(t *testing.T) {
	in, exp, reader := setup(t, false)
	srv := wstest.NewEchoServer(wstest.WithT(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := &echoHandler{got: make(chan string, 4)}
	c, err := wsclient.Start(ctx, srv.URL, h, &wsclient.Options{Trace: in.Trace(srv.URL), Confirm: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, wsclient.TextFrame("hello")); err != nil {
		t.Fatal(err)
	}
	if got := <-h.got; got != "hello" {
		t.Fatalf("got %q", got)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	c.Wait()

	dial := spanNamed(t, exp, "websocket.dial")
	var events []string
	for _, e := range dial.Events {
		events = append(events, e.Name)
	}
	if want := []string{"connect.start", "connect.done", "request.written", "response"}; !slices.Equal(events, want) {
		t.Errorf("dial events %q, want %q", events, want)
	}
	if dial.Status.Code != codes.Ok {
		t.Errorf("dial status %v", dial.Status)
	}
	if v, _ := attr(dial, "server.address"); v.AsString() != "127.0.0.1" {
		t.Errorf("server.address %q", v.AsString())
	}
	conn := spanNamed(t, exp, "websocket.connection")
	if len(conn.Links) != 1 || conn.Links[0].SpanContext.SpanID() != dial.SpanContext.SpanID() {
		t.Errorf("connection links %v, want the dial span %v", conn.Links, dial.SpanContext.SpanID())
	}
	if v, _ := attr(conn, "websocket.close.cause"); v.AsString() != "local" {
		t.Errorf("close cause %q", v.AsString())
	}
	if v, _ := attr(conn, "websocket.close.code"); v.AsInt64() != 1000 {
		t.Errorf("close code %d", v.AsInt64())
	}
	if conn.EndTime.IsZero() {
		t.Error("connection span not ended")
	}

	m := metrics(t, reader)
	for k, want := range map[string]float64{
		"websocket.client.connections":                                     0,
		"websocket.client.connections.opened":                              1,
		"websocket.client.connections.closed{websocket.close.cause=local}": 1,
		"websocket.client.dial.duration":                                   1,
		"websocket.client.messages{network.io.direction=transmit}":         1,
		"websocket.client.messages{network.io.direction=receive}":          1,
		"websocket.client.io{network.io.direction=transmit}":               5,
		"websocket.client.io{network.io.direction=receive}":                5,
		"websocket.client.frames{websocket.frame.fate=confirmed}":          1,
		"websocket.client.ping.rtt":                                        1,
	} {
		if got, ok := m[k]; !ok || got != want {
			t.Errorf("%s = %v (%v), want %v; all: %v", k, got, ok, want, m)
		}
	}
}

// A Conn dialled through Instrumentation.Dial, with per-message spans,
// children of its connection span; a server's close ends it as remote.
// A refused dial ends its span with an error.
func TestDialMessageSpans(t *testing.T) {
	in, exp, reader := setup(t, true)
	srv := wstest.NewEchoServer(wstest.WithT(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := in.Dial(ctx, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.WriteMessage(ctx, wsclient.BinaryMessage, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadMessage(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(wsclient.CloseNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	conn := spanNamed(t, exp, "websocket.connection")
	for _, name := range []string{"websocket.send", "websocket.receive"} {
		s := spanNamed(t, exp, name)
		if s.Parent.SpanID() != conn.SpanContext.SpanID() {
			t.Errorf("%s's parent is not the connection span", name)
		}
		if v, _ := attr(s, "websocket.message.size"); v.AsInt64() != 3 {
			t.Errorf("%s size %d", name, v.AsInt64())
		}
		if v, _ := attr(s, "websocket.message.type"); v.AsString() != "binary" {
			t.Errorf("%s type %q", name, v.AsString())
		}
	}

	refuse := wstest.NewServer(nil, wstest.WithT(t), wstest.WithStatus(403, "no"))
	if _, err := in.Dial(ctx, refuse.URL, nil); err == nil {
		t.Fatal("refused dial succeeded")
	}
	var failed tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == "websocket.dial" && s.Status.Code == codes.Error {
			failed = s
		}
	}
	if failed.Name == "" {
		t.Fatalf("no failed dial span in %v", exp.GetSpans())
	}
	m := metrics(t, reader)
	if m["websocket.client.dial.duration{error.type=*wsclient.HandshakeError}"] != 1 {
		t.Errorf("dial durations %v", m)
	}
}
