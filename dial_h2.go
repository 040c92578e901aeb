//go:build !js

package wsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wsclient/wsclient/internal/h2"
	"github.com/wsclient/wsclient/internal/handshake"
)

// WebSockets over HTTP/2 (RFC 8441): the Dialer's part. The stream itself,
// the connections and their sharing are package internal/h2; here the
// Dialer dials (proxy, TLS with ALPN h2), builds the extended CONNECT
// request, validates the answer (package handshake) and makes the Conn over
// the stream. The Dialer owns its pool of connections (h2State).

// dialHTTP2 opens the WebSocket as an HTTP/2 stream. It returns errUseHTTP1
// when Dial should go on with HTTP/1.1 instead (HTTP2Auto).
func (d *Dialer) dialHTTP2(ctx context.Context, u *url.URL, addr, auth string) (*Conn, error) {
	scheme := "https"
	if u.Scheme == "ws" {
		if d.HTTP2 != HTTP2Only {
			return nil, errUseHTTP1
		}
		scheme = "http"
	}
	proxyURL, err := d.h2ProxyFor(u)
	if err != nil {
		return nil, &DialError{Op: "proxy", Err: err}
	}
	st := d.h2State()
	key := h2.Key{Scheme: scheme, Addr: addr}
	if proxyURL != nil {
		key.Proxy = proxyURL.String()
	}
	if d.HTTP2 == HTTP2Auto && st.pool.RememberedH1(key) {
		return nil, errUseHTTP1
	}
	timeout := d.HandshakeTimeout
	if timeout == 0 {
		timeout = defaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, offer, err := d.h2Request(u, scheme, auth)
	if err != nil {
		return nil, err
	}
	hc, err := st.pool.Acquire(ctx, key, func(ctx context.Context) (*h2.Conn, error) {
		return d.dialH2Conn(ctx, st, key, u, proxyURL)
	})
	if err != nil {
		var de *DialError
		if !errors.As(err, &de) && !errors.Is(err, errUseHTTP1) {
			err = &DialError{Op: "dial", Err: err} // ctx ended waiting for another's dial
		}
		return nil, err
	}
	s, resp, err := hc.OpenStream(ctx, req)
	if err != nil {
		return nil, &DialError{Op: "handshake", Err: err}
	}
	c, err := d.h2Accept(u, s, resp, offer)
	if err != nil {
		s.Close()
		return nil, err
	}
	return c, nil
}

// h2Request builds the extended CONNECT request (RFC 8441 section 4): the
// handshake headers of RFC 6455 without Upgrade, Connection and the key.
func (d *Dialer) h2Request(u *url.URL, scheme, auth string) (*http.Request, string, error) {
	hdr := d.Header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	if auth != "" && hdr.Get("Authorization") == "" {
		hdr.Set("Authorization", auth)
	}
	if d.Jar != nil {
		var cks []string
		if old := hdr.Get("Cookie"); old != "" {
			cks = append(cks, old)
		}
		for _, ck := range d.Jar.Cookies(httpURL(u)) {
			cks = append(cks, ck.String())
		}
		if len(cks) > 0 {
			hdr.Set("Cookie", strings.Join(cks, "; "))
		}
	}
	var offer string
	if d.Compression != nil {
		var err error
		if offer, err = d.Compression.offer(); err != nil {
			return nil, "", err
		}
	}
	// The HTTP/1.1 request's checks apply: no reserved or invalid headers.
	hr := handshake.Request{URL: u, Key: "x", Origin: d.Origin, Subprotocols: d.Subprotocols, Extensions: offer, Header: hdr}
	if _, err := hr.Append(nil); err != nil {
		return nil, "", err
	}
	host := hdr.Get("Host")
	if host == "" {
		host = handshake.HostHeader(u)
	}
	hdr.Del("Host")
	hdr[":protocol"] = []string{"websocket"}
	hdr.Set("Sec-WebSocket-Version", "13")
	if d.Origin != "" {
		hdr.Set("Origin", d.Origin)
	}
	if len(d.Subprotocols) > 0 {
		hdr.Set("Sec-WebSocket-Protocol", strings.Join(d.Subprotocols, ", "))
	}
	if offer != "" {
		hdr.Set("Sec-WebSocket-Extensions", offer)
	}
	ru := &url.URL{Scheme: scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	if ru.Path == "" {
		ru.Path = "/"
	}
	req := &http.Request{
		Method:        http.MethodConnect,
		URL:           ru,
		Host:          host,
		Header:        hdr,
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		ContentLength: -1,
	}
	return req, offer, nil
}

// httpURL returns u with an http or https scheme, for cookie jars.
func httpURL(u *url.URL) *url.URL {
	hu := *u
	hu.Scheme = map[string]string{"ws": "http", "wss": "https"}[u.Scheme]
	return &hu
}

// h2Accept checks the response to the extended CONNECT (any 2xx accepts
// it, RFC 8441 section 5) and builds the Conn over the stream.
func (d *Dialer) h2Accept(u *url.URL, s *h2.Stream, resp *http.Response, offer string) (*Conn, error) {
	if d.Jar != nil {
		if cks := resp.Cookies(); len(cks) > 0 {
			d.Jar.SetCookies(httpURL(u), cks)
		}
	}
	res, err := handshake.CheckExtendedConnect(resp, d.Subprotocols, offer != "")
	if err != nil {
		d.Trace.traceResponse(resp.StatusCode, "h2", "", "")
		he := &HandshakeError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header, Reason: err.(*handshake.Failure).Reason}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			s.SetReadDeadline(time.Now().Add(time.Second))
			he.Body, _ = io.ReadAll(io.LimitReader(s, maxHandshakeErrorBody))
		}
		return nil, he
	}
	var neg *negotiated
	if len(res.Extensions) > 0 {
		if neg, err = d.Compression.accept(res.Extensions); err != nil {
			return nil, &HandshakeError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header, Reason: err.Error(), Err: err}
		}
	}
	c := d.newConn(h2Stream{s}, nil, res.Subprotocol, res.Extensions, neg)
	d.Trace.traceResponse(resp.StatusCode, "h2", c.subprotocol, c.extensions)
	c.respHeader, c.h2TLS = resp.Header, resp.TLS
	return c, nil
}

