package wsclient

import "testing"

// closeAfterEcho sends one message and closes at once; the echo the server
// sent before it saw the close must still reach HandleFrame.
type closeAfterEcho struct {
	BaseHandler
	got  chan string
	done chan error
}

func (h *closeAfterEcho) OnConnect(c *Client, _ ConnInfo) Action {
	if err := c.Cast(TextFrame("in flight")); err != nil {
		panic(err)
	}
	if err := c.CloseConn(CloseNormalClosure, "bye"); err != nil { // queued behind the Cast
		panic(err)
	}
	return Action{}
}

func (h *closeAfterEcho) HandleFrame(c *Client, f Frame) Action {
	h.got <- string(f.Data)
	return Action{}
}

func (h *closeAfterEcho) Terminate(c *Client, reason error) { h.done <- reason }

func TestClientCloseKeepsMessagesInFlight(t *testing.T) {
	srv := newEcho(t)
	for i := range 20 {
		h := &closeAfterEcho{got: make(chan string, 1), done: make(chan error, 1)}
		c, err := Start(testCtx(t), srv.URL, h, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := recv(t, h.done); err != nil {
			t.Fatalf("run %d: terminate reason %v", i, err)
		}
		select {
		case m := <-h.got:
			if m != "in flight" {
				t.Fatalf("run %d: got %q", i, m)
			}
		default:
			t.Fatalf("run %d: the echo sent before the server's close was lost", i)
		}
		c.Wait()
	}
}
