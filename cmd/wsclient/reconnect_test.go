package main

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

func TestWaitZero(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	r := runBin(t, "", "--wait", "0", srv.URL)
	r.wantCode(t, exitOK)
	fr := clientFrames(t, srv)
	if len(fr) != 1 || fr[0].Opcode != wstest.OpClose {
		t.Errorf("server got %+v, want just a close", fr)
	}
	if r.elapsed > 3*time.Second {
		t.Errorf("--wait 0 took %v", r.elapsed)
	}
}

func TestWaitBoundsTheSession(t *testing.T) {
	// A server that never closes: --wait ends the session after stdin.
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if err := c.WriteMessage(wstest.OpText, []byte("tick")); err != nil {
			return err
		}
		return c.Echo()
	}, wstest.WithT(t))
	r := runBin(t, "", "--wait", "700ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "tick\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if r.elapsed < 700*time.Millisecond || r.elapsed > 5*time.Second {
		t.Errorf("session took %v with --wait 700ms", r.elapsed)
	}
}

func TestReconnect(t *testing.T) {
	var n atomic.Int32
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		switch n.Add(1) {
		case 1:
			if err := c.WriteMessage(wstest.OpText, []byte("first")); err != nil {
				return err
			}
			return c.Drop()
		default:
			if err := c.WriteMessage(wstest.OpText, []byte("again")); err != nil {
				return err
			}
			return c.Echo()
		}
	}, wstest.WithT(t))
	r := runBin(t, "", "--reconnect", "--json", "--wait", "2s", srv.URL)
	r.wantCode(t, exitOK)
	evs := jsonEvents(t, r.stdout)
	names := strings.Join(eventNames(evs), " ")
	if names != "connect message disconnect reconnect connect message close" {
		t.Fatalf("events %q\nstdout:\n%s", names, r.stdout)
	}
	if evs[1]["data"] != "first" || evs[5]["data"] != "again" {
		t.Errorf("messages %v %v", evs[1], evs[5])
	}
	if evs[3]["attempt"] != 1.0 || evs[3]["delay_ms"] == nil {
		t.Errorf("reconnect event %v", evs[3])
	}
	// The first retry comes as the help says: 500ms shortened by up to half.
	if d, _ := evs[3]["delay_ms"].(float64); d < 250 || d > 500 {
		t.Errorf("first reconnect after %vms, want 250-500ms as documented", evs[3]["delay_ms"])
	}
	if evs[6]["by"] != "client" || evs[6]["code"] != 1000.0 {
		t.Errorf("close event %v", evs[6])
	}
	if n.Load() != 2 {
		t.Errorf("%d connections, want 2", n.Load())
	}
}

// TestReconnectDelaysAsDocumented: the help states the backoff the command
// uses, jitter included.
func TestReconnectDelaysAsDocumented(t *testing.T) {
	b := reconnectBackoff
	if b.Multiplier != 2 || b.Jitter != 0.5 {
		t.Fatalf("backoff %+v: the help says doubling, shortened by up to half", b)
	}
	want := fmt.Sprintf("%v, %v, %v ... doubling up to %v, each shortened at random by up to half (so the first retry comes %v to %v after the connection ended)",
		b.Initial, 2*b.Initial, 4*b.Initial, b.Max, b.Initial/2, b.Initial)
	if help := strings.Join(strings.Fields(mainHelp), " "); !strings.Contains(help, want) {
		t.Errorf("help does not say %q", want)
	}
	// The library's Backoff tests check the jitter's range itself.
}

func TestReconnectNeedsAFirstConnection(t *testing.T) {
	srv := wstest.NewServer(nil, wstest.WithT(t), wstest.WithStatus(401, "who are you?"))
	r := runBin(t, "", "--reconnect", srv.URL)
	r.wantCode(t, exitHandshake)
	if len(srv.Conns()) != 1 {
		t.Errorf("%d attempts, want 1", len(srv.Conns()))
	}
}
