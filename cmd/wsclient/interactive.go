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
// cliHandler.closeCode.
type closeRequest struct{}

// HandleInfo acts on a closeRequest, on the client's goroutine where the
// state cannot change under it.
func (h *cliHandler) HandleInfo(c *wsclient.Client, msg any) wsclient.Action {
	if _, ok := msg.(closeRequest); !ok {
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
	case everConnected:
		// Between connections (--reconnect): nothing to close.
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
		return wsclient.Stop(lc.Err)
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
		return wsclient.Stop(d.Reason)
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

	msgType := wsclient.TextMessage
	if o.binary {
		msgType = wsclient.BinaryMessage
	}
	// endSession asks the client's goroutine to close the connection with
	// code (see HandleInfo); the client then ends.
	endSession := func(code int) {
		if h.closeCode.CompareAndSwap(0, int32(code)) {
			c.Post(closeRequest{})
		}
	}
	var (
		waitC       <-chan time.Time
		lineNo      int
		interrupted bool
	)
	for {
		select {
		case in, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			if in.err != nil {
				lines = nil
				if in.err != io.EOF {
					p.errorf("reading stdin: %v", in.err)
				}
				switch {
				case o.wait == 0:
					endSession(wsclient.CloseNormalClosure)
				case o.wait > 0:
					waitC = time.After(time.Duration(o.wait))
				}
				continue
			}
			lineNo++
			if msgType == wsclient.TextMessage && !utf8.Valid(in.data) {
				p.errorf("line %d is not valid UTF-8 and was not sent (use --binary to send raw bytes)", lineNo)
				continue
			}
			// Send waits for the write (and, while reconnecting, for the
			// next connection): stdin is read no faster than it is sent.
			sendCtx, stop := context.WithCancel(ctx)
			go func() {
				select {
				case <-done:
				case <-sendCtx.Done():
				}
				stop()
			}()
			err := c.Send(sendCtx, wsclient.Frame{Type: msgType, Data: in.data})
			stop()
			if err != nil {
				lines = nil // the client has ended; done follows
				select {
				case <-done:
				default:
					p.errorf("line %d was not sent: %v", lineNo, err)
				}
			}
		case <-waitC:
			endSession(wsclient.CloseNormalClosure)
		case <-sigs:
			if interrupted {
				sctx, scancel := context.WithCancel(context.Background())
				scancel()
				c.Stop(sctx) // drops the connection at once
				return 130, "interrupted again: connection dropped without waiting for the close handshake"
			}
			interrupted = true
			endSession(wsclient.CloseGoingAway)
		case <-done:
			err := c.Wait()
			h.mu.Lock()
			localEnd := h.localEnd
			h.mu.Unlock()
			if h.closeCode.Load() != 0 && err == nil {
				return exitOK, ""
			}
			if localEnd != nil && errors.Is(err, localEnd) {
				return exitError, "close handshake: " + localEnd.Error()
			}
			return classify(err)
		}
	}
}

// maxUnansweredPings is the number of keepalive pings that may go without
// any inbound traffic before the connection is considered lost.
const maxUnansweredPings = 3
