//go:build !js

package wsclient

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wsclient/wsclient/internal/handshake"
)

// WebSockets over HTTP/2 (RFC 8441) use golang.org/x/net/http2's client
// connection: ClientConn.RoundTrip sends a CONNECT request whose ":protocol"
// header is sent as the :protocol pseudo-header, after waiting for the
// server's SETTINGS_ENABLE_CONNECT_PROTOCOL. net/http cannot be used for
// this: both Transport.RoundTrip and the http.ClientConn of Go 1.26 reject
// ":protocol" as an invalid header name. The Dialer dials (proxy, TLS with
// ALPN) itself, hands the connection to the transport, and keeps its own
// pool so that WebSockets to one origin share a connection.

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
	pool := d.h2Pool()
	key := h2Key{scheme: scheme, addr: addr}
	if proxyURL != nil {
		key.proxy = proxyURL.String()
	}
	if d.HTTP2 == HTTP2Auto && pool.rememberedH1(key) {
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
	hc, err := d.acquireH2(ctx, pool, key, u, proxyURL)
	if err != nil {
		return nil, err
	}
	s := newStreamConn(hc.nc.LocalAddr(), hc.nc.RemoteAddr())
	s.release = hc.release
	streamCtx, reset := context.WithCancel(context.Background())
	s.reset = reset
	req.Body = bodyReader{s}
	req = req.WithContext(streamCtx)

	stop := context.AfterFunc(ctx, reset)
	resp, err := hc.cc.RoundTrip(req)
	if !stop() {
		err = &DialError{Op: "handshake", Err: ctx.Err()}
		if resp != nil {
			resp.Body.Close()
		}
	} else if err != nil {
		err = &DialError{Op: "handshake", Err: err}
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	s.start(resp.Body)
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
func (d *Dialer) h2Accept(u *url.URL, s *streamConn, resp *http.Response, offer string) (*Conn, error) {
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
	c := d.newConn(s, nil, res.Subprotocol, res.Extensions, neg)
	d.Trace.traceResponse(resp.StatusCode, "h2", c.subprotocol, c.extensions)
	c.respHeader, c.h2TLS = resp.Header, resp.TLS
	return c, nil
}
