package wsvalue_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/peertest"
	"github.com/wsclient/wsclient/internal/test/race"
	"github.com/wsclient/wsclient/wstest"
	"github.com/wsclient/wsclient/wsvalue"
)

type quote struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	Size   int     `json:"size,omitempty"`
}

// Write sends JSON in a text message; Read decodes the answer;
// a message that is not a quote fails with ErrDecode, naming it, and the
// connection goes on.
func TestReadWrite(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		op, msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if op != wstest.OpText || string(msg) != `{"symbol":"ACME","price":1.5,"size":3}` {
			t.Errorf("server got %v %q", op, msg)
		}
		c.WriteMessage(wstest.OpText, []byte(`{"symbol":"ACME","price":2}`))
		c.WriteMessage(wstest.OpBinary, []byte(`not json at all, and long enough to be cut short in the error`))
		c.WriteMessage(wstest.OpText, []byte(`{"symbol":"XYZ","price":3}`))
		_, _, err = c.ExpectClose()
		return err
	}, wstest.WithT(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, srv.URL, &wsclient.Dialer{Proxy: wsclient.NoProxy})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := wsvalue.Write(ctx, c, nil, quote{"ACME", 1.5, 3}); err != nil {
		t.Fatal(err)
	}
	var q quote
	if err := wsvalue.Read(ctx, c, nil, &q); err != nil || q != (quote{"ACME", 2, 0}) {
		t.Fatalf("Read: %+v, %v", q, err)
	}
	err = wsvalue.Read(ctx, c, nil, &q)
	if !errors.Is(err, wsvalue.ErrDecode) {
		t.Fatalf("Read of a bad message: %v, want ErrDecode", err)
	}
	for _, want := range []string{"binary message of 61 bytes", `"not json at all, and long enough"...`, "*wsvalue_test.quote", "invalid character"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := wsvalue.Read(ctx, c, nil, &q); err != nil || q.Symbol != "XYZ" {
		t.Fatalf("Read after a decode error: %+v, %v", q, err)
	}
	if err := wsvalue.Write(ctx, c, nil, func() {}); err == nil || !strings.Contains(err.Error(), "func()") {
		t.Errorf("Write of a func: %v", err)
	}
	c.Close(wsclient.CloseNormalClosure, "") // the script ends without answering
}

// Handle hands decoded values (and decode errors) to the handler's
// function; pings, pongs and the other callbacks reach the wrapped
// handler; Frame sends values.
func TestHandle(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		c.WriteMessage(wstest.OpText, []byte(`{"symbol":"A","price":1}`))
		c.WriteMessage(wstest.OpText, []byte(`[1,2]`))
		c.WriteMessage(wstest.OpPing, []byte("p"))
		return c.Echo()
	}, wstest.WithT(t))
	h := &recorder{frames: make(chan wsclient.Frame, 8), connected: make(chan struct{}, 1)}
	got := make(chan any, 8)
	vh := wsvalue.Handle(nil, h, func(c *wsclient.Client, q quote, err error) wsclient.Action {
		if err != nil {
			got <- err
			f, ferr := wsvalue.Frame(nil, quote{Symbol: "echo me", Price: 9})
			if ferr != nil {
				t.Error(ferr)
			}
			return wsclient.Reply(f)
		}
		got <- q
		return wsclient.Action{}
	})
	if _, ok := vh.(wsclient.UndeliveredHandler); !ok {
		t.Error("Handle hides the wrapped handler's OnUndelivered")
	}
	c, err := wsclient.Start(t.Context(), srv.URL, vh, &wsclient.Options{Dialer: &wsclient.Dialer{Proxy: wsclient.NoProxy}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Stop(ctx)
		c.Wait()
	}()
	recv(t, h.connected)
	if v := recv(t, got); v != (quote{"A", 1, 0}) {
		t.Fatalf("first value %v", v)
	}
	err, _ = recv(t, got).(error)
	if !errors.Is(err, wsvalue.ErrDecode) || !strings.Contains(err.Error(), "text message of 5 bytes") {
		t.Fatalf("second value: %v, want ErrDecode for the 5-byte text message", err)
	}
	if f := recv(t, h.frames); f.Type != wsclient.PingMessage {
		t.Fatalf("the ping reached HandleFrame as %v", f.Type)
	}
	if v := recv(t, got); v != (quote{"echo me", 9, 0}) {
		t.Fatalf("echoed value %v", v)
	}
}

// recorder is the wrapped handler: it records the frames that reach it
// and its connects.
type recorder struct {
	wsclient.BaseHandler
	frames    chan wsclient.Frame
	connected chan struct{}
}

func (r *recorder) OnConnect(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
	r.connected <- struct{}{}
	return wsclient.Action{}
}

func (r *recorder) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	r.frames <- f
	return wsclient.Action{}
}

func (r *recorder) OnUndelivered(*wsclient.Client, wsclient.Frame, error) {}

// recv receives from ch, failing the test after 10 s.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

func TestMain(m *testing.M) { peertest.VerifyTestMain(m) }

// Write allocates nothing per message beyond the codec's own (JSON of a
// flat struct: none); Read makes only encoding/json's own.
func TestWriteAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return nil
			}
		}
	})
	defer srv.Close()
	ctx := context.Background()
	c, err := wsclient.Dial(ctx, srv.URL, &wsclient.Dialer{Proxy: wsclient.NoProxy})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	q := quote{"ACME", 1.5, 3}
	if n := testing.AllocsPerRun(200, func() {
		if err := wsvalue.Write(ctx, c, nil, &q); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Write: %v allocations per message, want 0", n)
	}
}
