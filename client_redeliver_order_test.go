//go:build !js

package wsclient

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// takeAll returns the data of the frames a writer for cc takes from ob in
// one batch, a frame to be sent again marked with a "*", and gives the
// token back.
func takeAll(t *testing.T, ob *outbox, cc *clientConn) []string {
	t.Helper()
	if got := ob.takeToken(); got != cc {
		t.Fatalf("writer token for %p, want %p", got, cc)
	}
	var b batch
	var got []string
	if ob.take(cc, &b, false) {
		for _, it := range b.items {
			s := string(it.f.Data)
			if it.again {
				s += "*"
			}
			got = append(got, s)
			freeItem(it)
		}
		ob.release()
	}
	return got
}

// A writer that wrote a batch but had not yet kept it when its connection
// ended (the reader handed back the frames kept before it) keeps it late:
// with redelivery those frames go back after the ones handed back before,
// which were written before them, and ahead of the frames never written.
// They went to the head of the outbox, so the next connection sent them
// out of order: TestClientRedelivery saw ["a" "b" "c" "d" "a" "b" "c"] when
// "d" was kept late. This drives that interleaving by hand: the
// goroutines' timing cannot be forced from outside.
func TestClientRedeliveryLateKeepInOrder(t *testing.T) {
	c := New(closedTCPURL(t), machineHandler{}, &Options{Confirm: 1 << 20, Redelivery: true})
	cc := &clientConn{}
	ob := &c.ob
	ob.attach(cc)
	items := func(s ...string) []*outItem {
		var its []*outItem
		for _, d := range s {
			its = append(its, copyItem(TextFrame(d)))
		}
		return its
	}
	// "a", "b" written and kept; "c" written by the writer, which holds
	// the token; "d" waits in the outbox.
	c.keep(cc, items("a", "b"), 1)
	if err := ob.push(items("d")[0], true); err != nil {
		t.Fatal(err)
	}
	if ob.takeToken() != cc {
		t.Fatal("no writer token")
	}
	// The connection ends before the writer keeps "c".
	ob.detach(cc)
	c.confirmEnd(cc)
	// A reply of the next connection's OnConnect goes first.
	next := &clientConn{}
	ob.attach(next)
	ob.pushFront(items("hello")...)
	c.keep(cc, items("c"), 2)
	ob.release()

	want := []string{"hello", "a*", "b*", "c*", "d"}
	if got := takeAll(t, ob, next); !slices.Equal(got, want) {
		t.Fatalf("the next connection's writer takes %q, want %q", got, want)
	}
	if n := c.Stats().Redelivered; n != 0 {
		t.Fatalf("redelivered %d before the frames were written again", n)
	}
	if m := c.ob.cf.lateMark; m != nil {
		t.Fatalf("place marker %+v still referenced after the writer passed it", m)
	}
	if left := ob.close(); len(left) != 0 {
		t.Fatalf("%d items left", len(left))
	}
}

// A frame being redelivered whose new write fails was written on an
// earlier connection, so it may have arrived: it is reported unconfirmed,
// not as never written, and a SendConfirmed waiting for it learns so. It
// went to OnUndelivered with the write's error, and SendConfirmed waited
// on until its context ended.
func TestClientRedeliveryWriteFailsUnconfirmed(t *testing.T) {
	c := New(closedTCPURL(t), machineHandler{}, &Options{Confirm: 1 << 20, Redelivery: true})
	cc := pipeConn(t)
	cc.c = c
	ob := &c.ob
	ob.attach(cc)
	it := copyItem(TextFrame("x"))
	it.again = true
	it.cw = &confirmWait{ch: make(chan error, 1)}
	cw := it.cw
	if ob.takeToken() != nil {
		t.Fatal("writer token taken with nothing to write")
	}
	ob.mu.Lock()
	ob.busy = true // the writer's
	ob.mu.Unlock()
	b := batch{items: []*outItem{it}}
	if c.finishBatch(cc, &b, 0, ErrConnectionLost) {
		t.Fatal("finishBatch went on after a failed write")
	}
	select {
	case err := <-cw.ch:
		if !errors.Is(err, ErrUnconfirmed) {
			t.Fatalf("SendConfirmed would return %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SendConfirmed would wait on")
	}
	if n := c.Stats().Redelivered; n != 0 {
		t.Fatalf("redelivered %d after the write failed", n)
	}
}
