package wsclient

import (
	"testing"
	"time"
)

// The channel that tells waiters the close has ended is made only for a
// waiter: a connection dialed and closed with nobody waiting never makes
// one; a waiter that comes before the end sees its channel closed by it,
// and one that comes after gets a closed channel at once.
func TestCloseDoneLazy(t *testing.T) {
	srv := newEcho(t)
	c := dialT(t, srv.URL, nil)
	c.CloseNow()
	if c.closeRecv != nil {
		t.Error("a close channel was made with nobody waiting")
	}
	select {
	case <-c.closeDone():
	default:
		t.Error("closeDone after the end: not closed")
	}

	c = dialT(t, srv.URL, nil)
	ch := c.closeDone()
	select {
	case <-ch:
		t.Fatal("closeDone closed before the end")
	default:
	}
	go c.CloseNow()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("closeDone's channel not closed by the end")
	}
	if got := c.closeDone(); got != ch {
		t.Error("closeDone made a second channel")
	}
}
