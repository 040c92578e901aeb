//go:build linux

package wsclient

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"
)

// abortOnLog is a slog handler that aborts a dial attempt when a record is
// logged: a hook that runs inside the dial, between the attempt taking the
// socket and the TLS handshake (the InsecureSkipVerify warning).
type abortOnLog struct{ ab *dialAbort }

func (h abortOnLog) Enabled(context.Context, slog.Level) bool { return true }
func (h abortOnLog) Handle(context.Context, slog.Record) error {
	h.ab.abort()
	return nil
}
func (h abortOnLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h abortOnLog) WithGroup(string) slog.Handler      { return h }

// A Client's attempt aborted after the connect to an IP address, just
// before its TLS handshake starts, ends at once: the handshake's deadline
// must not undo the abort (which moved the socket's deadline into the
// past). The server accepts and never answers the ClientHello.
func TestDialIPAbortBeforeTLSHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			held <- c
		}
		close(held)
	}()
	ab := &dialAbort{}
	const timeout = 4 * time.Second
	d := &Dialer{
		HandshakeTimeout:              timeout,
		Proxy:                         NoProxy,
		InsecureSkipVerifyDangerously: true,
		Logger:                        slog.New(abortOnLog{ab}),
	}
	start := time.Now()
	c, err := d.dial(context.Background(), "wss://"+ln.Addr().String()+"/", ab)
	el := time.Since(start)
	var de *DialError
	if c != nil || !errors.As(err, &de) || !errors.Is(err, context.Canceled) {
		t.Fatalf("dial = %v, %v; want a *DialError matching context.Canceled", c, err)
	}
	if el >= timeout/2 {
		t.Fatalf("aborted dial took %v (HandshakeTimeout %v): the abort was lost", el, timeout)
	}
	ln.Close()
	for c := range held {
		c.Close()
	}
}
