package wsclient

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"sync/atomic"
)

// parseURL checks a ws:// or wss:// URL and returns it with the port filled
// in, the network address to dial, and any user info as a Basic
// Authorization value. The URL may be shared with other callers: it must
// not be modified.
func parseURL(raw string) (u *url.URL, addr, auth string, err error) {
	if p := lastURL.Load(); p != nil && p.raw == raw {
		return p.u, p.addr, "", nil
	}
	u, addr, auth, err = parseNewURL(raw)
	if err == nil && auth == "" {
		lastURL.Store(&parsedURL{raw: raw, u: u, addr: addr})
	}
	return u, addr, auth, err
}

// lastURL is the URL parseURL parsed last, for the next call with the
// same string: dials in a row to one server (many connections, a Client's
// reconnects) parse it once. A URL with user info is not kept (its
// password would stay in memory).
var lastURL atomic.Pointer[parsedURL]

type parsedURL struct {
	raw  string
	u    *url.URL // never modified
	addr string
}

// parseNewURL is parseURL without lastURL.
func parseNewURL(raw string) (u *url.URL, addr, auth string, err error) {
	u, err = url.Parse(raw)
	if err != nil {
		return nil, "", "", fmt.Errorf("wsclient: bad URL: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, "", "", fmt.Errorf("wsclient: bad URL scheme %q: want ws or wss", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, "", "", fmt.Errorf("wsclient: URL %q has no host", raw)
	}
	if u.Fragment != "" {
		u.Fragment = ""
	}
	if u.Port() != "" {
		addr = u.Host // host:port, an IPv6 address in brackets
	} else if u.Scheme == "wss" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	} else {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw))
		u.User = nil
	}
	return u, addr, auth, nil
}
