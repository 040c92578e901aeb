//go:build !race && !js

package wsclient

import (
	"context"
	"net"
	"testing"
)

// A Dial's allocations stay pinned (TestDialAllocs holds the looser
// bound of issue 11): the URL's parsing (its url.URL and the address with
// the port filled in), the request, the response parsing and
// validation, the time limit, the new Conn. The network is an in-memory
// handshakeConn (allocated by the dial function below, and counted), so
// the count does not depend on net.Dialer (TestDialAllocsTCP counts a
// real socket's). Raise the bound only with a reason; BenchmarkDial shows
// where they go.
func TestDialAllocsPinned(t *testing.T) {
	const want = 9 // measured; one more is allowed below
	d := &Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) {
		return &handshakeConn{}, nil
	}}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := Dial(ctx, "ws://example.com/chat", d); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > want+1 {
		t.Errorf("Dial: %v allocations, want at most %d", allocs, want+1)
	}
	t.Logf("Dial: %v allocations", allocs)
}
