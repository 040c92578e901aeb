//go:build !js

package wsclient

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/wsclient/wsclient/wstest"
)

// parseURL fills in the port, maps http(s) to ws(s), drops a fragment and
// turns user info into a Basic Authorization value (the URL returned
// carries none); each call parses anew.
func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ raw, url, addr, auth string }{
		{"ws://127.0.0.1:8080/a?x=1", "ws://127.0.0.1:8080/a?x=1", "127.0.0.1:8080", ""},
		{"wss://example.com/b#frag", "wss://example.com/b", "example.com:443", ""},
		{"http://[::1]/c", "ws://[::1]/c", "[::1]:80", ""},
		{"ws://user:pw@example.com/c", "ws://example.com/c", "example.com:80", "Basic dXNlcjpwdw=="},
	} {
		u, addr, auth, err := parseURL(tc.raw)
		if err != nil || u.String() != tc.url || addr != tc.addr || auth != tc.auth {
			t.Errorf("parseURL(%q) = %v %q %q %v; want %s %q %q", tc.raw, u, addr, auth, err, tc.url, tc.addr, tc.auth)
		}
		if u2, _, _, _ := parseURL(tc.raw); u2 == u {
			t.Errorf("parseURL(%q) twice returned one shared URL", tc.raw)
		}
	}
	for _, raw := range []string{"ftp://example.com/", "ws:///nohost", "://"} {
		if _, _, _, err := parseURL(raw); err == nil {
			t.Errorf("parseURL(%q) succeeded", raw)
		}
	}
}

// dialRaw is Dialer.dial for a URL string (Dial, abortable through ab).
func (d *Dialer) dialRaw(ctx context.Context, raw string, ab *dialAbort) (*Conn, error) {
	u, addr, auth, err := parseURL(raw)
	if err != nil {
		return nil, err
	}
	return d.dial(ctx, &dialTarget{u: u, addr: addr, auth: auth}, ab)
}

// Dials in a row to two servers, from two goroutines at once, each reach
// the server of their own URL.
func TestDialTwoURLsConcurrent(t *testing.T) {
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
}
