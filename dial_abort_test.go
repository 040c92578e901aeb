//go:build !js

package wsclient

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// A Client's attempt ends through its dialAbort: during the upgrade (the
// server accepted TCP and never answers), during the network dial, and
// before it starts, each with a *DialError matching context.Canceled and
// no goroutine left behind (goleak in TestMain).
func TestDialAbort(t *testing.T) {
	silent := wstest.NewEchoServer(wstest.WithT(t), wstest.WithHandshakeDelay(time.Minute))
	stuck := &Dialer{NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	for _, tc := range []struct {
		name  string
		d     *Dialer
		url   string
		early bool
	}{
		{"upgrade", &Dialer{}, silent.URL, false},
		{"network dial", stuck, "ws://192.0.2.1/", false},
		{"before", &Dialer{}, silent.URL, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ab := &dialAbort{}
			if tc.early {
				ab.abort()
			} else {
				time.AfterFunc(50*time.Millisecond, ab.abort)
			}
			start := time.Now()
			c, err := tc.d.dialRaw(context.Background(), tc.url, ab)
			var de *DialError
			if c != nil || !errors.As(err, &de) || !errors.Is(err, context.Canceled) {
				t.Fatalf("dial = %v, %v; want a *DialError matching context.Canceled", c, err)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Fatalf("abort took %v", el)
			}
		})
	}
}

// Stop while the Client's attempt waits for an upgrade that never comes
// ends it at once (the attempt has no context of its own to cancel).
func TestClientStopWhileConnecting(t *testing.T) {
	silent := wstest.NewEchoServer(wstest.WithT(t), wstest.WithHandshakeDelay(time.Minute))
	c, err := Start(context.Background(), silent.URL, &connectHandler{connected: make(chan struct{}, 1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.State() != Connecting && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // polling a state: there is no event to await
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Stop took %v", el)
	}
	<-clientDone(c)
}
