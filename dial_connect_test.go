//go:build linux

package wsclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptrace"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/test/netfault"
)

// unansweredAddr returns the address of a TCP listener on 127.0.0.1 whose
// accept queue is full (backlog 0, one connection queued and never
// accepted): Linux drops further SYNs, so a connect to it waits until the
// client gives up.
func unansweredAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr // this connect found the queue full
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("the listener's accept queue never filled up")
	return ""
}

// A direct dial to an IP address (the connect without a timer context,
// see dialIP) still ends at HandshakeTimeout, for a context that never
// ends and for one that can be cancelled, with the error a context's
// deadline gives; a cancelled context and a context's earlier deadline
// end it too.
func TestDialIPConnectLimits(t *testing.T) {
	addr := unansweredAddr(t)
	url := "ws://" + addr + "/"
	cancelled := func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(150*time.Millisecond, cancel)
		return ctx, cancel
	}
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		want    error
	}{
		{"HandshakeTimeout, background", 300 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}, context.DeadlineExceeded},
		{"HandshakeTimeout, cancellable", 300 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, context.DeadlineExceeded},
		{"HandshakeTimeout, later context deadline", 300 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Minute)
		}, context.DeadlineExceeded},
		{"context deadline", time.Minute, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancelled", time.Minute, cancelled, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			d := &Dialer{HandshakeTimeout: tc.timeout, Proxy: NoProxy}
			start := time.Now()
			c, err := Dial(ctx, url, d)
			el := time.Since(start)
			var de *DialError
			if c != nil || !errors.As(err, &de) || de.Op != "dial" || !errors.Is(err, tc.want) {
				t.Fatalf("Dial = %v, %v; want a dial *DialError matching %v", c, err, tc.want)
			}
			if el > 5*time.Second {
				t.Fatalf("Dial took %v", el)
			}
			if tc.want == context.DeadlineExceeded {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("%v: not a timeout net.Error", err)
				}
				if el < 250*time.Millisecond {
					t.Errorf("Dial gave up after %v, before the limit", el)
				}
			}
		})
	}
}

// A limit that has passed before the connect starts fails it at once.
func TestDialIPExpired(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := dialIP(ctx, time.Now().Add(time.Minute), "127.0.0.1:1", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past context deadline: %v", err)
	}
	_, err = dialIP(context.Background(), time.Now().Add(-time.Second), "127.0.0.1:1", nil)
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("past deadline: %v", err)
	}
}

// The caller's context values reach the connect of a direct dial to an IP
// address: an httptrace.ClientTrace sees it start and end, for a context
// that never ends and for one that can.
func TestDialIPContextValues(t *testing.T) {
	srv := newEcho(t)
	for _, cancellable := range []bool{false, true} {
		var started, done string
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			ConnectStart: func(network, addr string) { started = network + " " + addr },
			ConnectDone: func(network, addr string, err error) {
				if err == nil {
					done = network + " " + addr
				}
			},
		})
		if cancellable {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
		}
		c, err := Dial(ctx, srv.URL, &Dialer{Proxy: NoProxy})
		if err != nil {
			t.Fatal(err)
		}
		want := "tcp " + c.Info().RemoteAddr.String()
		c.CloseNow()
		if started != want || done != want {
			t.Errorf("cancellable %v: trace saw start %q, done %q; want %q", cancellable, started, done, want)
		}
	}
}

// A wss:// dial to an IP address whose server takes TCP and never answers
// the TLS handshake ends at HandshakeTimeout (the context, which never
// ends, does not carry the limit), with a "tls" *DialError matching
// context.DeadlineExceeded.
func TestDialIPTLSTimeout(t *testing.T) {
	addr := netfault.SilentServer(t)
	d := &Dialer{HandshakeTimeout: 300 * time.Millisecond, Proxy: NoProxy}
	start := time.Now()
	c, err := Dial(context.Background(), "wss://"+addr+"/", d)
	el := time.Since(start)
	var de *DialError
	if c != nil || !errors.As(err, &de) || de.Op != "tls" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial = %v, %v; want a tls *DialError matching context.DeadlineExceeded", c, err)
	}
	if el > 5*time.Second {
		t.Fatalf("Dial took %v", el)
	}
}

