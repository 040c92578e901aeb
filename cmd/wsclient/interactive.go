package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/wsclient/wsclient"
)

// runClient is the interactive client: wsclient [flags] URL.
func runClient(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseClientArgs(args)
	if err != nil {
		if isHelp(err) {
			io.WriteString(stdout, mainHelp)
			return exitOK
		}
		return usageError(stderr, err)
	}
	d, err := o.dialer()
	if err != nil {
		return usageError(stderr, err)
	}
	p := newPrinter(stdout, stderr)
	p.json, p.base64, p.showPingPong, p.quiet = o.json, o.base64, o.showPingPong, o.quiet
	if o.insecure {
		p.errorf("WARNING: --insecure: TLS certificate verification is OFF. Anyone on the network path can read and alter this connection. Use it only with throwaway test servers.")
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	code, msg := session(o, d, p, readLines(stdin), sigs)
	if msg != "" {
		p.errorf("%s", msg)
	}
	return code
}

// cliHandler is the wsclient.Handler behind the interactive client: it
// prints what arrives and decides about reconnecting.
type cliHandler struct {
	wsclient.BaseHandler
	o       *clientOptions
	p       *printer
	backoff wsclient.Backoff

	// closeCode, when not 0, is the close code the user asked for (end of
	// input, Ctrl-C): the session ends after that close, and a connection
	// that comes up meanwhile is closed at once.
	closeCode atomic.Int32

	// Set on the client's goroutine, read after Wait.
	mu        sync.Mutex
	connected bool  // a connection was established at least once
	localEnd  error // how our own close ended (nil: handshake completed)
}

func (h *cliHandler) Init(*wsclient.Client) (wsclient.InitMode, error) {
	if h.o.reconnect {
		return wsclient.KeepReconnecting, nil
	}
	return wsclient.ConnectOnce, nil
}

func (h *cliHandler) OnConnect(c *wsclient.Client, info wsclient.ConnInfo) wsclient.Action {
	h.mu.Lock()
	h.connected = true
	h.mu.Unlock()
	h.p.connected(c.URL(), info.Subprotocol, info.Extensions)
	if code := h.closeCode.Load(); code != 0 {
		return wsclient.CloseConn(int(code), "")
	}
	return wsclient.Action{}
}

func (h *cliHandler) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	switch f.Type {
	case wsclient.TextMessage, wsclient.BinaryMessage:
		h.p.message(f.Type == wsclient.BinaryMessage, f.Data)
	case wsclient.PingMessage:
		h.p.control("ping", f.Data)
	case wsclient.PongMessage:
		h.p.control("pong", f.Data)
	}
	return wsclient.Action{}
}

// closeRequest, posted to the client, ends the session with the code in
// cliHandler.closeCode. An urgent request (Ctrl-C) also abandons a first
// connection attempt still in progress; otherwise (end of input) that
// connection is made and then closed.
type closeRequest struct{ urgent bool }

// HandleInfo acts on a closeRequest, on the client's goroutine where the
// state cannot change under it.
func (h *cliHandler) HandleInfo(c *wsclient.Client, msg any) wsclient.Action {
	req, ok := msg.(closeRequest)
	if !ok {
		return wsclient.Action{}
	}
	h.mu.Lock()
	everConnected := h.connected
	h.mu.Unlock()
	switch st := c.State(); {
	case st == wsclient.Connected:
		return wsclient.CloseConn(int(h.closeCode.Load()), "")
	case st == wsclient.Closing:
		// Closing already; OnDisconnect ends the session.
	case everConnected || req.urgent:
		// Between connections (--reconnect), or interrupted while
		// connecting: nothing to close.
		go c.Stop(context.Background())
	default:
		// The first connection is still being made: OnConnect closes it,
		// or OnDisconnect reports why it failed.
	}
	return wsclient.Action{}
}

func (h *cliHandler) OnDisconnect(_ *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	var lc *wsclient.LocalCloseError
	var ce *wsclient.CloseError
	switch {
	case errors.As(d.Reason, &lc):
		// Our own close: the session is over.
		h.mu.Lock()
		h.localEnd = lc.Err
		h.mu.Unlock()
		if lc.Err == nil {
			h.p.closed(lc.Code, lc.Reason, "client")
		} else {
			h.p.disconnected(d.Reason, false)
		}
		return wsclient.StopWith(lc.Err)
	case errors.As(d.Reason, &ce):
		h.p.closed(ce.Code, ce.Reason, "server")
	default:
		h.p.disconnected(d.Reason, h.o.reconnect)
	}
	h.mu.Lock()
	everConnected := h.connected
	h.mu.Unlock()
	// Reconnect only with --reconnect, only after a first successful
	// connection (a wrong URL or a refused handshake fails at once), and
	// not once the user has asked to end.
	if !h.o.reconnect || !everConnected || h.closeCode.Load() != 0 {
		return wsclient.StopWith(d.Reason)
	}
	delay := h.backoff.Next(d.Attempt)
	h.p.reconnecting(d.Attempt+1, delay)
	return wsclient.ReconnectAfter(delay)
}

