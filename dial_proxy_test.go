//go:build !js

package wsclient

import (
	"net/http"
	"net/url"
	"testing"
)

// A Dialer's Proxy function is asked once per dial, with the request's URL
// under its HTTP scheme; NoProxy (which answers nil) dials directly.
func TestDialAsksProxy(t *testing.T) {
	srv := newEcho(t)
	var asked []string
	ask := func(r *http.Request) (*url.URL, error) {
		asked = append(asked, r.URL.Scheme)
		return NoProxy(r)
	}
	dialT(t, srv.URL, &Dialer{Proxy: ask}).CloseNow()
	if len(asked) != 1 || asked[0] != "http" {
		t.Errorf("proxy function asked for %q, want once for http", asked)
	}
	dialT(t, srv.URL, &Dialer{Proxy: NoProxy}).CloseNow()
}
