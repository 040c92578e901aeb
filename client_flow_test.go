//go:build !js

package wsclient

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/test/peertest"
	"github.com/wsclient/wsclient/wstest"
)

// flowHandler hands Drained values to a channel.
type flowHandler struct {
	BaseHandler
	connected chan struct{}
	drained   chan Drained
}

func (h *flowHandler) OnConnect(*Client, ConnInfo) Action {
	close(h.connected)
	return Action{}
}

func (h *flowHandler) HandleInfo(_ *Client, msg any) Action {
	if d, ok := msg.(Drained); ok {
		h.drained <- d
	}
	return Action{}
}

// Over a slow link (toxiproxy's bandwidth toxic, 512 KB/s upstream, and a
// 32 KiB socket send buffer) a producer casts 1 MiB in 1 KiB frames as
// fast as the outbox takes them: the bytes waiting never pass
// OutboxBytes, the producer is slowed by ErrOutboxFull and resumes on
// Drained, and the server gets every frame, in order; Stats agrees.
func TestClientOutboxBytesSlowLink(t *testing.T) {
	tp := peertest.Toxiproxy(t)
	if tp == nil {
		return
	}
	const n, size = 1024, 1 << 10
	const high, low = 64 << 10, 16 << 10
	got := make(chan error, 1)
	srv := newServer(t, func(sc *wstest.Conn) error {
		for i := range n {
			_, msg, err := sc.ReadMessage()
			if err != nil {
				got <- err
				return err
			}
			if len(msg) != size || binary.BigEndian.Uint32(msg) != uint32(i) {
				got <- errors.New("frame out of order or damaged")
				return nil
			}
		}
		got <- nil
		<-sc.Context().Done()
		return nil
	}, wstest.WithRecordLimit(0))
	ctx := testCtx(t)
	proxy, err := tp.CreateProxy(ctx, t.Name(), srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proxy.AddToxic(ctx, peertest.Bandwidth(peertest.Upstream, 512)); err != nil {
		t.Fatal(err)
	}
	d := &Dialer{Proxy: NoProxy, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var nd net.Dialer
		c, err := nd.DialContext(ctx, network, addr)
		if err == nil {
			err = c.(*net.TCPConn).SetWriteBuffer(32 << 10)
		}
		return c, err
	}}
	h := &flowHandler{connected: make(chan struct{}), drained: make(chan Drained, 64)}
	c, err := Start(ctx, "ws://"+proxy.Addr, h, &Options{Dialer: d, OutboxBytes: high, OutboxLowBytes: low})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	recv(t, h.connected)

	refusals, maxQueued := 0, 0
	start := time.Now()
	buf := make([]byte, size)
	for i := 0; i < n; {
		binary.BigEndian.PutUint32(buf, uint32(i))
		switch err := c.Cast(Frame{Type: BinaryMessage, Data: buf}); {
		case errors.Is(err, ErrOutboxFull):
			refusals++
			if d := recv(t, h.drained); d.Bytes > low {
				t.Fatalf("Drained with %d bytes waiting, low mark %d", d.Bytes, low)
			}
			continue
		case err != nil:
			t.Fatal(err)
		}
		i++
		maxQueued = max(maxQueued, c.Stats().QueuedBytes)
	}
	if err := recv(t, got); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	st := c.Stats()
	t.Logf("%d frames in %v; %d refusals, each followed by Drained; at most %d bytes queued (bound %d)", n, elapsed, refusals, maxQueued, high)
	if maxQueued > high {
		t.Errorf("%d bytes queued, over the bound of %d", maxQueued, high)
	}
	if refusals == 0 {
		t.Error("the producer was never slowed down")
	}
	if st.MessagesOut != n || st.QueuedFrames != 0 || st.QueuedBytes != 0 || st.Undelivered != 0 {
		t.Errorf("stats %+v: want %d messages out, nothing queued or undelivered", st, n)
	}
}

// A Cast refused at confirmation's retention bound, with the outbox empty,
// gets its Drained once a pong makes room: nothing is taken from the
// outbox then, so the pong must signal it.
func TestClientDrainedAfterConfirmBound(t *testing.T) {
	held := make(chan []byte, 1)
	release := make(chan struct{})
	srv := newServer(t, func(sc *wstest.Conn) error {
		for {
			op, p, err := sc.ReadMessage()
			if err != nil {
				return nil
			}
			if op != wstest.OpPing {
				continue
			}
			select {
			case held <- p: // the first ping: held until released
				select {
				case <-release:
				case <-sc.Context().Done():
					return nil
				}
			default:
			}
			sc.WriteFrame(true, 0, wstest.OpPong, p)
		}
	})
	h := &flowHandler{connected: make(chan struct{}), drained: make(chan Drained, 4)}
	const bound = 4 << 10
	c, err := Start(testCtx(t), srv.URL, h, &Options{Confirm: bound, OutboxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	recv(t, h.connected)
	if err := c.Cast(Frame{Type: BinaryMessage, Data: make([]byte, 2*bound)}); err != nil {
		t.Fatal(err)
	}
	// The ping asked for at a quarter of the bound is written after the
	// frame was kept: the bound is full now.
	recv(t, held)
	if err := c.Cast(Frame{Type: BinaryMessage, Data: []byte("x")}); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("Cast at the retention bound = %v, want ErrOutboxFull", err)
	}
	close(release)
	if d := recv(t, h.drained); d.Frames != 0 || d.Bytes != 0 {
		t.Fatalf("Drained %+v, want an empty outbox", d)
	}
	if err := c.Cast(Frame{Type: BinaryMessage, Data: []byte("x")}); err != nil {
		t.Fatalf("Cast after Drained = %v", err)
	}
}
