package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
	if o.version {
		fmt.Fprintln(stdout, versionString())
		return exitOK
	}
	d, err := o.dialer()
	if err != nil {
		return usageError(stderr, err)
	}
	p := newPrinter(stdout, stderr)
	p.json, p.base64, p.showPingPong, p.quiet = o.json, o.base64, o.showPingPong, o.quiet
	interactive := isTerminal(stdin) && len(o.execute) == 0
	p.marks = !o.json && isTerminal(stdout)
	p.prompt = p.marks && interactive
	if !o.slashSet {
		o.slash = interactive
	}
	if o.oneMessage && !o.waitSet {
		o.wait = -1 // -1 waits for its message
	}
	if o.urlNote != "" {
		p.status("%s", o.urlNote)
	}
	if o.insecure {
		p.status("WARNING: %s: TLS certificate verification is OFF. Anyone on the network path can read and alter this connection. Use it only with throwaway test servers.", o.insecureFlag)
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	var lines <-chan inputLine
	if len(o.execute) > 0 {
		lines = messageLines(o.execute) // -x: instead of stdin
	} else {
		lines = readLines(stdin, o.lineLimit())
	}
	s := &session{o: o, p: p, lines: lines, drainInput: !isTerminal(stdin) && len(o.execute) == 0}
	code, msg := s.run(d, sigs)
	if msg != "" {
		p.errorf("%s", msg)
	}
	switch s.unsent {
	case 0:
	case 1:
		p.errorf("1 line from stdin was not sent")
	default:
		p.errorf("%d lines from stdin were not sent", s.unsent)
	}
	return code
}

// cliHandler is the wsclient.Handler behind the interactive client: it
// prints what arrives and decides about reconnecting.
type cliHandler struct {
	wsclient.BaseHandler
	o *clientOptions
	p *printer

	// closeCode, when not 0, is the close code the user asked for (end of
	// input, Ctrl-C, /close, -1's message): the session ends after that
	// close, and a connection that comes up meanwhile is closed at once.
	// closeReason (under mu) goes with it.
	closeCode atomic.Int32

	// pings counts the /ping commands whose pongs are still to be shown
	// (also without --show-ping-pong).
	pings atomic.Int32
	// gotOne: with -1, the one message was received (client goroutine only).
	gotOne bool

	// ready receives the client once it has connected for the first time:
	// stdin lines wait for it, so that none is lost to a failed first
	// connection.
	ready     chan *wsclient.Client
	readyOnce sync.Once

	// Set on the client's goroutine, read after Wait.
	mu          sync.Mutex
	connected   bool      // a connection was established at least once
	localEnd    error     // how our own close ended (nil: handshake completed)
	closeAt     time.Time // when our close frame was asked for
	closeReason string    // the reason to send with closeCode
	// hop is the URL the current connection attempt has reached: the
	// target of its last followed redirect (-L), or "" for o.url.
	hop string
}

// onRedirect is the Dialer's OnRedirect with -L: the library follows the
// redirect (its rules: at most 10, never wss:// to ws://, no credentials
// once the chain leaves the first host); the command says so, and
// remembers where the attempt went for the "connected to" line.
func (h *cliHandler) onRedirect(r wsclient.Redirect) error {
	h.mu.Lock()
	h.hop = r.URL
	h.mu.Unlock()
	h.p.redirected(r.StatusCode, r.URL, r.CredentialsDropped)
	return nil
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
	url := h.o.url
	if h.hop != "" {
		url, h.hop = h.hop, ""
	}
	h.mu.Unlock()
	h.readyOnce.Do(func() { h.ready <- c })
	h.p.connected(url, info.Subprotocol, info.Extensions)
	if code := h.closeCode.Load(); code != 0 {
		return h.closeConn(c, code)
	}
	return wsclient.Action{}
}

// closeConn returns the action that closes the connection with code and
// notes when the close began.
func (h *cliHandler) closeConn(c *wsclient.Client, code int32) wsclient.Action {
	h.mu.Lock()
	h.closeAt = time.Now()
	reason := h.closeReason
	h.mu.Unlock()
	_ = c.CloseConn(int(code), reason) // a valid code: the CLI checked it
	return wsclient.Action{}
}

