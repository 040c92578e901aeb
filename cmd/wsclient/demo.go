package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/examples/sample/handler"
	"github.com/wsclient/wsclient/wstest"
)

// runDemo runs the Erlang sample handler with the callback Client against
// an embedded echo server (or --url).
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsclient demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	url := fs.String("url", "", "")
	delay := durationFlag(250 * time.Millisecond)
	fs.Var(&delay, "delay", "")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if isHelp(err) {
			io.WriteString(stdout, demoHelp)
			return exitOK
		}
		return usageError(stderr, err)
	}
	if len(pos) > 0 {
		return usageError(stderr, fmt.Errorf("demo takes no arguments, got %q", pos))
	}
	if delay < 0 {
		return usageError(stderr, errors.New("--delay must not be negative"))
	}
	if *url != "" {
		u, note, err := normalizeURL(*url)
		if err != nil {
			return usageError(stderr, fmt.Errorf("--url: %w", err))
		}
		if note != "" {
			fmt.Fprintf(stderr, "wsclient: demo: %s\n", note)
		}
		*url = u
	}
	if *url == "" {
		srv, err := startEcho([]wstest.Option{wstest.WithRecordLimit(0)})
		if err != nil {
			fmt.Fprintf(stderr, "wsclient: demo: starting the echo server: %v\n", err)
			return exitError
		}
		defer srv.Close()
		*url = srv.URL
		fmt.Fprintf(stdout, "Started a local echo server at %s\n", srv.URL)
	}
	fmt.Fprintf(stdout, "Running the sample handler against %s\n", redact(*url))

	sigCtx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(sigCtx, time.Minute)
	defer cancelTimeout()
	h := &handler.Handler{Out: stdout, Delay: time.Duration(delay)}
	c, err := wsclient.Start(ctx, *url, h, &wsclient.Options{Logger: discardLogger})
	if err == nil {
		err = c.Wait()
	}
	if err == nil {
		return exitOK
	}
	if sigCtx.Err() != nil {
		// Ctrl-C: the client closed the connection and stopped.
		fmt.Fprintln(stderr, "wsclient: demo: interrupted")
		return exitOK
	}
	code, msg := classify(err, 0)
	if code != exitOK {
		fmt.Fprintf(stderr, "wsclient: demo: %s\n", redact(msg))
	}
	return code
}
