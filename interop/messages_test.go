package interop

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/peertest"
)

// TestEcho sends text and binary messages of every size in echoSizes, each
// on its own connection, and checks the echo byte for byte and the size the
// server reports having received.
func TestEcho(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		for _, typ := range []wsclient.MessageType{wsclient.TextMessage, wsclient.BinaryMessage} {
			for _, n := range echoSizes {
				t.Run(fmt.Sprintf("%v/%d", typ, n), func(t *testing.T) {
					ctx := ctxFor(t)
					target := fmt.Sprintf("/echo/%v/%d", typ, n)
					c := dial(t, ctx, newDialer(), p.URL+target)
					msg := payload(typ, n, uint64(n))
					echo(t, ctx, c, typ, msg)
					waitMessageEvent(t, p, target, typ == wsclient.BinaryMessage, n)
					closeClean(t, c, p, target)
				})
			}
		}
	})
}

// TestEchoSequence sends every size, alternating types, on one connection
// and reads the echoes back with AppendMessage reusing one buffer, then
// with NextReader.
func TestEchoSequence(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		ctx := ctxFor(t)
		const target = "/sequence"
		c := dial(t, ctx, newDialer(), p.URL+target)
		var msgs [][]byte
		var types []wsclient.MessageType
		for i, n := range echoSizes {
			typ := wsclient.TextMessage
			if i%2 == 1 {
				typ = wsclient.BinaryMessage
			}
			msgs = append(msgs, payload(typ, n, uint64(100+i)))
			types = append(types, typ)
		}
		// Write all first: the server echoes while we are still writing.
		errc := make(chan error, 1)
		go func() {
			for i := range msgs {
				if err := c.WriteMessage(ctx, types[i], msgs[i]); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		var buf []byte
		for i := range msgs {
			var typ wsclient.MessageType
			var err error
			if i%3 == 2 {
				var r io.Reader
				typ, r, err = c.NextReader(ctx)
				if err == nil {
					buf, err = io.ReadAll(r)
				}
			} else {
				typ, buf, err = c.ReadMessage(ctx)
			}
			if err != nil {
				t.Fatalf("read message %d: %v", i, err)
			}
			if typ != types[i] {
				t.Fatalf("message %d: type %v, want %v", i, typ, types[i])
			}
			checkSame(t, fmt.Sprintf("message %d", i), buf, msgs[i])
		}
		if err := <-errc; err != nil {
			t.Fatalf("writer: %v", err)
		}
		closeClean(t, c, p, target)
	})
}

// TestFragmentedSend streams messages through NextWriter with a small
// FragmentSize, in chunks of awkward sizes, so the server has to reassemble
// many continuation frames.
func TestFragmentedSend(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		cases := []struct {
			typ      wsclient.MessageType
			size     int
			fragment int
			chunk    int
		}{
			{wsclient.TextMessage, 10_000, 100, 37},
			{wsclient.BinaryMessage, 10_000, 100, 333},
			{wsclient.TextMessage, 1, 1, 1},
			{wsclient.BinaryMessage, 0, 16, 1},
			{wsclient.BinaryMessage, 300_000, 1000, 65536},
			{wsclient.TextMessage, 200_000, 125, 4093}, // UTF-8 split across frames
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%v/%d/frag%d/chunk%d", tc.typ, tc.size, tc.fragment, tc.chunk), func(t *testing.T) {
				ctx := ctxFor(t)
				target := fmt.Sprintf("/frag/%v/%d/%d", tc.typ, tc.size, tc.fragment)
				d := newDialer()
				d.FragmentSize = tc.fragment
				c := dial(t, ctx, d, p.URL+target)
				msg := payload(tc.typ, tc.size, 7)
				for round := range 2 { // twice: the writer must leave the Conn ready for more
					w, err := c.NextWriter(ctx, tc.typ)
					if err != nil {
						t.Fatalf("NextWriter: %v", err)
					}
					for rest := msg; len(rest) > 0; {
						k := min(tc.chunk, len(rest))
						if n, err := w.Write(rest[:k]); err != nil || n != k {
							t.Fatalf("Write: %d, %v", n, err)
						}
						rest = rest[k:]
					}
					if err := w.Close(); err != nil {
						t.Fatalf("writer Close: %v", err)
					}
					typ, got, err := c.ReadMessage(ctx)
					if err != nil {
						t.Fatalf("round %d: ReadMessage: %v", round, err)
					}
					if typ != tc.typ {
						t.Fatalf("round %d: type %v, want %v", round, typ, tc.typ)
					}
					checkSame(t, "echo of streamed message", got, msg)
				}
				waitMessageEvent(t, p, target, tc.typ == wsclient.BinaryMessage, tc.size)
				closeClean(t, c, p, target)
			})
		}
	})
}

// TestMessageTooBig checks that a message from the server over
// MaxMessageSize ends the connection with close 1009, seen by the server.
func TestMessageTooBig(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		ctx := ctxFor(t)
		const target = "/too-big"
		d := newDialer()
		d.MaxMessageSize = 1000
		c := dial(t, ctx, d, p.URL+target)
		echo(t, ctx, c, wsclient.BinaryMessage, binaryPayload(1000, 1)) // at the limit: fine
		if err := c.WriteMessage(ctx, wsclient.BinaryMessage, binaryPayload(1001, 2)); err != nil {
			t.Fatalf("WriteMessage: %v", err)
		}
		_, _, err := c.ReadMessage(ctx)
		if !errors.Is(err, wsclient.ErrMessageTooBig) {
			t.Fatalf("ReadMessage of a 1001-byte echo with a 1000-byte limit: %v, want ErrMessageTooBig", err)
		}
		var pe *wsclient.ProtocolError
		if !errors.As(err, &pe) || pe.Code != wsclient.CloseMessageTooBig {
			t.Fatalf("error %v is not a *ProtocolError with code 1009", err)
		}
		if ev := waitCloseEvent(t, p, target); ev.Code != wsclient.CloseMessageTooBig {
			t.Fatalf("%s saw close code %d, want 1009", p.Name, ev.Code)
		}
	})
}