// errUseHTTP1 tells Dial to go on with HTTP/1.1 (HTTP2Auto, when the server
// does not offer WebSockets over HTTP/2).
var errUseHTTP1 = h2.ErrUseHTTP1

// h2State is a Dialer's HTTP/2 state: its pool of connections, and the TLS
// session cache its HTTP/2 connections and HTTP2Auto's HTTP/1.1 dials share
// when TLSConfig has none, so that the dial that falls back to HTTP/1.1
// after the server chose h2 without extended CONNECT resumes the probe's
// session (an abbreviated handshake). A Dialer makes it at its first
// HTTP/2 dial (see Dialer.h2State).
type h2State struct {
	owner    *Dialer // the Dialer it was made for; a copy of it makes its own
	pool     *h2.Pool
	sessions tls.ClientSessionCache
}

// h2SessionCacheSize is how many TLS sessions (one per server name) the
// Dialer's own cache keeps.
const h2SessionCacheSize = 16

// h2State returns d's HTTP/2 state, made at the first call. A Dialer copied
// (by value) from one that has dialed holds the original's: it is not its
// own (owner differs), so the copy makes its own and replaces it. The field
// is an atomic.Value, which go vet does not forbid copying: copying a
// Dialer, before or after its first use, is safe.
func (d *Dialer) h2State() *h2State {
	cur, _ := d.h2.Load().(*h2State)
	if cur != nil && cur.owner == d {
		return cur
	}
	st := &h2State{owner: d, pool: h2.NewPool(), sessions: tls.NewLRUClientSessionCache(h2SessionCacheSize)}
	var old any // the empty Value's nil, or the original's state
	if cur != nil {
		old = cur
	}
	if d.h2.CompareAndSwap(old, st) {
		return st
	}
	return d.h2.Load().(*h2State) // another dial made it meanwhile
}

// resumeH2Probe gives an HTTP2Auto Dialer's HTTP/1.1 TLS configuration the
// session cache of its HTTP/2 probes, unless it has one: the dial that falls
// back to HTTP/1.1 then resumes the probe's session.
func (d *Dialer) resumeH2Probe(cfg *tls.Config) {
	if d.HTTP2 == HTTP2Auto && cfg.ClientSessionCache == nil {
		cfg.ClientSessionCache = d.h2State().sessions
	}
}

