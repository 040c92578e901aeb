package deadline

import (
	"testing"
	"time"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestDeadline(t *testing.T) {
	var d Deadline
	if d.Expired() || closed(d.Wait()) {
		t.Fatal("the zero Deadline has passed")
	}
	// A time in the past fires at once.
	d.Set(time.Unix(1, 0))
	if !d.Expired() || !closed(d.Wait()) {
		t.Fatal("a past deadline has not passed")
	}
	// Moving it to the future re-arms it with a fresh channel.
	d.Set(time.Now().Add(20 * time.Millisecond))
	ch := d.Wait()
	if d.Expired() || closed(ch) {
		t.Fatal("a future deadline has passed")
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the deadline never passed")
	}
	if !d.Expired() {
		t.Fatal("Expired is false after the channel closed")
	}
	// An earlier setting's timer never fires into a later one.
	d.Set(time.Now().Add(10 * time.Millisecond))
	d.Set(time.Time{})
	ch = d.Wait()
	time.Sleep(50 * time.Millisecond) // longer than the replaced timer: nothing may happen
	if d.Expired() || closed(ch) {
		t.Fatal("a replaced timer fired")
	}
	// Stop cancels a pending timer.
	d.Set(time.Now().Add(10 * time.Millisecond))
	d.Stop()
	time.Sleep(50 * time.Millisecond)
	if d.Expired() {
		t.Fatal("a stopped timer fired")
	}
}
