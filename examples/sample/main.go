// Command sample runs the Erlang websocket_client sample handler
// (examples/sample_ws_handler.erl) on wsclient.Client: it sends "message 1",
// answers each echo with "hello, this is message #N" counting up from 2,
// closes when the echo of message #4 arrives, and prints the four messages
// it received and the reason it terminated.
//
// By default it talks to an echo server embedded in the program (no network
// needed); -url points it at another echo server.
//
//	go run ./examples/sample
//	go run ./examples/sample -url wss://echo.example.org -delay 1s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/examples/sample/handler"
	"github.com/wsclient/wsclient/wstest"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sample:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	url := fs.String("url", "", "WebSocket echo server URL (default: an embedded local echo server)")
	delay := fs.Duration("delay", 0, "pause before each reply (the Erlang sample waits 1s)")
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

	c, err := wsclient.Start(ctx, *url, &handler.Handler{Out: out, Delay: *delay}, nil)
	if err != nil {
		return err
	}
	return c.Wait()
}
