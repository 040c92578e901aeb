package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
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

// session runs one connection (without --reconnect) on a plain Conn and
// returns the exit code and a final message.
func session(o *clientOptions, d *wsclient.Dialer, p *printer, lines <-chan inputLine, sigs <-chan os.Signal) (int, string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dialDone := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-dialDone:
		}
	}()
	conn, err := d.Dial(ctx, o.url)
	close(dialDone)
	if err != nil {
		if ctx.Err() != nil {
			return exitError, "interrupted while connecting"
		}
		return classify(err)
	}
	p.connected(o.url, conn.Subprotocol(), conn.Extensions())

	ka := newKeepalive(o.keepalive)
	conn.SetControlHandler(func(typ wsclient.MessageType, payload []byte) {
		ka.alive()
		switch typ {
		case wsclient.PingMessage:
			p.control("ping", payload)
		case wsclient.PongMessage:
			p.control("pong", payload)
		}
	})
	readErr := make(chan error, 1)
	go func() {
		var buf []byte
		for {
			typ, data, err := conn.AppendMessage(context.Background(), buf[:0])
			if err != nil {
				readErr <- err
				return
			}
			ka.alive()
			p.message(typ == wsclient.BinaryMessage, data)
			buf = data
		}
	}()

	msgType := wsclient.TextMessage
	if o.binary {
		msgType = wsclient.BinaryMessage
	}
	var (
		waitC     <-chan time.Time
		closing   bool // we sent a close frame
		closeDone = make(chan error, 1)
		lineNo    int
	)
	startClose := func(code int) {
		if closing {
			return
		}
		closing = true
		lines, waitC = nil, nil
		go func() { closeDone <- conn.Close(code, "") }()
	}
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
					startClose(wsclient.CloseNormalClosure)
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
			if err := conn.WriteMessage(context.Background(), msgType, in.data); err != nil {
				// The reader sees why the connection ended.
				lines = nil
				continue
			}
		case <-waitC:
			startClose(wsclient.CloseNormalClosure)
		case <-ka.timeout():
			conn.CloseNow()
			<-readErr
			p.disconnected(wsclient.ErrKeepaliveTimeout, false)
			return classify(wsclient.ErrKeepaliveTimeout)
		case <-ka.tick():
			if ka.due() {
				go conn.Ping(context.Background(), nil)
			}
		case <-sigs:
			if closing {
				conn.CloseNow()
				return 130, "interrupted again: connection dropped without waiting for the close handshake"
			}
			startClose(wsclient.CloseGoingAway)
		case err := <-readErr:
			ka.stop()
			var ce *wsclient.CloseError
			if closing {
				cerr := <-closeDone
				if errors.As(err, &ce) {
					p.closed(ce.Code, ce.Reason, "client")
					if cerr != nil {
						return exitError, "close handshake: " + cerr.Error()
					}
					return exitOK, ""
				}
				p.disconnected(err, false)
				return classify(err)
			}
			if errors.As(err, &ce) {
				p.closed(ce.Code, ce.Reason, "server")
			} else {
				p.disconnected(err, false)
			}
			return classify(err)
		}
	}
}

// keepalive tracks pings sent on an interval and unanswered since the last
// inbound traffic. A zero interval disables it (its channels never fire).
type keepalive struct {
	t      *time.Ticker
	missed chan struct{}
	seen   chan struct{}
	out    int // pings sent since the last inbound traffic
}

// maxUnansweredPings is the number of keepalive pings that may go without
// any inbound traffic before the connection is considered lost.
const maxUnansweredPings = 3

func newKeepalive(interval time.Duration) *keepalive {
	k := &keepalive{missed: make(chan struct{}), seen: make(chan struct{}, 1)}
	if interval > 0 {
		k.t = time.NewTicker(interval)
	}
	return k
}

func (k *keepalive) alive() {
	select {
	case k.seen <- struct{}{}:
	default:
	}
}

func (k *keepalive) tick() <-chan time.Time {
	if k.t == nil {
		return nil
	}
	return k.t.C
}

// due is called on each tick: it reports whether to send a ping.
func (k *keepalive) due() bool {
	select {
	case <-k.seen:
		k.out = 0
	default:
	}
	if k.out >= maxUnansweredPings {
		close(k.missed)
		k.t.Stop()
		return false
	}
	k.out++
	return true
}

func (k *keepalive) timeout() <-chan struct{} { return k.missed }

func (k *keepalive) stop() {
	if k.t != nil {
		k.t.Stop()
	}
}
