//go:build linux

package wsclient

import (
	"strings"
	"sync"
	"syscall"

	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/test/netfault"
	"github.com/wsclient/wsclient/wstest"
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

// Dials in a row to two servers, from two goroutines at once, each reach
// the server of their own URL.
func TestDialTwoURLsConcurrent(t *testing.T) {
	var urls [2]string
	var addrs [2]string
	for i := range urls {
		srv := wstest.NewServer(func(sc *wstest.Conn) error { return sc.Echo() }, wstest.WithT(t))
		urls[i] = srv.URL
		addrs[i], _, _ = strings.Cut(strings.TrimPrefix(srv.URL, "ws://"), "/")
	}
	d := &Dialer{Proxy: NoProxy}
	var wg sync.WaitGroup
	for i := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				c, err := d.Dial(t.Context(), urls[i])
				if err != nil {
					t.Error(err)
					return
				}
				if got := c.NetConn().RemoteAddr().String(); got != addrs[i] {
					t.Errorf("dial of %s reached %s", urls[i], got)
				}
				c.CloseNow()
			}
		}()
	}
	wg.Wait()
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
