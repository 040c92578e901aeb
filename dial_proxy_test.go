package wsclient

import (
	"net/http"
	"net/url"
	"testing"
)

// NoProxy is recognised without being called (a dial then builds no
// request for it); any other proxy function, even one that does the same,
// is asked.
func TestIsNoProxy(t *testing.T) {
	if !isNoProxy(NoProxy) {
		t.Error("NoProxy not recognised")
	}
	asked := 0
	same := func(r *http.Request) (*url.URL, error) { asked++; return NoProxy(r) }
	for name, fn := range map[string]func(*http.Request) (*url.URL, error){
		"ProxyFromEnvironment": http.ProxyFromEnvironment,
		"a wrapper":            same,
	} {
		if isNoProxy(fn) {
			t.Errorf("%s taken for NoProxy", name)
		}
	}
	srv := newEcho(t)
	dialT(t, srv.URL, &Dialer{Proxy: same}).CloseNow()
	if asked != 1 {
		t.Errorf("proxy function asked %d times, want 1", asked)
	}
}