// h2Stream is the Conn's byte stream over HTTP/2: the stream, and the hook
// the close handshake calls when it is complete (RFC 8441 section 5: the
// client then ends its side of the stream at once, where over TCP it waits
// for the server to close first).
type h2Stream struct{ *h2.Stream }

func (s h2Stream) closeHandshakeDone() { s.CloseHandshakeDone() }

// dialH2Conn opens a new HTTP/2 connection: TCP (through the proxy, if
// any), TLS with ALPN h2 for https or prior knowledge for http, then the
// HTTP/2 preface and the server's first SETTINGS, which must enable
// extended CONNECT (h2.NewConn).
func (d *Dialer) dialH2Conn(ctx context.Context, st *h2State, key h2.Key, u *url.URL, proxyURL *url.URL) (*h2.Conn, error) {
	netDial := d.NetDialContext
	if netDial == nil {
		var nd net.Dialer
		netDial = nd.DialContext
	}
	var nc net.Conn
	var err error
	if proxyURL == nil {
		if nc, err = netDial(ctx, "tcp", key.Addr); err != nil {
			return nil, &DialError{Op: "dial", Err: err}
		}
	} else if nc, err = d.dialProxy(ctx, proxyURL, key.Addr, netDial); err != nil {
		return nil, &DialError{Op: "proxy", Err: err}
	}
	if key.Scheme == "https" {
		// HTTP2Only offers http/1.1 too: a server without h2 then
		// picks it and the dial fails with errHTTP2Unsupported, where
		// offering h2 alone gets a bare TLS alert from strict servers
		// (nginx: no_application_protocol).
		tc := tls.Client(nc, d.h2TLSConfig(st, u, []string{"h2", "http/1.1"}))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, &DialError{Op: "tls", Err: err}
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
			tc.Close()
			if d.HTTP2 == HTTP2Auto {
				return nil, errUseHTTP1
			}
			return nil, &DialError{Op: "tls", Err: fmt.Errorf("%w: ALPN chose %q, not h2", errHTTP2Unsupported, p)}
		}
		nc = tc
	}
	maxHdr := d.MaxResponseHeaderBytes
	if maxHdr <= 0 {
		maxHdr = defaultMaxHeader
	}
	hc, err := h2.NewConn(ctx, nc, maxHdr)
	switch {
	case err == nil:
	case errors.Is(err, h2.ErrNoExtendedConnect) && d.HTTP2 == HTTP2Auto:
		return nil, errUseHTTP1
	case errors.Is(err, h2.ErrNoSettings), errors.Is(err, h2.ErrNoExtendedConnect):
		return nil, &DialError{Op: "handshake", Err: fmt.Errorf("%w: %w", errHTTP2Unsupported, err)}
	default:
		return nil, &DialError{Op: "handshake", Err: err}
	}
	if d.Logger != nil {
		d.Logger.Debug("wsclient: new HTTP/2 connection", "addr", key.Addr, "maxStreams", hc.MaxStreams())
	}
	return hc, nil
}

// h2TLSConfig is the TLS configuration for an HTTP/2 connection.
func (d *Dialer) h2TLSConfig(st *h2State, u *url.URL, protos []string) *tls.Config {
	cfg := d.TLSConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ClientSessionCache == nil {
		cfg.ClientSessionCache = st.sessions
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	cfg.NextProtos = protos
	if d.InsecureSkipVerifyDangerously {
		cfg.InsecureSkipVerify = true
	}
	if cfg.InsecureSkipVerify {
		d.warnInsecure("wsclient: TLS certificate verification is OFF for this connection", "url", u.String())
	}
	return cfg
}

// h2ProxyFor returns the proxy for u, as Dial would choose it.
func (d *Dialer) h2ProxyFor(u *url.URL) (*url.URL, error) {
	proxyFn := d.Proxy
	if proxyFn == nil {
		proxyFn = http.ProxyFromEnvironment
	}
	pu := *u
	pu.Scheme = map[string]string{"ws": "http", "wss": "https"}[u.Scheme]
	return proxyFn(&http.Request{URL: &pu, Header: http.Header{}})
}