// A Client's attempt (an abort handle, a context that never ends) to an
// IP address: the connect without a cancelable context (see dialIP) ends
// when the attempt is aborted, before or while it waits, with a dial
// *DialError matching context.Canceled, and at HandshakeTimeout when it
// is not; an unanswered TLS handshake ends when aborted too.
func TestDialIPAbort(t *testing.T) {
	addr := unansweredAddr(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(held)
				return
			}
			held <- c
		}
	}()
	for _, tc := range []struct {
		name    string
		url     string
		abort   time.Duration // -1: before the dial; 0: never
		timeout time.Duration
		op      string
		want    error
	}{
		{"connect, aborted while waiting", "ws://" + addr + "/", 150 * time.Millisecond, time.Minute, "dial", context.Canceled},
		{"connect, aborted before", "ws://" + addr + "/", -1, time.Minute, "dial", context.Canceled},
		{"connect, HandshakeTimeout", "ws://" + addr + "/", 0, 300 * time.Millisecond, "dial", context.DeadlineExceeded},
		{"TLS, aborted while waiting", "wss://" + ln.Addr().String() + "/", 150 * time.Millisecond, time.Minute, "tls", context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ab := &dialAbort{}
			switch {
			case tc.abort < 0:
				ab.abort()
			case tc.abort > 0:
				tm := time.AfterFunc(tc.abort, ab.abort)
				defer tm.Stop()
			}
			d := &Dialer{HandshakeTimeout: tc.timeout, Proxy: NoProxy}
			start := time.Now()
			c, err := d.dialRaw(context.Background(), tc.url, ab)
			el := time.Since(start)
			var de *DialError
			if c != nil || !errors.As(err, &de) || de.Op != tc.op || !errors.Is(err, tc.want) {
				t.Fatalf("dial = %v, %v; want a %s *DialError matching %v", c, err, tc.op, tc.want)
			}
			if el > 5*time.Second {
				t.Fatalf("dial took %v", el)
			}
		})
	}
	ln.Close()
	for c := range held {
		c.Close()
	}
}

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
	addr := netfault.SilentServer(t)
	ab := &dialAbort{}
	const timeout = 4 * time.Second
	d := &Dialer{
		HandshakeTimeout:              timeout,
		Proxy:                         NoProxy,
		InsecureSkipVerifyDangerously: true,
		Logger:                        slog.New(abortOnLog{ab}),
	}
	start := time.Now()
	c, err := d.dialRaw(context.Background(), "wss://"+addr+"/", ab)
	el := time.Since(start)
	var de *DialError
	if c != nil || !errors.As(err, &de) || !errors.Is(err, context.Canceled) {
		t.Fatalf("dial = %v, %v; want a *DialError matching context.Canceled", c, err)
	}
	if el >= timeout/2 {
		t.Fatalf("aborted dial took %v (HandshakeTimeout %v): the abort was lost", el, timeout)
	}
}

// A refused connect to an IP address (the connect without a timer
// context) still says what failed: a dial *DialError wrapping net's
// *net.OpError, matching syscall.ECONNREFUSED, for Dial and for a
// Client's attempt.
func TestDialIPRefusedError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	d := &Dialer{Proxy: NoProxy, HandshakeTimeout: 5 * time.Second}
	for _, ab := range []*dialAbort{nil, {}} {
		c, err := d.dialRaw(context.Background(), url, ab)
		var de *DialError
		var oe *net.OpError
		if c != nil || !errors.As(err, &de) || de.Op != "dial" || !errors.As(err, &oe) ||
			!errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, context.Canceled) {
			t.Fatalf("dial (abort handle %v) = %v, %v; want a dial *DialError with a *net.OpError matching ECONNREFUSED", ab != nil, c, err)
		}
	}
}