func (h *cliHandler) HandleFrame(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
	switch f.Type {
	case wsclient.TextMessage, wsclient.BinaryMessage:
		if h.o.oneMessage && h.gotOne {
			return wsclient.Action{} // -1: after the one message, while closing
		}
		h.p.message(f.Type == wsclient.BinaryMessage, f.Data)
		if h.o.oneMessage {
			h.gotOne = true
			if h.closeCode.CompareAndSwap(0, wsclient.CloseNormalClosure) {
				return h.closeConn(c, wsclient.CloseNormalClosure)
			}
		}
	case wsclient.PingMessage:
		h.p.control("ping", f.Data, false)
	case wsclient.PongMessage:
		// A pong answering /ping is shown anyway (a keepalive's could be
		// taken for it: both are pongs).
		asked := false
		for n := h.pings.Load(); n > 0 && !asked; n = h.pings.Load() {
			asked = h.pings.CompareAndSwap(n, n-1)
		}
		h.p.control("pong", f.Data, asked)
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
		code := h.closeCode.Load()
		if req.urgent {
			h.p.status("closing with %d: waiting up to %v for the server's close frame (Ctrl-C again to quit at once)", code, closeTimeout)
		}
		return h.closeConn(c, code)
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
	h.mu.Lock()
	everConnected := h.connected
	h.hop = "" // the next attempt starts again from o.url
	h.mu.Unlock()
	// Reconnect only with --reconnect, only after a first successful
	// connection (a wrong URL or a refused handshake fails at once), and
	// not once the user has asked to end.
	reconnect := h.o.reconnect && everConnected && h.closeCode.Load() == 0
	switch {
	case errors.As(d.Reason, &lc):
		// Our own close: the session is over.
		h.mu.Lock()
		h.localEnd = lc.Err
		h.mu.Unlock()
		if lc.Err == nil {
			h.p.closed(lc.Code, lc.Reason, "client", true)
		} else {
			h.p.disconnected(d.Reason, false)
		}
		return wsclient.StopWith(lc.Err)
	case errors.As(d.Reason, &ce):
		// An abnormal close that ends the session is said once, by the
		// final error message.
		h.p.closed(ce.Code, ce.Reason, "server", reconnect || normalClose(ce.Code))
	default:
		// Said once: by the reconnect status, or by the final error.
		h.p.disconnected(d.Reason, reconnect)
	}
	if !reconnect {
		return wsclient.StopWith(d.Reason)
	}
	delay := d.Backoff
	h.p.reconnecting(d.Attempt+1, delay)
	return wsclient.ReconnectAfter(delay)
}

// session is one run of the interactive client: the client, the stdin
// lines, and how it all ended.
type session struct {
	o          *clientOptions
	p          *printer
	lines      <-chan inputLine
	drainInput bool // count the stdin lines left unsent at the end (not a terminal)
	unsent     int  // stdin lines never sent, known after run
}

// run runs the client until the connection ends (or, with --reconnect,
// until the user ends it) and returns the exit code and a final message.
func (s *session) run(d *wsclient.Dialer, sigs <-chan os.Signal) (int, string) {
	o, p := s.o, s.p
	h := &cliHandler{o: o, p: p, ready: make(chan *wsclient.Client, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snd := startSender(ctx, h, s.lines)
	inputEnded := false
	// finish stops the sender and counts what it could not send.
	finish := func(code int, msg string) (int, string) {
		cancel()
		<-snd.done
		s.unsent = snd.unsent
		if !inputEnded && !snd.ended && s.drainInput {
			s.unsent += drain(s.lines, 200*time.Millisecond)
		}
		return code, msg
	}

	if d.FollowRedirects {
		dd := *d
		dd.OnRedirect = h.onRedirect
		d = &dd
	}
	opts := &wsclient.Options{Dialer: d, Keepalive: time.Duration(o.keepalive), KeepaliveMissed: maxUnansweredPings, Backoff: reconnectBackoff, Logger: discardLogger}
	var tr *tracer
	if o.trace {
		tr = &tracer{p: p, start: time.Now()}
		opts.Trace = tr.trace()
	}
	c, err := wsclient.Start(ctx, o.url, h, opts)
	if err != nil {
		return finish(exitError, errText(err))
	}
	if tr != nil {
		defer func() { c.Wait(); tr.stats(c.Stats()) }()
	}
	clientDone := make(chan struct{})
	go func() { c.Wait(); close(clientDone) }()
	// endSession asks the client's goroutine to close the connection with
	// code (see HandleInfo); the client then ends.
	endSession := func(code int, reason string, urgent bool) {
		h.mu.Lock()
		if h.closeCode.Load() == 0 {
			h.closeReason = reason
		}
		h.mu.Unlock()
		if h.closeCode.CompareAndSwap(0, int32(code)) {
			c.Post(closeRequest{urgent: urgent})
		}
	}
	var (
		waitC         <-chan time.Time
		interrupted   bool
		interruptedAt time.Time
	)
	for {
		select {
		case err := <-snd.end:
			inputEnded = true
			if err != io.EOF {
				p.errorf("reading stdin: %v", err)
			}
			switch {
			case o.wait == 0:
				endSession(wsclient.CloseNormalClosure, "", false)
			case o.wait > 0:
				waitC = time.After(time.Duration(o.wait))
			}
		case <-waitC:
			endSession(wsclient.CloseNormalClosure, "", false)
		case cmd := <-snd.closeCmd:
			endSession(cmd.code, cmd.reason, false)
		case <-sigs:
			if interrupted && time.Since(interruptedAt) < interruptRepeat {
				continue // the same Ctrl-C, delivered twice
			}
			if interrupted {
				sctx, scancel := context.WithCancel(context.Background())
				scancel()
				c.Stop(sctx) // drops the connection at once
				return finish(exitInterrupted, "interrupted again: connection dropped without waiting for the close handshake")
			}
			interrupted, interruptedAt = true, time.Now()
			endSession(wsclient.CloseGoingAway, "", true)
		case <-clientDone:
			err := c.Wait()
			h.mu.Lock()
			localEnd, connected, closeAt := h.localEnd, h.connected, h.closeAt
			h.mu.Unlock()
			if h.closeCode.Load() != 0 && err == nil {
				if interrupted && !connected {
					return finish(exitInterrupted, "interrupted before the connection was established")
				}
				return finish(exitOK, "")
			}
			if localEnd != nil && errors.Is(err, localEnd) {
				if !closeAt.IsZero() && time.Since(closeAt) >= closeTimeout-closeTimeout/10 {
					return finish(exitError, fmt.Sprintf("the server never answered our close frame within %v; connection dropped", closeTimeout))
				}
				return finish(exitError, "close handshake failed: "+errText(localEnd))
			}
			code, msg := classify(err, time.Duration(o.timeout))
			var he *wsclient.HandshakeError
			if errors.As(err, &he) && closedUnanswered(he) && strings.HasPrefix(o.url, "ws://") {
				msg += "\n  (is this a TLS port? try wss://)"
			}
			return finish(code, msg)
		}
	}
}

// interruptRepeat is how soon after a first interrupt another one counts as
// the same: one Ctrl-C can arrive twice at once (`timeout -s INT` signals
// the process and then its group), and no one presses Ctrl-C twice that
// fast on purpose.
const interruptRepeat = 150 * time.Millisecond

// sender sends stdin lines to the client.
type sender struct {
	end      chan error    // the error that ended the input (io.EOF at its normal end), after every line was sent
	closeCmd chan slashCmd // a /close command, for the session to end with
	done     chan struct{} // closed when the sending goroutine has returned
	// Read after done:
	unsent int  // lines read but never sent
	ended  bool // the input ended (or, with -1, its one message was sent)
}

// startSender sends the lines from stdin, in order, each once the previous
// one has been written (while reconnecting, they wait for the next
// connection): stdin is read no faster than the server takes it. The first
// line waits for the first connection (h.ready). Lines that could not be
// sent because the session ended are counted, not reported one by one.
// With slash commands on, lines starting with "/" are commands; with -1,
// input ends after the first message sent.
func startSender(ctx context.Context, h *cliHandler, lines <-chan inputLine) *sender {
	o, p := h.o, h.p
	typ := wsclient.TextMessage
	if o.binary {
		typ = wsclient.BinaryMessage
	}
	s := &sender{end: make(chan error, 1), closeCmd: make(chan slashCmd, 1), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		var c *wsclient.Client
		// connected waits for the first connection; false when the
		// session ended first.
		connected := func() bool {
			if c == nil {
				select {
				case c = <-h.ready:
				case <-ctx.Done():
					s.unsent++
					return false
				}
			}
			return true
		}
		lineNo := 0
		for {
			var in inputLine
			select {
			case l, ok := <-lines:
				if !ok {
					return
				}
				in = l
			case <-ctx.Done():
				return
			}
			if in.err != nil {
				s.ended = true
				s.end <- in.err
				return
			}
			lineNo++
			p.typed()
			if in.tooLong > 0 {
				p.errorf("line %d (%d bytes) is longer than --max-message-size and was not sent", lineNo, in.tooLong)
				p.showPrompt()
				continue
			}
			data := in.data
			if o.slash {
				cmd, msg, isCmd, err := parseSlash(data)
				switch {
				case err != nil:
					p.errorf("%v\n%s", err, slashHelp)
					p.showPrompt()
					continue
				case isCmd && cmd.name == "help":
					p.errorf("%s", slashHelp)
					p.showPrompt()
					continue
				case isCmd && cmd.name == "close":
					s.closeCmd <- cmd
					return // the session ends: what follows is not sent
				case isCmd:
					if !connected() {
						return
					}
					f := wsclient.Frame{Type: wsclient.PongMessage, Data: cmd.data}
					if cmd.name == "ping" {
						f = wsclient.Frame{Type: wsclient.PingMessage, Data: cmd.data}
						h.pings.Add(1)
					}
					if err := c.Cast(f); err != nil {
						p.errorf("/%s: %s", cmd.name, errText(err))
					}
					p.showPrompt()
					continue
				}
				data = msg
			}
			if typ == wsclient.TextMessage && !utf8.Valid(data) {
				p.errorf("line %d is not valid UTF-8 and was not sent (use --binary to send raw bytes)", lineNo)
				p.showPrompt()
				continue
			}
			if !connected() {
				return
			}
			err := c.Send(ctx, wsclient.Frame{Type: typ, Data: data})
			if err != nil && (ctx.Err() != nil || errors.Is(err, wsclient.ErrClosed)) {
				s.unsent++
				return // the session is over
			}
			if err != nil {
				p.errorf("line %d was not sent: %s", lineNo, errText(err))
			}
			p.showPrompt()
			if o.oneMessage {
				// -1: one message out; the rest of the input is not read.
				s.ended = true
				s.end <- io.EOF
				return
			}
		}
	}()
	return s
}

// drain counts the lines still coming from stdin, for up to d or until it
// ends.
func drain(lines <-chan inputLine, d time.Duration) int {
	t := time.NewTimer(d)
	defer t.Stop()
	n := 0
	for {
		select {
		case in, ok := <-lines:
			if !ok || in.err != nil {
				return n
			}
			n++
		case <-t.C:
			return n
		}
	}
}

// reconnectBackoff is the delay before each reconnect with --reconnect (the
// help text states it: keep them in step): 500ms, doubling up to 30s, each
// shortened at random by up to half, so the first retry comes 250-500ms
// after the connection ended.
var reconnectBackoff = wsclient.Backoff{
	Initial:    500 * time.Millisecond,
	Max:        30 * time.Second,
	Multiplier: 2,
	Jitter:     0.5,
}

// maxUnansweredPings is the number of keepalive pings that may go without
// any inbound traffic before the connection is considered lost.
const maxUnansweredPings = 3
