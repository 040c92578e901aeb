package otelwsclient_test

import (
	"testing"

	"github.com/wsclient/wsclient"
)

// BenchmarkMessageHook is what otelwsclient adds per message: the
// MessageWritten hook with the SDK's meter (and, for spans, its tracer
// recording into memory).
func BenchmarkMessageHook(b *testing.B) {
	for _, spans := range []bool{false, true} {
		name := "metrics"
		if spans {
			name = "metrics+spans"
		}
		b.Run(name, func(b *testing.B) {
			in, _, _ := setup(b, spans)
			tr := in.Trace("ws://127.0.0.1:1/")
			b.ReportAllocs()
			for b.Loop() {
				tr.MessageWritten(wsclient.TextMessage, 64, 64)
			}
		})
	}
}
