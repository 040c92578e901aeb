//go:build !js

package wsclient

import (
	"context"
	"testing"
)

// BenchmarkConnRoundTripCtx is BenchmarkConnRoundTrip64B with a context
// that can end: the same one for every call (reused) or a new one per call
// (fresh, whose WithCancel's own two allocations are in the figures). The
// read waits for the answer, so its context is watched.
func BenchmarkConnRoundTripCtx(b *testing.B) {
	for _, mode := range []string{"background", "reused", "fresh"} {
		b.Run(mode, func(b *testing.B) {
			conn, srv := benchConn(b)
			go answer64(srv)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if mode == "background" {
				ctx = context.Background()
			}
			msg := make([]byte, 64)
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c, cancel := ctx, context.CancelFunc(nil)
				if mode == "fresh" {
					c, cancel = context.WithCancel(ctx)
				}
				if err := conn.WriteMessage(c, BinaryMessage, msg); err != nil {
					b.Fatal(err)
				}
				if _, p, err := conn.appendMessage(c, buf[:0], false); err != nil || len(p) != 64 {
					b.Fatalf("read: %v (%d bytes)", err, len(p))
				}
				if cancel != nil {
					cancel()
				}
			}
		})
	}
}
