package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/wsclient/wsclient"
)

// redirectTarget returns the URL a 3xx answer to the handshake at cur
// points to (-L), as ws:// or wss://, and whether it is on another host, in
// which case it carries no user:password@ (and the caller drops the
// Authorization and Cookie headers). It refuses to go from wss:// to ws://.
func redirectTarget(cur string, he *wsclient.HandshakeError) (next string, otherHost bool, err error) {
	base, err := url.Parse(cur)
	if err != nil {
		return "", false, err
	}
	loc := he.Header.Get("Location")
	ref, err := url.Parse(loc)
	if err != nil {
		return "", false, fmt.Errorf("redirect (%s) to a bad Location %q", he.Status, redact(loc))
	}
	u := base.ResolveReference(ref)
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme = "ws"
	case "wss", "https":
		u.Scheme = "wss"
	default:
		return "", false, fmt.Errorf("redirect (%s) to %q: not a ws:// or wss:// URL", he.Status, redact(u.String()))
	}
	if base.Scheme == "wss" && u.Scheme == "ws" {
		return "", false, fmt.Errorf("redirect (%s) from wss:// to %s refused: it would drop TLS", he.Status, redact(u.String()))
	}
	if u.Hostname() == "" {
		return "", false, errors.New("redirect to a URL without a host")
	}
	u.Fragment = ""
	if !sameHost(base, u) {
		otherHost = true
		u.User = nil
	} else if u.User == nil {
		u.User = base.User
	}
	return u.String(), otherHost, nil
}

// sameHost reports whether a and b name the same host and port.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Hostname(), b.Hostname()) && portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "wss" {
		return "443"
	}
	return "80"
}

// withoutCredentials returns a copy of d without the request headers that
// carry credentials, for a redirect to another host.
func withoutCredentials(d *wsclient.Dialer) *wsclient.Dialer {
	c := *d
	c.Header = d.Header.Clone()
	for _, k := range []string{"Authorization", "Cookie"} {
		c.Header.Del(k)
	}
	return &c
}
