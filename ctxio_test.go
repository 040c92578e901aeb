//go:build !js

package wsclient

import (
	"context"
	"sync"
	"testing"
)

// The first raw read and the first raw write with cancellable contexts
// may run at once (readMu and wmu are different locks): making the shared
// raw I/O state must not race (go test -race).
func TestConnRawIOFirstReadAndWriteConcurrent(t *testing.T) {
	for range 20 {
		conn, s := rawConnPair(t)
		ctx, cancel := context.WithCancel(context.Background())
		msg := append(serverFrameHead(0x2, 64), make([]byte, 64)...)
		s.Write(msg[:1]) // the reader finds half a header: its next read is a sockRead
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, _, err := conn.ReadMessage(ctx); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := conn.WriteMessage(ctx, BinaryMessage, []byte("x")); err != nil {
				t.Error(err)
			}
		}()
		s.Write(msg[1:])
		wg.Wait()
		cancel()
	}
}
