// Command ping starts a keepalive from OnConnect (the Erlang onconnect
// result {ok, State, KeepaliveMs}) and prints each pong the server sends
// back, then closes after -n pongs.
//
// By default it talks to an echo server embedded in the program (no network
// needed); -url points it at another server.
//
//	go run ./examples/ping
//	go run ./examples/ping -url wss://echo.example.org -n 5 -interval 2s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// handler pings every interval and counts pongs.
type handler struct {
	wsclient.BaseHandler
	out      io.Writer
	interval time.Duration
	max      int

	pongs     int
	connected time.Time
}

func (h *handler) OnConnect(_ *wsclient.Client, info wsclient.ConnInfo) wsclient.Action {
	h.connected = time.Now()
	fmt.Fprintf(h.out, "connected to %s, pinging every %v\n", info.URL, h.interval)
	return wsclient.Keepalive(h.interval)
}

func (h *handler) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	if f.Type != wsclient.PongMessage {
		return wsclient.Action{}
	}
	h.pongs++
	// The library sends the keepalive pings and does not say when, so
	// this is the time since connecting, not a round-trip time.
	fmt.Fprintf(h.out, "pong %d, %v since connecting\n", h.pongs, time.Since(h.connected).Round(time.Millisecond))
	if h.max > 0 && h.pongs >= h.max {
		return wsclient.CloseAndStop(wsclient.CloseNormalClosure, "enough pongs", nil)
	}
	return wsclient.Action{}
}

func (h *handler) Terminate(_ *wsclient.Client, reason error) {
	r := "normal"
	if reason != nil {
		r = reason.Error()
	}
	fmt.Fprintf(h.out, "terminated after %d pongs: %s\n", h.pongs, r)
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ping:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	url := fs.String("url", "", "WebSocket server URL (default: an embedded local echo server)")
	n := fs.Int("n", 3, "stop after this many pongs (0: run until interrupted)")
	interval := fs.Duration("interval", time.Second, "keepalive interval")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		srv := wstest.NewEchoServer()
		defer srv.Close()
		*url = srv.URL
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	h := &handler{out: out, interval: *interval, max: *n}
	c, err := wsclient.Start(ctx, *url, h, nil)
	if err != nil {
		return err
	}
	if err := c.Wait(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
