//go:build !js

//lint:file-ignore SA1019 golang.org/x/net/http2's client is deprecated in favour of net/http, whose Transport and ClientConn refuse the :protocol pseudo-header that RFC 8441 needs (see dial_h2.go).

package wsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// HTTP/2 connections are shared by the WebSockets one Dialer opens to one
// origin (scheme, host, port) through one proxy: they are the Dialer's own
// (its h2Pool). A connection takes new WebSockets while the server's
// SETTINGS_MAX_CONCURRENT_STREAMS allows; past it another connection is
// opened. A connection is closed (GOAWAY) when its last WebSocket ends, so
// nothing lingers after the last Close.
//
// Concurrent dials to an origin with no room wait for one connection to
// be set up rather than each opening its own.

// h2Key identifies the connections of a Dialer that may be shared.
type h2Key struct {
	scheme string // "https" or "http" (prior-knowledge h2c)
	addr   string // host:port dialed
	proxy  string // proxy URL, "" for none
}

// h2Conn is one pooled HTTP/2 connection.
type h2Conn struct {
	pool   *h2Pool
	key    h2Key
	cc     *http2.ClientConn
	nc     net.Conn
	users  int // WebSockets open or being opened on it; guarded by pool.mu
	closed bool
}

// h2Dialing is a connection being set up; others wait on done.
type h2Dialing struct {
	done chan struct{}
	err  error
}

// h2Pool is a Dialer's HTTP/2 state: its connections, the ones being set
// up, and the origins found without RFC 8441. A Dialer makes it at its
// first HTTP/2 dial (see Dialer.h2Pool).
type h2Pool struct {
	owner   *Dialer // the Dialer it was made for; a copy of it makes its own
	mu      sync.Mutex
	conns   map[h2Key][]*h2Conn
	dialing map[h2Key]*h2Dialing
	useH1   map[h2Key]time.Time // origins found without RFC 8441, until when
}

// h2Pool returns d's HTTP/2 pool, made at the first call. A Dialer copied
// (by value) from one that has dialed holds the original's pool: it is
// not its own (owner differs), so the copy makes its own and replaces it.
// The field is an atomic.Value, which go vet does not forbid copying:
// copying a Dialer, before or after its first use, is safe.
func (d *Dialer) h2Pool() *h2Pool {
	cur, _ := d.h2.Load().(*h2Pool)
	if cur != nil && cur.owner == d {
		return cur
	}
	p := &h2Pool{
		owner:   d,
		conns:   map[h2Key][]*h2Conn{},
		dialing: map[h2Key]*h2Dialing{},
		useH1:   map[h2Key]time.Time{},
	}
	var old any // the empty Value's nil, or the original's pool
	if cur != nil {
		old = cur
	}
	if d.h2.CompareAndSwap(old, p) {
		return p
	}
	return d.h2.Load().(*h2Pool) // another dial made it meanwhile
}

// h1Memory is how long an origin that does not offer WebSockets over
// HTTP/2 is dialed with HTTP/1.1 directly (HTTP2Auto).
const h1Memory = 5 * time.Minute

// errUseHTTP1 tells Dial to go on with HTTP/1.1 (HTTP2Auto, when the server
// does not offer WebSockets over HTTP/2).
var errUseHTTP1 = errors.New("wsclient: use HTTP/1.1")

// rememberedH1 reports whether key was recently found without RFC 8441.
func (p *h2Pool) rememberedH1(key h2Key) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.useH1[key]
	if ok && time.Now().After(until) {
		delete(p.useH1, key)
		return false
	}
	return ok
}

