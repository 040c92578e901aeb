//go:build !js

package wsclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

type quote struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	Size   int     `json:"size,omitempty"`
}

// WriteValue sends JSON in a text message; ReadValue decodes the answer;
// a message that is not a quote fails with ErrDecode, naming it, and the
// connection goes on.
func TestConnValues(t *testing.T) {
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
	if err := wsclient.WriteValue(ctx, c, nil, quote{"ACME", 1.5, 3}); err != nil {
		t.Fatal(err)
	}
	var q quote
	if err := wsclient.ReadValue(ctx, c, nil, &q); err != nil || q != (quote{"ACME", 2, 0}) {
		t.Fatalf("ReadValue: %+v, %v", q, err)
	}
	err = wsclient.ReadValue(ctx, c, nil, &q)
	if !errors.Is(err, wsclient.ErrDecode) {
		t.Fatalf("ReadValue of a bad message: %v, want ErrDecode", err)
	}
	for _, want := range []string{"binary message of 61 bytes", `"not json at all, and long enough"...`, "*wsclient_test.quote", "invalid character"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := wsclient.ReadValue(ctx, c, nil, &q); err != nil || q.Symbol != "XYZ" {
		t.Fatalf("ReadValue after a decode error: %+v, %v", q, err)
	}
	if err := wsclient.WriteValue(ctx, c, nil, func() {}); err == nil || !strings.Contains(err.Error(), "func()") {
		t.Errorf("WriteValue of a func: %v", err)
	}
	c.Close(wsclient.CloseNormalClosure, "") // the script ends without answering
}

// HandleValues hands decoded values (and decode errors) to the handler's
// function; pings, pongs and the other callbacks reach the wrapped
// handler; ValueFrame sends values.
func TestClientHandleValues(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		c.WriteMessage(wstest.OpText, []byte(`{"symbol":"A","price":1}`))
		c.WriteMessage(wstest.OpText, []byte(`[1,2]`))
		c.WriteMessage(wstest.OpPing, []byte("p"))
		return c.Echo()
	}, wstest.WithT(t))
	h := newTH()
	got := make(chan any, 8)
	vh := wsclient.HandleValues(nil, h, func(c *wsclient.Client, q quote, err error) wsclient.Action {
		if err != nil {
			got <- err
			f, ferr := wsclient.ValueFrame(nil, quote{Symbol: "echo me", Price: 9})
			if ferr != nil {
				t.Error(ferr)
			}
			return wsclient.Reply(f)
		}
		got <- q
		return wsclient.Action{}
	})
	if _, ok := vh.(wsclient.UndeliveredHandler); !ok {
		t.Error("HandleValues hides the wrapped handler's OnUndelivered")
	}
	start(t, srv.URL, vh)
	h.expect(t, "init")
	h.expect(t, "connect")
	if v := recvT(t, got); v != (quote{"A", 1, 0}) {
		t.Fatalf("first value %v", v)
	}
	err, _ := recvT(t, got).(error)
	if !errors.Is(err, wsclient.ErrDecode) || !strings.Contains(err.Error(), "text message of 5 bytes") {
		t.Fatalf("second value: %v, want ErrDecode for the 5-byte text message", err)
	}
	if e := h.expect(t, "frame"); e.f.Type != wsclient.PingMessage {
		t.Fatalf("the ping reached HandleFrame as %v", e.f.Type)
	}
	if v := recvT(t, got); v != (quote{"echo me", 9, 0}) {
		t.Fatalf("echoed value %v", v)
	}
}
