package contenders

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lxzan/gws"
	"github.com/wsclient/wsclient"
)

// defaultGws is a gws echo server with gws's built-in ping handler, which
// answers every ping with an empty pong.
type defaultGws struct{ gws.BuiltinEventHandler }

func (defaultGws) OnMessage(c *gws.Conn, m *gws.Message) {
	_ = c.WriteMessage(m.Opcode, m.Bytes())
	_ = m.Close()
}

func startDefaultGws(t *testing.T) string {
	t.Helper()
	up := gws.NewUpgrader(defaultGws{}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop()
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "ws://" + ln.Addr().String() + "/"
}

// The wsclient-confirm contender does not hang against a gws server with
// the default (empty) pongs: the client gives confirmation up on the
// connection and every message still echoes.
func TestConfirmContenderDefaultGws(t *testing.T) {
	url := startDefaultGws(t)
	var c Contender
	for _, x := range All() {
		if x.Name == "wsclient-confirm" {
			c = x
		}
	}
	if c.Dial == nil {
		t.Fatal("no wsclient-confirm contender")
	}
	const n = 3000
	got := make(chan struct{}, n)
	closed := make(chan error, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := c.Dial(ctx, url, Options{}, Handler{
		Message: func([]byte) { got <- struct{}{} },
		Closed:  func(err error) { closed <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := make([]byte, 1024) // n × 1 KiB: well past the 1 MiB retention bound
	done := make(chan error, 1)
	go func() {
		for range n {
			if err := conn.Write(msg); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range n {
		select {
		case <-got:
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			done = nil
			<-got
		case err := <-closed:
			t.Fatalf("closed after %d echoes: %v", i, err)
		case <-ctx.Done():
			t.Fatalf("%d of %d echoes: stalled", i, n)
		}
	}
	st := conn.(*wsclientClient).c.Stats()
	if st.PongMismatches != 1 || st.Unconfirmed != 0 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("stats %+v", st)
	if err := conn.(*wsclientClient).c.Send(ctx, wsclient.Frame{Type: wsclient.BinaryMessage, Data: msg}); !errors.Is(err, wsclient.ErrUnconfirmed) || !strings.Contains(err.Error(), "without echoing") {
		t.Fatalf("Send = %v, want ErrUnconfirmed because pongs do not echo", err)
	}
}