// acquireH2 returns a connection of p for key with a stream reserved on it,
// dialing one (with d) if none has room. The caller must call release once
// the stream is over (or was never opened).
func (d *Dialer) acquireH2(ctx context.Context, p *h2Pool, key h2Key, u *url.URL, proxyURL *url.URL) (*h2Conn, error) {
	for {
		p.mu.Lock()
		list := p.conns[key]
		for _, c := range list {
			if !c.closed && c.cc.ReserveNewRequest() {
				c.users++
				p.mu.Unlock()
				return c, nil
			}
		}
		if w := p.dialing[key]; w != nil {
			p.mu.Unlock()
			select {
			case <-w.done:
			case <-ctx.Done():
				return nil, &DialError{Op: "dial", Err: ctx.Err()}
			}
			if w.err != nil && !isCtxErr(w.err) {
				return nil, w.err
			}
			continue
		}
		w := &h2Dialing{done: make(chan struct{})}
		p.dialing[key] = w
		p.mu.Unlock()

		c, err := d.dialH2Conn(ctx, key, u, proxyURL)
		p.mu.Lock()
		delete(p.dialing, key)
		if err == nil {
			c.pool = p
			p.conns[key] = append(p.conns[key], c)
		} else if errors.Is(err, errUseHTTP1) {
			now := time.Now()
			for k, until := range p.useH1 {
				if now.After(until) {
					delete(p.useH1, k)
				}
			}
			p.useH1[key] = now.Add(h1Memory)
		}
		w.err = err
		close(w.done)
		p.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// release ends one user of c; the last one closes the connection.
func (c *h2Conn) release() {
	p := c.pool
	p.mu.Lock()
	c.users--
	last := c.users == 0 && !c.closed
	if last {
		c.closed = true
		list := p.conns[c.key]
		for i, x := range list {
			if x == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(p.conns, c.key)
		} else {
			p.conns[c.key] = list
		}
	}
	p.mu.Unlock()
	if last {
		ctx, cancel := context.WithTimeout(context.Background(), streamCloseWait)
		c.cc.Shutdown(ctx) // GOAWAY, then close
		cancel()
		c.cc.Close()
	}
}

// dialH2Conn opens a new HTTP/2 connection: TCP (through the proxy, if
// any), TLS with ALPN h2 for https or prior knowledge for http, the HTTP/2
// preface, and the server's first SETTINGS, which must enable extended
// CONNECT.
func (d *Dialer) dialH2Conn(ctx context.Context, key h2Key, u *url.URL, proxyURL *url.URL) (*h2Conn, error) {
	netDial := d.NetDialContext
	if netDial == nil {
		var nd net.Dialer
		netDial = nd.DialContext
	}
	var nc net.Conn
	var err error
	if proxyURL == nil {
		if nc, err = netDial(ctx, "tcp", key.addr); err != nil {
			return nil, &DialError{Op: "dial", Err: err}
		}
	} else if nc, err = d.dialProxy(ctx, proxyURL, key.addr, netDial); err != nil {
		return nil, &DialError{Op: "proxy", Err: err}
	}
	if key.scheme == "https" {
		// HTTP2Only offers http/1.1 too: a server without h2 then
		// picks it and the dial fails with ErrHTTP2Unsupported, where
		// offering h2 alone gets a bare TLS alert from strict servers
		// (nginx: no_application_protocol).
		tc := tls.Client(nc, d.h2TLSConfig(u, []string{"h2", "http/1.1"}))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, &DialError{Op: "tls", Err: err}
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
			tc.Close()
			if d.HTTP2 == HTTP2Auto {
				return nil, errUseHTTP1
			}
			return nil, &DialError{Op: "tls", Err: fmt.Errorf("%w: ALPN chose %q, not h2", ErrHTTP2Unsupported, p)}
		}
		nc = tc
	}
	maxHdr := d.MaxResponseHeaderBytes
	if maxHdr <= 0 {
		maxHdr = defaultMaxHeader
	}
	tr := &http2.Transport{
		DisableCompression: true, // no Accept-Encoding on the CONNECT
		MaxHeaderListSize:  uint32(maxHdr),
	}
	sn := newSettingsSniffer(nc)
	cc, err := tr.NewClientConn(sn)
	if err != nil {
		nc.Close()
		return nil, &DialError{Op: "handshake", Err: err}
	}
	select {
	case <-sn.done:
	case <-ctx.Done():
		cc.Close()
		return nil, &DialError{Op: "handshake", Err: ctx.Err()}
	}
	if !sn.first.valid {
		cc.Close()
		if ctx.Err() != nil {
			return nil, &DialError{Op: "handshake", Err: ctx.Err()}
		}
		return nil, &DialError{Op: "handshake", Err: fmt.Errorf("%w: no HTTP/2 SETTINGS from the server", ErrHTTP2Unsupported)}
	}
	if !sn.first.enableConnect {
		cc.Close()
		if d.HTTP2 == HTTP2Auto {
			return nil, errUseHTTP1
		}
		return nil, &DialError{Op: "handshake", Err: fmt.Errorf("%w: the server does not send SETTINGS_ENABLE_CONNECT_PROTOCOL", ErrHTTP2Unsupported)}
	}
	// x/net applies the server's SETTINGS on its read loop, after the
	// sniffer saw them go by; until then it assumes 100 streams, and dials
	// waiting for this connection would open another. The server sends its
	// SETTINGS before it acknowledges a PING, so once the PING's answer is
	// in, the stream limit is the server's.
	if err := cc.Ping(ctx); err != nil {
		cc.Close()
		return nil, &DialError{Op: "handshake", Err: err}
	}
	if d.Logger != nil {
		d.Logger.Debug("wsclient: new HTTP/2 connection", "addr", key.addr, "maxStreams", sn.first.maxStreams)
	}
	return &h2Conn{key: key, cc: cc, nc: nc}, nil
}

// h2TLSConfig is the TLS configuration for an HTTP/2 connection.
func (d *Dialer) h2TLSConfig(u *url.URL, protos []string) *tls.Config {
	cfg := d.TLSConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	cfg.NextProtos = protos
	if d.InsecureSkipVerifyDangerously {
		cfg.InsecureSkipVerify = true
	}
	if cfg.InsecureSkipVerify {
		l := d.Logger
		if l == nil {
			l = slog.Default()
		}
		l.Warn("wsclient: TLS certificate verification is OFF for this connection", "url", u.String())
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