// session runs the client until the connection ends (or, with --reconnect,
// until the user ends it) and returns the exit code and a final message.
func session(o *clientOptions, d *wsclient.Dialer, p *printer, lines <-chan inputLine, sigs <-chan os.Signal) (int, string) {
	h := &cliHandler{o: o, p: p, backoff: wsclient.DefaultBackoff}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := wsclient.Start(ctx, o.url, h,
		wsclient.WithDialer(d),
		wsclient.WithKeepalive(o.keepalive, maxUnansweredPings),
		wsclient.WithBackoff(h.backoff),
	)
	if err != nil {
		return exitError, err.Error()
	}
	done := c.Done()
	inputEnd, sending := sendLines(ctx, c, o.binary, lines, p)

	// endSession asks the client's goroutine to close the connection with
	// code (see HandleInfo); the client then ends.
	endSession := func(code int, urgent bool) {
		if h.closeCode.CompareAndSwap(0, int32(code)) {
			c.Post(closeRequest{urgent: urgent})
		}
	}
	var (
		waitC       <-chan time.Time
		interrupted bool
	)
	for {
		select {
		case err := <-inputEnd:
			if err != io.EOF {
				p.errorf("reading stdin: %v", err)
			}
			switch {
			case o.wait == 0:
				endSession(wsclient.CloseNormalClosure, false)
			case o.wait > 0:
				waitC = time.After(time.Duration(o.wait))
			}
		case <-waitC:
			endSession(wsclient.CloseNormalClosure, false)
		case <-sigs:
			if interrupted {
				sctx, scancel := context.WithCancel(context.Background())
				scancel()
				c.Stop(sctx) // drops the connection at once
				return 130, "interrupted again: connection dropped without waiting for the close handshake"
			}
			interrupted = true
			endSession(wsclient.CloseGoingAway, true)
		case <-done:
			// A line being sent when the client ended is reported before
			// the exit (Send returns at once now).
			sending.Lock()
			sending.Unlock()
			err := c.Wait()
			h.mu.Lock()
			localEnd, connected := h.localEnd, h.connected
			h.mu.Unlock()
			if h.closeCode.Load() != 0 && err == nil {
				if interrupted && !connected {
					return 130, "interrupted before the connection was established"
				}
				return exitOK, ""
			}
			if localEnd != nil && errors.Is(err, localEnd) {
				return exitError, "close handshake: " + localEnd.Error()
			}
			return classify(err)
		}
	}
}

// sendLines sends the lines from stdin, in order, each once the previous one
// has been written (while reconnecting, they wait for the next connection):
// stdin is read no faster than the server takes it. The returned channel
// receives the error that ended the input (io.EOF at its normal end); the
// mutex is held while a line is being sent.
func sendLines(ctx context.Context, c *wsclient.Client, binary bool, lines <-chan inputLine, p *printer) (<-chan error, *sync.Mutex) {
	typ := wsclient.TextMessage
	if binary {
		typ = wsclient.BinaryMessage
	}
	end := make(chan error, 1)
	var sending sync.Mutex
	go func() {
		lineNo := 0
		for in := range lines {
			if in.err != nil {
				end <- in.err
				return
			}
			lineNo++
			if typ == wsclient.TextMessage && !utf8.Valid(in.data) {
				p.errorf("line %d is not valid UTF-8 and was not sent (use --binary to send raw bytes)", lineNo)
				continue
			}
			sending.Lock()
			err := c.Send(ctx, wsclient.Frame{Type: typ, Data: in.data})
			if err != nil && ctx.Err() == nil {
				p.errorf("line %d was not sent: %v", lineNo, err)
			}
			sending.Unlock()
			if err != nil && (ctx.Err() != nil || errors.Is(err, wsclient.ErrTerminated)) {
				return // the session is over
			}
		}
	}()
	return end, &sending
}

// maxUnansweredPings is the number of keepalive pings that may go without
// any inbound traffic before the connection is considered lost.
const maxUnansweredPings = 3
