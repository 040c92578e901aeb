package wsclient

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/wsclient/wsclient/wstest"
)

// parseURL parses a URL string once while it is the last one asked for:
// the same string again costs no allocation and gives the same (shared,
// never modified) URL; another string replaces it; a URL with user info
// is never kept (its Authorization value is made each time).
func TestParseURLLast(t *testing.T) {
	const a, b = "ws://127.0.0.1:8080/a?x=1", "wss://example.com/b"
	u1, addr1, _, err := parseURL(a)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		u, addr, auth, err := parseURL(a)
		if err != nil || u != u1 || addr != addr1 || auth != "" {
			t.Fatalf("parseURL(%q) again = %p %q %q %v; want %p %q", a, u, addr, auth, err, u1, addr1)
		}
	}); n != 0 {
		t.Errorf("parseURL of the last URL: %v allocations", n)
	}
	u2, addr2, _, err := parseURL(b)
	if err != nil || u2 == u1 || addr2 != "example.com:443" || u2.String() != b {
		t.Fatalf("parseURL(%q) = %v %q %v", b, u2, addr2, err)
	}
	if u3, _, _, _ := parseURL(a); u3 == u1 || u3.String() != a {
		t.Errorf("parseURL(%q) after another = %v (the first URL's pointer: %v)", a, u3, u3 == u1)
	}
	const c = "ws://user:pw@example.com/c"
	for range 2 {
		u, addr, auth, err := parseURL(c)
		if err != nil || u.User != nil || addr != "example.com:80" || auth != "Basic dXNlcjpwdw==" {
			t.Fatalf("parseURL(%q) = %v %q %q %v", c, u, addr, auth, err)
		}
		if p := lastURL.Load(); p != nil && p.raw == c {
			t.Fatal("a URL with user info was kept")
		}
	}
}

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

// Dials in a row to two servers, from two goroutines at once, each reach
// the server of their own URL (the parsed URL kept by parseURL is shared
// by dials of one URL only), and a URL with user info is never the one
// kept.
func TestDialURLCacheConcurrent(t *testing.T) {
	var urls [2]string
	var addrs [2]string
	for i := range urls {
		srv := wstest.NewServer(func(sc *wstest.Conn) error { return sc.Echo() }, wstest.WithT(t))
		urls[i] = srv.URL
		addrs[i], _, _ = strings.Cut(strings.TrimPrefix(srv.URL, "ws://"), "/")
	}
	d := &Dialer{Proxy: NoProxy}
	var wg sync.WaitGroup
	for i := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				c, err := Dial(t.Context(), urls[i], d)
				if err != nil {
					t.Error(err)
					return
				}
				if got := c.Info().RemoteAddr.String(); got != addrs[i] {
					t.Errorf("dial of %s reached %s", urls[i], got)
				}
				c.CloseNow()
			}
		}()
	}
	wg.Wait()
	withUser := strings.Replace(urls[0], "ws://", "ws://user:secret@", 1)
	u, _, auth, err := parseURL(withUser)
	if err != nil || u.User != nil || auth == "" {
		t.Fatalf("parseURL(%q) = %v, %q, %v", withUser, u, auth, err)
	}
	if p := lastURL.Load(); p != nil && (strings.Contains(p.raw, "secret") || p.u.User != nil) {
		t.Fatalf("kept URL %q carries user info", p.raw)
	}
	// The same URL with user info, after the one without, still yields
	// the credentials.
	if _, _, auth, _ := parseURL(urls[0]); auth != "" {
		t.Fatalf("auth %q for a URL without user info", auth)
	}
	if _, _, auth, _ := parseURL(withUser); auth == "" {
		t.Fatal("no auth for a URL with user info after a cached one")
	}
}
