package wsclient

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// machineHandler stays disconnected by default and records nothing.
type machineHandler struct{ BaseHandler }

func (machineHandler) Init(*Client) (InitMode, error) { return StartDisconnected, nil }

// pipeConn returns a clientConn over a pipe whose far end is drained.
func pipeConn(t *testing.T) *clientConn {
	a, b := net.Pipe()
	go io.Copy(io.Discard, b)
	t.Cleanup(func() { a.Close(); b.Close() })
	cn := newConn(a, nil, connConfig{closeTimeout: time.Second, fragmentSize: 4096, writeBufSize: defaultWriteBuf}, 0)
	return &clientConn{cn: cn}
}

// machineIn returns a running client put into state st by hand (no
// goroutine of its own: events are dispatched by the test).
func machineIn(t *testing.T, st State) (*Client, *clientConn) {
	c := New(closedTCPURL(t), machineHandler{}, &Options{StopTimeout: time.Hour})
	if err := c.begin(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.m = machine{st: phIdle, ctx: context.Background(), mode: uint8(StartDisconnected)}
	var cc *clientConn
	switch st {
	case Connecting:
		c.m.dialAbort = &dialAbort{}
	case Connected, Closing, Stopping:
		cc = pipeConn(t)
		c.m.conn = cc
		c.cur.Store(cc)
		c.ob.attach(cc)
		if st == Closing {
			c.m.localClose = &LocalCloseError{Code: 1000}
		}
	}
	c.lock()
	if st == Terminated {
		c.setState(phIdle)
		c.dispatch(&event{kind: evStop})
	}
	c.setState(map[State]phase{Disconnected: phIdle, Connecting: phConnecting, Connected: phConnected,
		Closing: phClosing, Stopping: phStopping, Terminated: phTerminated}[st])
	c.unlock()
	return c, cc
}

func closedTCPURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "ws://" + ln.Addr().String()
}

// TestClientStateEvents walks every state × event pair of the table in the
// Client doc comment and checks the state each leads to.
func TestClientStateEvents(t *testing.T) {
	kinds := []struct {
		name string
		kind evKind
	}{
		{"connect", evConnect}, {"dialed", evDialed}, {"dialFailed", evDialed}, {"frame", evFrame},
		{"info", evInfo}, {"closeConn", evCloseConn}, {"remoteClose", evRemoteClose},
		{"closeSent", evCloseSent}, {"connEnd", evConnEnd}, {"timer", evTimer},
		{"stop", evStop}, {"force", evForce}, {"undelivered", evUndelivered},
	}
	// want[state][event]; a missing entry means the state does not change.
	want := map[State]map[string]State{
		Disconnected: {"connect": Connecting, "timer": Connecting, "stop": Terminated},
		Connecting:   {"dialed": Connected, "dialFailed": Disconnected, "timer": Disconnected, "stop": Stopping},
		Connected:    {"closeConn": Closing, "remoteClose": Closing, "connEnd": Disconnected, "stop": Stopping},
		Closing:      {"connEnd": Disconnected, "stop": Stopping},
		Stopping:     {"connEnd": Terminated},
		Terminated:   {},
	}
	for _, st := range []State{Disconnected, Connecting, Connected, Closing, Stopping, Terminated} {
		for _, k := range kinds {
			t.Run(st.String()+"/"+k.name, func(t *testing.T) {
				c, cc := machineIn(t, st)
				e := &event{kind: k.kind, cc: cc, ab: c.m.dialAbort, code: 1000, msg: "m", f: TextFrame("x")}
				switch k.name {
				case "dialed":
					e.cc = pipeConn(t)
				case "dialFailed":
					e.err = errors.New("refused")
				case "connEnd":
					e.err = ErrConnectionLost
				case "undelivered":
					e.err = ErrClosed
				}
				c.lock()
				c.dispatch(e)
				// Both read under the lock: once it is released, a dial
				// started by the event may already have failed (a refused
				// connect to 127.0.0.1 is quick) and moved the state on.
				got, pub := c.m.st.state(), c.State()
				c.unlock()
				w, ok := want[st][k.name]
				if !ok {
					w = st
				}
				if got != w || pub != w {
					t.Errorf("%v + %s → %v (published %v), want %v", st, k.name, got, pub, w)
				}
				endMachine(t, c)
			})
		}
	}
}

// endMachine brings a hand-driven client to its end.
func endMachine(t *testing.T, c *Client) {
	c.lock()
	c.dispatch(&event{kind: evStop})
	if cc := c.m.conn; cc != nil {
		c.dispatch(&event{kind: evConnEnd, cc: cc, err: ErrConnectionLost})
	}
	if c.m.st.state() == Stopping && c.m.dialAbort != nil {
		c.dispatch(&event{kind: evDialed, ab: c.m.dialAbort, err: errors.New("cancelled")})
	}
	c.unlock()
	select {
	case <-clientDone(c):
	case <-time.After(10 * time.Second):
		t.Fatalf("client did not end (state %v)", c.State())
	}
}
