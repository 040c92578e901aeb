package wsclient

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
)

// dialTarget is a parsed URL to dial (see parseURL): parsed once, it can
// be dialled again and again (Dialer.dial). It is never
// modified once made.
type dialTarget struct {
	raw  string // the URL as given, which a Conn keeps in place of u
	u    *url.URL
	addr string
	auth string
}

// parseURL checks a ws:// or wss:// URL and returns it with the port filled
// in, the network address to dial, and any user info as a Basic
// Authorization value (the URL returned carries none).
func parseURL(raw string) (u *url.URL, addr, auth string, err error) {
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
