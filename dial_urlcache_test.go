package wsclient

import (
	"testing"
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
