package wsclient

import (
	"errors"
	"testing"
)

// New checks a URL it has seen usable last without parsing it again (no
// allocation for it), and still refuses an unusable one after it.
func TestClientNewURLCheckedOnce(t *testing.T) {
	h := &BaseHandler{}
	const good = "ws://example.com/repeat"
	New(good, h, nil)
	repeat := testing.AllocsPerRun(100, func() { New(good, h, nil) })
	i := 0
	urls := make([]string, 101)
	for j := range urls {
		urls[j] = "ws://example.com/" + string(rune('a'+j%26)) + string(rune('a'+j/26))
	}
	fresh := testing.AllocsPerRun(100, func() { New(urls[i], h, nil); i++ })
	if repeat >= fresh {
		t.Fatalf("New allocates %v times for a repeated URL, %v for a new one: want fewer", repeat, fresh)
	}
	c := New("ftp://example.com/", h, nil)
	if err := c.Serve(t.Context()); !errors.Is(err, ErrBadURL) {
		t.Fatalf("Serve after a usable URL, with ftp: %v, want ErrBadURL", err)
	}
	c = New(good, nil, nil)
	if err := c.Serve(t.Context()); !errors.Is(err, ErrNilHandler) {
		t.Fatalf("Serve with a nil handler: %v, want ErrNilHandler", err)
	}
}
