// Command echoserver is the one WebSocket echo server that every benchmark
// contender talks to. It runs as its own process so that the client process's
// CPU time and memory are the client's alone.
//
// It listens on 127.0.0.1 (an ephemeral port unless -addr says otherwise),
// prints one line "ws://127.0.0.1:PORT/" on stdout once it accepts
// connections, echoes every text and binary message back with the same
// opcode, and answers each ping with a pong carrying its payload.
// permessage-deflate is accepted when a client offers it (with or
// without context takeover, no window-bits parameters in the answer), so the
// compression workload compresses in both directions.
//
// The server is github.com/lxzan/gws: one goroutine per connection, pooled
// read buffers, and its own HTTP upgrade path, which makes it one of the
// fastest Go servers and keeps the shared server cost low and equal for all
// contenders. With -stdin-exit it exits when its standard input closes, so it
// never outlives the benchmark that started it; it always exits after
// -lifetime.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"

	"github.com/lxzan/gws"
	"github.com/wsclient/wsclient/bench/internal/rlimit"
)

type echo struct{ gws.BuiltinEventHandler }

// OnPing answers a ping with its payload, as RFC 6455 section 5.5.3
// requires. gws's built-in handler answers with an empty pong, which can
// confirm nothing to a client that matches pongs to its pings (wsclient's
// delivery confirmation gives up on such a server after a bound); a gws
// user who wants conforming pongs writes this. Pongs go out only for pings,
// so this changes nothing for contenders that send none.
func (echo) OnPing(c *gws.Conn, payload []byte) { _ = c.WritePong(payload) }

// OnMessage echoes the message with its opcode.
func (echo) OnMessage(c *gws.Conn, m *gws.Message) {
	_ = c.WriteMessage(m.Opcode, m.Bytes())
	_ = m.Close()
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	lifetime := flag.Duration("lifetime", 3*time.Hour, "exit after this long")
	stdinExit := flag.Bool("stdin-exit", false, "exit when standard input reaches EOF (set by the benchmark runners)")
	maxSize := flag.Int("max", 64<<20, "largest message accepted and echoed")
	flag.Parse()
	log.SetPrefix("echoserver: ")
	log.SetFlags(0)

	if n, err := rlimit.RaiseNoFile(); err != nil {
		log.Printf("raise RLIMIT_NOFILE: %v (now %d)", err, n)
	}

	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatal(err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		log.Fatalf("refusing non-loopback address %q", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := gws.NewServer(echo{}, &gws.ServerOption{
		ReadMaxPayloadSize:  *maxSize,
		WriteMaxPayloadSize: *maxSize,
		HandshakeTimeout:    10 * time.Second,
		PermessageDeflate: gws.PermessageDeflate{
			Enabled:               true,
			Level:                 1, // flate.BestSpeed
			ServerContextTakeover: true,
			ClientContextTakeover: true,
			// 15 means "no parameter" in the answer; anything else would
			// send client_max_window_bits to clients that never offered it,
			// which RFC 7692 forbids and coder/websocket rejects.
			ServerMaxWindowBits: 15,
			ClientMaxWindowBits: 15,
		},
	})

	if *stdinExit {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}()
	}
	time.AfterFunc(*lifetime, func() { os.Exit(0) })

	fmt.Printf("ws://%s/\n", ln.Addr())
	if err := srv.RunListener(ln); err != nil {
		log.Fatal(err)
	}
}
