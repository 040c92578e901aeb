//go:build !js

package wsclient

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The state machine against the tables in the Client doc comment: each
// row is exercised, and every (state, event) pair the table does not list
// is checked to leave the state as it is.

// machineHandler stays disconnected by default and decides da.
type machineHandler struct {
	BaseHandler
	da DisconnectAction
}

func (machineHandler) Init(*Client) (InitMode, error) { return StartDisconnected, nil }

func (h machineHandler) OnDisconnect(*Client, Disconnect) DisconnectAction { return h.da }

// pipeConn returns a clientConn over a pipe whose far end is drained.
func pipeConn(t *testing.T) *clientConn {
	a, b := net.Pipe()
	go io.Copy(io.Discard, b)
	t.Cleanup(func() { a.Close(); b.Close() })
	cn := newConn(a, nil, connConfig{closeTimeout: time.Second, fragmentSize: 4096, writeBufSize: defaultWriteBuf}, 0)
	return &clientConn{cn: cn}
}

// machineAt returns a running client put into phase p by hand (no
// goroutine of its own: events are dispatched by the test). Its timers are
// an hour long, and Keepalive is on.
func machineAt(t *testing.T, p phase, h Handler) (*Client, *clientConn) {
	c := New(closedTCPURL(t), h, &Options{StopTimeout: time.Hour, Keepalive: time.Hour})
	if err := c.begin(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.lock()
	defer c.unlock()
	c.m = machine{st: phIdle, ctx: context.Background(), mode: uint8(StartDisconnected)}
	var cc *clientConn
	switch p.state() {
	case Connecting:
		c.m.dialAbort = &dialAbort{}
	case Connected, Closing, Stopping:
		cc = pipeConn(t)
		c.m.conn = cc
		c.cur.Store(cc)
		c.ob.attach(cc)
	}
	switch p {
	case phClosing, phCloseSent, phStopping:
		c.m.localClose = &LocalCloseError{Code: 1000}
	case phRemoteClosed, phStopDropped:
		c.ob.detach(cc)
	case phDropped:
		c.ob.detach(cc)
		cc.cn.CloseNow()
	case phTerminated:
		c.dispatch(&event{kind: evStop})
	}
	c.setState(p)
	if p == phConnected {
		c.setKeepalive(c.cfg.keepalive)
	}
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

// docTable returns the rows of the table in the Client doc comment whose
// header's columns begin with head, split into columns.
func docTable(t *testing.T, head ...string) [][]string {
	src, err := os.ReadFile("client.go")
	if err != nil {
		t.Fatal(err)
	}
	sep := regexp.MustCompile(`\s{2,}`)
	var rows [][]string
	in := false
	for _, l := range strings.Split(string(src), "\n") {
		body, ok := strings.CutPrefix(l, "//\t")
		switch {
		case !ok:
			in = false
		case in:
			rows = append(rows, sep.Split(strings.TrimSpace(body), -1))
		default:
			cols := sep.Split(strings.TrimSpace(body), -1)
			in = len(cols) >= len(head) && slices.Equal(cols[:len(head)], head)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("no table %q in the Client doc comment", head)
	}
	return rows
}

// docPhases returns the phases a table's state column names: state/*
// stands for the state and its sub-states (init aside: no event reaches
// it).
func docPhases(t *testing.T, name string) []phase {
	var ps []phase
	for p := range phases {
		n := phase(p).String()
		if base, ok := strings.CutSuffix(name, "/*"); ok {
			if phase(p) != phInit && (n == base || strings.HasPrefix(n, base+"/")) {
				ps = append(ps, phase(p))
			}
		} else if n == name {
			ps = append(ps, phase(p))
		}
	}
	if len(ps) == 0 {
		t.Fatalf("the table names no state %q", name)
	}
	return ps
}

func docPhase(t *testing.T, name string) phase { return docPhases(t, name)[0] }

// machineEvents are the table's events, and what is not in it; each makes
// its event for the client c (which it may prepare).
var machineEvents = map[string]func(t *testing.T, c *Client) *event{
	"Connect": func(*testing.T, *Client) *event { return &event{kind: evConnect} },
	"Post":    func(*testing.T, *Client) *event { return &event{kind: evInfo, msg: "m"} },
	"undelivered": func(*testing.T, *Client) *event {
		return &event{kind: evUndelivered, f: TextFrame("x"), err: ErrClosed}
	},
	"CloseConn":        func(*testing.T, *Client) *event { return &event{kind: evCloseConn, code: 1000} },
	"Stop":             func(*testing.T, *Client) *event { return &event{kind: evStop, code: 1000} },
	"Stop (drop)":      func(*testing.T, *Client) *event { return &event{kind: evStop, code: 1000, drop: true} },
	"Stop's ctx ended": func(*testing.T, *Client) *event { return &event{kind: evForce} },
	"frame": func(_ *testing.T, c *Client) *event {
		return &event{kind: evFrame, cc: c.m.conn, f: TextFrame("x")}
	},
	"server's close": func(_ *testing.T, c *Client) *event { return &event{kind: evRemoteClose, cc: c.m.conn} },
	"close sent":     func(_ *testing.T, c *Client) *event { return &event{kind: evCloseSent, cc: c.m.conn} },
	"connection ended": func(_ *testing.T, c *Client) *event {
		return &event{kind: evConnEnd, cc: c.m.conn, err: ErrConnectionLost}
	},
	"dial ok": func(t *testing.T, c *Client) *event {
		return &event{kind: evDialed, ab: awaitedAttempt(c), cc: pipeConn(t)}
	},
	"dial failed": func(_ *testing.T, c *Client) *event {
		return &event{kind: evDialed, ab: awaitedAttempt(c), err: errors.New("refused")}
	},
	"reconnect timer": timerEvent, "handshake timer": timerEvent, "close timer": timerEvent,
	"stop timer": timerEvent, "keepalive timer": timerEvent,
	"keepalive timeout": func(_ *testing.T, c *Client) *event {
		c.m.ka.missed, c.m.ka.outstanding = c.cfg.keepMissed-1, true
		return timerEvent(nil, c)
	},
}

func timerEvent(*testing.T, *Client) *event { return &event{kind: evTimer} }

// isTimer reports whether the table's event name is a state's timer.
func isTimer(name string) bool {
	return strings.HasSuffix(name, " timer") || strings.HasSuffix(name, " timeout")
}

// awaitedAttempt returns the attempt the machine waits for: a stopping
// client is made to wait for one instead of its connection (it waits for
// one of them). Elsewhere but in connecting it is a stale attempt.
func awaitedAttempt(c *Client) *dialAbort {
	if cc := c.m.conn; cc != nil && c.m.st.state() == Stopping {
		c.ob.detach(cc)
		cc.cn.CloseNow()
		c.m.conn = nil
		c.cur.Store(nil)
		c.m.dialAbort = &dialAbort{}
	}
	if c.m.dialAbort == nil {
		return &dialAbort{}
	}
	return c.m.dialAbort
}

// timed returns the phases the timer table gives a timer.
func timed(t *testing.T) map[phase]bool {
	m := map[phase]bool{}
	for _, r := range docTable(t, "state", "timer") {
		m[docPhase(t, r[0])] = true
	}
	return m
}

// TestClientStateTable drives the machine through every row of the
// transition table in the Client doc comment, and every (state, event)
// pair it does not list, and checks the state each leads to and that a
// state entered has its timer armed exactly when the timer table says so.
func TestClientStateTable(t *testing.T) {
	want := map[phase]map[string]phase{}
	for _, r := range docTable(t, "state", "event") {
		if len(r) < 3 {
			t.Fatalf("row %q: no next state", r)
		}
		if machineEvents[r[1]] == nil {
			t.Fatalf("row %q: unknown event %q", r, r[1])
		}
		for _, p := range docPhases(t, r[0]) {
			if want[p] == nil {
				want[p] = map[string]phase{}
			}
			if _, dup := want[p][r[1]]; dup {
				t.Fatalf("row %q: %v + %s listed twice", r, p, r[1])
			}
			next := p
			if r[2] != "same" {
				next = docPhase(t, r[2])
			}
			want[p][r[1]] = next
		}
	}
	timers := timed(t)
	for p := range phases {
		p := phase(p)
		if p == phInit {
			continue // no event reaches it
		}
		var rows []string
		for name := range want[p] {
			if isTimer(name) {
				rows = append(rows, name)
			}
		}
		if timers[p] != (len(rows) > 0) {
			t.Errorf("%v: timer rows %q, but a timer in the timer table %v", p, rows, timers[p])
		}
		for name, mk := range machineEvents {
			w, listed := want[p][name]
			if !listed {
				if isTimer(name) {
					continue // no such timer is armed in p
				}
				w = p
			}
			t.Run(p.String()+"/"+name, func(t *testing.T) {
				c, _ := machineAt(t, p, machineHandler{})
				c.lock()
				e := mk(t, c)
				c.dispatch(e)
				// Read under the lock: once it is released, a dial started
				// by the event may already have failed (a refused connect to
				// 127.0.0.1 is quick) and moved the state on.
				got, pub, armed := c.m.st, c.State(), c.m.timerAt != 0
				c.unlock()
				if got != w || pub != w.state() {
					t.Errorf("%v + %s → %v (published %v), want %v", p, name, got, pub, w)
				}
				if got != p && armed != timers[got] {
					t.Errorf("%v + %s → %v with its timer armed %v, want %v", p, name, got, armed, timers[got])
				}
				endMachine(t, c)
			})
		}
	}
}

// TestClientDecisionTable checks the table of OnDisconnect's decisions in
// the Client doc comment.
func TestClientDecisionTable(t *testing.T) {
	decisions := map[string]DisconnectAction{
		"Stay":               Stay(),
		"ReconnectAfter (0)": ReconnectAfter(0),
		"ReconnectAfter":     ReconnectAfter(time.Hour),
		"StopWith":           StopWith(nil),
	}
	timers := timed(t)
	rows := docTable(t, "decision")
	if len(rows) != len(decisions) {
		t.Errorf("%d decisions in the table, want %d", len(rows), len(decisions))
	}
	for _, r := range rows {
		da, ok := decisions[r[0]]
		if !ok || len(r) < 2 {
			t.Fatalf("row %q: unknown decision", r)
		}
		w := docPhase(t, r[1])
		t.Run(r[0], func(t *testing.T) {
			c, _ := machineAt(t, phIdle, machineHandler{da: da})
			c.lock()
			c.disconnected(Disconnect{Reason: ErrConnectionLost, Attempt: 1})
			got, armed := c.m.st, c.m.timerAt != 0
			c.unlock()
			if got != w {
				t.Errorf("%s → %v, want %v", r[0], got, w)
			}
			if armed != timers[got] {
				t.Errorf("%s → %v with its timer armed %v, want %v", r[0], got, armed, timers[got])
			}
			endMachine(t, c)
		})
	}
}

// endMachine brings a hand-driven client to its end.
func endMachine(t *testing.T, c *Client) {
	c.lock()
	c.dispatch(&event{kind: evStop})
	if cc := c.m.conn; cc != nil {
		c.dispatch(&event{kind: evConnEnd, cc: cc, err: ErrConnectionLost})
	}
	if ab := c.m.dialAbort; ab != nil && c.m.st.state() == Stopping {
		c.dispatch(&event{kind: evDialed, ab: ab, err: errors.New("cancelled")})
	}
	c.unlock()
	select {
	case <-clientDone(c):
	case <-time.After(10 * time.Second):
		t.Fatalf("client did not end (state %v)", c.State())
	}
}
