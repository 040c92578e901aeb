package interop

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/peertest"
)

// TestConcurrentWriters writes from several goroutines at once, whole
// messages and streamed ones, with and without compression, while pinging;
// every echo must come back intact and each writer's messages in order.
func TestConcurrentWriters(t *testing.T) {
	type setup struct {
		name     string
		start    func(t *testing.T) *peertest.Peer
		compress bool
	}
	setups := []setup{
		{"node-ws", func(t *testing.T) *peertest.Peer { return peertest.NodeWS(t, peertest.NodeOptions{}) }, false},
		{"node-ws-deflate", func(t *testing.T) *peertest.Peer {
			return peertest.NodeWS(t, peertest.NodeOptions{Deflate: &peertest.DeflateOptions{}})
		}, true},
		{"python-websockets", func(t *testing.T) *peertest.Peer {
			return peertest.PythonWS(t, peertest.PythonOptions{NoCompression: true})
		}, false},
		{"python-websockets-deflate", func(t *testing.T) *peertest.Peer { return peertest.PythonWS(t, peertest.PythonOptions{}) }, true},
	}
	const writers, perWriter = 6, 40
	for _, su := range setups {
		t.Run(su.name, func(t *testing.T) {
			p := su.start(t)
			ctx := ctxFor(t)
			const target = "/concurrent"
			d := newDialer()
			d.FragmentSize = 512
			var c *wsclient.Conn
			if su.compress {
				d.Compression = &wsclient.CompressionOptions{}
				c = dialCompressed(t, ctx, d, p.URL+target)
			} else {
				c = dial(t, ctx, d, p.URL+target)
			}
			ctl := recordControls(c)
			// msg builds writer w's i-th message: a header naming it, then
			// a body of varying size (some over the fragment size).
			msg := func(w, i int) []byte {
				head := fmt.Sprintf("w%d-m%03d:", w, i)
				body := bytes.Repeat([]byte{byte('a' + w)}, (i*997+w*131)%3000)
				return append([]byte(head), body...)
			}
			var wg sync.WaitGroup
			errc := make(chan error, writers+1)
			for w := range writers {
				wg.Go(func() {
					for i := range perWriter {
						m := msg(w, i)
						if i%3 == 0 {
							// Streamed, in two writes.
							wr, err := c.NextWriter(ctx, wsclient.TextMessage)
							if err == nil {
								_, err = wr.Write(m[:len(m)/2])
							}
							if err == nil {
								_, err = wr.Write(m[len(m)/2:])
							}
							if err == nil {
								err = wr.Close()
							}
							if err != nil {
								errc <- fmt.Errorf("writer %d message %d: %w", w, i, err)
								return
							}
							continue
						}
						if err := c.WriteMessage(ctx, wsclient.TextMessage, m); err != nil {
							errc <- fmt.Errorf("writer %d message %d: %w", w, i, err)
							return
						}
					}
				})
			}
			pingsDone := make(chan struct{})
			go func() {
				defer close(pingsDone)
				for i := range 20 {
					if _, err := c.Ping(ctx, fmt.Appendf(nil, "ping-%d", i)); err != nil {
						errc <- fmt.Errorf("ping %d: %w", i, err)
						return
					}
				}
			}()
			next := make([]int, writers)
			var buf []byte
			for range writers * perWriter {
				var err error
				_, buf, err = c.ReadMessage(ctx)
				if err != nil {
					select {
					case werr := <-errc:
						t.Fatalf("ReadMessage: %v (a writer failed: %v)", err, werr)
					default:
					}
					t.Fatalf("ReadMessage: %v", err)
				}
				var w, i int
				if _, err := fmt.Sscanf(string(buf), "w%d-m%03d:", &w, &i); err != nil || w < 0 || w >= writers {
					t.Fatalf("echo starts with %q: not one of our messages", buf[:min(len(buf), 20)])
				}
				if i != next[w] {
					t.Fatalf("writer %d: echo of message %d, want %d (order lost)", w, i, next[w])
				}
				checkSame(t, fmt.Sprintf("writer %d message %d", w, i), buf, msg(w, i))
				next[w]++
			}
			// Ping waits for its pong, which arrives only while this
			// goroutine reads: echo until the pings are through.
			for pinging := true; pinging; {
				select {
				case <-pingsDone:
					pinging = false
				default:
					echo(t, ctx, c, wsclient.BinaryMessage, []byte("nudge"))
				}
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Fatal(err)
			}
			// Every ping was sent before this message, so every pong
			// arrives before its echo.
			echo(t, ctx, c, wsclient.BinaryMessage, []byte("final"))
			var pongs []string
			for len(ctl) > 0 {
				if got := <-ctl; got.typ == wsclient.PongMessage {
					pongs = append(pongs, string(got.payload))
				}
			}
			if len(pongs) != 20 {
				t.Fatalf("saw %d pongs for 20 pings: %q", len(pongs), pongs)
			}
			for i, pl := range pongs {
				if want := fmt.Sprintf("ping-%d", i); pl != want {
					t.Fatalf("pong %d carries %q, want %q", i, pl, want)
				}
			}
			closeClean(t, c, p, target)
		})
	}
}
