//go:build !js

package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/wsclient/wsclient/internal/handshake"
)

// dial is Dial for a parsed URL, abortable through ab when it is not nil.
func (d *Dialer) dial(ctx context.Context, t *dialTarget, ab *dialAbort) (*Conn, error) {
	u, addr, auth := t.u, t.addr, t.auth
	ctx = d.Trace.dialContext(ctx)
	if d.HTTP2 != HTTP2Off && ab != nil {
		// The HTTP/2 path takes its time limit from ctx: make ab able to
		// end it.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		if !ab.setCancel(cancel) {
			return nil, &DialError{Op: "dial", Err: context.Canceled}
		}
		defer ab.setCancel(nil)
	}
	if d.HTTP2 != HTTP2Off {
		if c, err := d.dialHTTP2(ctx, u, addr, auth); !errors.Is(err, errUseHTTP1) {
			if c != nil {
				c.setURL(t, u)
				if d.Trace != nil {
					d.Trace.traceReady(c)
				}
			}
			return c, err
		}
	}
	timeout := d.HandshakeTimeout
	if timeout == 0 {
		timeout = defaultHandshakeTimeout
	}
	// The time limit is a deadline rather than a context with a timer: a
	// context is made only for the network dial, which needs one, and the
	// upgrade runs under the socket's deadline (with ctx watched only when
	// it can end).
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}

	maxRedirects := d.MaxRedirects
	if maxRedirects <= 0 {
		maxRedirects = defaultMaxRedirects
	}
	firstAddr, hop, hopAuth := addr, d, auth
	dropped := false // the first host's credentials are no longer sent
	for redirects := 0; ; redirects++ {
		c, err := hop.dialOnce(ctx, deadline, ab, u, addr, hopAuth)
		// dialOnce returns a refusal as a *HandshakeError itself, not
		// wrapped (a type assertion, unlike errors.As, does not make he
		// escape on every dial).
		he, ok := err.(*HandshakeError)
		if err == nil || !ok || !isRedirect(he.StatusCode) {
			if c != nil {
				c.setURL(t, u)
				if d.Trace != nil {
					d.Trace.traceReady(c)
				}
			}
			return c, err
		}
		loc := he.Header.Get("Location")
		if loc == "" {
			return nil, err
		}
		next, perr := u.Parse(loc)
		if perr != nil {
			he.Location = loc
			if d.FollowRedirects {
				var ue *url.Error
				if errors.As(perr, &ue) {
					perr = ue.Err // not the Location again, which Error shows
				}
				he.Err = fmt.Errorf("wsclient: bad Location: %w", perr)
			}
			return nil, err
		}
		he.Location = next.Redacted()
		if !d.FollowRedirects {
			return nil, err
		}
		if redirects >= maxRedirects {
			he.Err = ErrTooManyRedirects
			return nil, err
		}
		nu, naddr, nauth, perr := parseURL(next.String())
		if perr != nil {
			he.Err = perr
			return nil, err
		}
		if u.Scheme == "wss" && nu.Scheme == "ws" {
			he.Err = ErrInsecureRedirect
			return nil, err
		}
		hopAuth = nauth
		if !dropped && !strings.EqualFold(naddr, firstAddr) {
			// Another host: no credentials meant for the first one, on
			// this hop or any later one (a detour through another host
			// must not lead back to the first with them).
			dropped = true
			hd := *d
			hd.Header = d.Header.Clone()
			for _, k := range []string{"Authorization", "Cookie", "Host"} {
				hd.Header.Del(k)
			}
			hop = &hd
		}
		if !dropped && hopAuth == "" {
			hopAuth = auth
		}
		if d.OnRedirect != nil {
			r := Redirect{StatusCode: he.StatusCode, From: u.String(), URL: nu.String(), N: redirects + 1, CredentialsDropped: dropped}
			if err := d.OnRedirect(r); err != nil {
				he.Err = err
				return nil, he
			}
		}
		if d.Logger != nil {
			d.Logger.Debug("wsclient: following redirect", "status", he.StatusCode, "location", he.Location)
		}
		u, addr = nu, naddr
	}
}

// Redirect describes a redirect that Dial is about to follow (see

// isRedirect reports whether a handshake status is a redirect Dial can
// follow.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// dialOnce connects to one URL and performs the opening handshake, within
// ctx and before deadline.
func (d *Dialer) dialOnce(ctx context.Context, deadline time.Time, ab *dialAbort, u *url.URL, addr, auth string) (*Conn, error) {
	nc, err := d.dialNet(ctx, deadline, ab, u, addr)
	if err != nil {
		return nil, err
	}
	// The deadline bounds the upgrade; ctx, when it can end before it,
	// and ab move it into the past.
	nc.SetDeadline(deadline)
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { nc.SetDeadline(aLongTimeAgo) })
	}
	var c *Conn
	aborted := ab != nil && !ab.setConn(nc)
	if !aborted {
		c, err = d.upgrade(ctx, deadline, nc, u, auth)
		aborted = ab != nil && !ab.setConn(nil)
	}
	if (stop != nil && !stop()) || aborted || err != nil {
		nc.Close()
		xerr := dialExpired(ctx, deadline)
		if aborted {
			xerr = context.Canceled
		}
		if err == nil || xerr != nil {
			if xerr == nil {
				xerr = ctx.Err()
			}
			err = &DialError{Op: "handshake", Err: fmt.Errorf("no complete answer to the upgrade request: %w", xerr)}
		}
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

// dialExpired returns why a dial must end: ctx's error, or
// context.DeadlineExceeded once deadline has passed; else nil.
func dialExpired(ctx context.Context, deadline time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// netDialer dials when Dialer.NetDialContext is nil. Its zero value is
// what a fresh net.Dialer would be; sharing it saves an allocation a dial.
var netDialer net.Dialer

// envProxySet reports whether the environment names a proxy (HTTP_PROXY
// or HTTPS_PROXY, in either case). Like http.ProxyFromEnvironment, it reads
// the environment once. When it names none, a Dialer with a nil Proxy
// skips http.ProxyFromEnvironment, which would answer nil after building a
// request for it.
var envProxySet = sync.OnceValue(func() bool {
	cfg := httpproxy.FromEnvironment()
	return cfg.HTTPProxy != "" || cfg.HTTPSProxy != ""
})

// httpScheme returns the HTTP scheme that a ws or wss URL's requests are
// made under (for proxies and cookies).
func httpScheme(ws string) string {
	if ws == "wss" {
		return "https"
	}
	return "http"
}

// dialNet opens the stream to the server, before deadline: directly,
// through a proxy, and with TLS for wss.
func (d *Dialer) dialNet(ctx context.Context, deadline time.Time, ab *dialAbort, u *url.URL, addr string) (net.Conn, error) {
	proxyFn := d.Proxy
	if proxyFn == nil && envProxySet() {
		proxyFn = http.ProxyFromEnvironment
	}
	var proxyURL *url.URL
	if proxyFn != nil {
		// The request and its URL in one allocation.
		pr := &struct {
			r http.Request
			u url.URL
		}{u: *u}
		pr.u.Scheme = httpScheme(u.Scheme)
		pr.r.URL, pr.r.Header = &pr.u, http.Header{}
		var err error
		proxyURL, err = proxyFn(&pr.r)
		if err != nil {
			return nil, &DialError{Op: "proxy", Err: err}
		}
	}
	var nc net.Conn
	var err error
	direct := proxyURL == nil && d.NetDialContext == nil
	if direct && (ab == nil || ctx.Done() == nil) && isIPHost(u) {
		// A TCP connect to an IP address: net.Dialer's connect takes its
		// time limit from the context's Deadline alone (as the socket's
		// write deadline), so a connectCtx spares the timer context.
		nc, err = dialIP(ctx, deadline, addr, ab)
		if err != nil {
			return nil, &DialError{Op: "dial", Err: err}
		}
		// ctx need not carry the deadline (see dialIP): the socket does.
		nc.SetDeadline(deadline)
		if ab == nil {
			return d.dialTLS(ctx, deadline, nc, u)
		}
		// ab ends the TLS handshake through the socket's deadline, which
		// is set before ab can move it into the past.
		op := "dial"
		if u.Scheme == "wss" {
			op = "tls"
		}
		if !ab.setConn(nc) {
			nc.Close()
			return nil, &DialError{Op: op, Err: context.Canceled}
		}
		nc, err = d.dialTLS(ctx, deadline, nc, u)
		if !ab.setConn(nil) {
			if err == nil {
				nc.Close()
			}
			return nil, &DialError{Op: op, Err: context.Canceled}
		}
		return nc, err
	}
	// The dial takes a context with the deadline (net.Dialer uses the
	// context's deadline as it is when it has one), which ab can end.
	if dl, ok := ctx.Deadline(); !ok || !dl.Equal(deadline) || ab != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
		if ab != nil {
			if !ab.setCancel(cancel) {
				return nil, &DialError{Op: "dial", Err: context.Canceled}
			}
			defer ab.setCancel(nil)
		}
	}
	if proxyURL == nil {
		if direct {
			nc, err = netDialer.DialContext(ctx, "tcp", addr)
		} else {
			nc, err = d.NetDialContext(ctx, "tcp", addr)
		}
		if err != nil {
			return nil, &DialError{Op: "dial", Err: err}
		}
	} else {
		netDial := d.NetDialContext
		if netDial == nil {
			netDial = netDialer.DialContext
		}
		nc, err = d.dialProxy(ctx, proxyURL, addr, netDial)
		if err != nil {
			return nil, &DialError{Op: "proxy", Err: err}
		}
	}
	nc.SetDeadline(deadline)
	return d.dialTLS(ctx, deadline, nc, u)
}

// dialTLS runs the TLS handshake on nc for a wss URL, within ctx and
// before deadline (closing nc if it fails); for ws it returns nc as it is.
// The caller has set nc's deadline: setting it here would undo an abort
// that moved it into the past after the socket was given to a dialAbort.
func (d *Dialer) dialTLS(ctx context.Context, deadline time.Time, nc net.Conn, u *url.URL) (net.Conn, error) {
	if u.Scheme != "wss" {
		return nc, nil
	}
	cfg := d.TLSConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	// The upgrade is HTTP/1.1; never let ALPN pick h2.
	cfg.NextProtos = []string{"http/1.1"}
	d.resumeH2Probe(cfg)
	if d.InsecureSkipVerifyDangerously {
		cfg.InsecureSkipVerify = true
	}
	if cfg.InsecureSkipVerify {
		d.warnInsecure("wsclient: TLS certificate verification is OFF for this connection", "url", u.String())
	}
	tc := tls.Client(nc, cfg)
	traceTLSStart(ctx)
	err := tc.HandshakeContext(ctx)
	traceTLSDone(ctx, tc, err)
	if err != nil {
		nc.Close()
		if xerr := dialExpired(ctx, deadline); xerr != nil {
			err = xerr
		}
		return nil, &DialError{Op: "tls", Err: err}
	}
	return tc, nil
}

// warnInsecure logs a warning about TLS verification being off: to Logger,
// or to slog's default logger when Logger is nil (loud on purpose, even when
// logging is otherwise off).
func (d *Dialer) warnInsecure(msg string, args ...any) {
	l := d.Logger
	if l == nil {
		l = slog.Default()
	}
	l.Warn(msg, args...)
}

// upgrade sends the handshake request and validates the response. ctx and
// deadline only tell why an I/O error happened (dialOnce set the socket's
// deadline).
func (d *Dialer) upgrade(ctx context.Context, deadline time.Time, nc net.Conn, u *url.URL, auth string) (*Conn, error) {
	var err error
	var keyb [handshake.KeyLen]byte
	handshake.PutKey(&keyb)
	key := string(keyb[:]) // on this stack while it stays there
	hdr := d.Header        // copied before any change
	if auth != "" && hdr.Get("Authorization") == "" {
		hdr = cloneHeader(hdr)
		hdr.Set("Authorization", auth)
	}
	if d.Jar != nil {
		hdr = cloneHeader(hdr)
		hu := *u
		hu.Scheme = httpScheme(u.Scheme)
		// One Cookie header for all of them (RFC 6265 section 5.4).
		var cks []string
		for _, ck := range d.Jar.Cookies(&hu) {
			cks = append(cks, ck.String())
		}
		if len(cks) > 0 {
			if old := hdr.Get("Cookie"); old != "" {
				cks = append([]string{old}, cks...)
			}
			hdr.Set("Cookie", strings.Join(cks, "; "))
		}
	}
	var offer string
	if d.Compression != nil {
		if offer, err = d.Compression.offer(); err != nil {
			return nil, err
		}
	}
	req := handshake.Request{URL: u, Key: key, Origin: d.Origin, Subprotocols: d.Subprotocols, Extensions: offer, Header: hdr}
	bp := headBufPool.Get().(*[]byte)
	b, err := req.Append((*bp)[:0])
	if err == nil {
		_, werr := nc.Write(b)
		traceWrote(ctx, werr)
		if werr != nil {
			err = &DialError{Op: "handshake", Err: werr}
		}
	}
	headBufPool.Put(bp)
	if err != nil {
		return nil, err
	}
	maxHdr := d.MaxResponseHeaderBytes
	if maxHdr <= 0 {
		maxHdr = defaultMaxHeader
	}
	bp, buf, head, err := readHead(nc, maxHdr)
	if bp != nil {
		defer headBufPool.Put(bp)
	}
	if err != nil {
		if errors.Is(err, errHeaderTooLarge) {
			return nil, &HandshakeError{Reason: fmt.Sprintf("response header over %d bytes", maxHdr)}
		}
		if xerr := dialExpired(ctx, deadline); xerr != nil {
			return nil, &DialError{Op: "handshake", Err: xerr}
		}
		return nil, &HandshakeError{Reason: "reading the response: " + err.Error(), Err: err}
	}
	traceFirstByte(ctx)
	rawHead := string(buf[:head]) // kept by the Conn
	// The parsed head lives on this stack, with room for the fields of a
	// typical response. (It stays there only while nothing copies its
	// strings to the heap: what needs them parses rawHead again, on the
	// paths that are not a success.)
	var fields [8]handshake.Field
	respv, err := handshake.ParseInto(rawHead, fields[:0])
	resp := &respv
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		d.Trace.traceResponse(resp.StatusCode, "HTTP/1.1", "", "")
		// Not an upgrade: let net/http read the whole response, body
		// included, for the HandshakeError.
		return nil, d.refusal(ctx, deadline, nc, u, io.MultiReader(bytes.NewReader(buf), nc))
	}
	if d.Jar != nil {
		hu := *u
		hu.Scheme = httpScheme(u.Scheme)
		if hr, err := handshake.ParseResponse(rawHead); err == nil {
			if cks := hr.HTTP().Cookies(); len(cks) > 0 {
				d.Jar.SetCookies(&hu, cks)
			}
		}
	}
	res, err := handshake.Check(resp, key, d.Subprotocols, d.Compression != nil)
	if err != nil {
		he := headError(rawHead, err)
		if f := (*handshake.Failure)(nil); errors.As(err, &f) {
			he.Reason, he.Err = f.Reason, nil // the Failure says no more than the HandshakeError
		}
		return nil, he
	}
	var neg *negotiated
	if len(res.Extensions) > 0 {
		neg, err = d.Compression.accept(res.Extensions)
		if err != nil {
			return nil, headError(rawHead, err)
		}
	}
	// Bytes the server sent right after the response (a first frame in the
	// same packet) are in buf; hand them to the frame reader.
	leftover := buf[head:]
	c := d.newConn(nc, leftover, res.Subprotocol, res.Extensions, neg)
	d.Trace.traceResponse(resp.StatusCode, "HTTP/1.1", c.subprotocol, c.extensions)
	// Keep the raw head only: Conn.Response builds the *http.Response on
	// demand.
	c.respHead = rawHead
	return c, nil
}

// headError returns a *HandshakeError for err about the response whose
// head is rawHead (which has been parsed without error).
func headError(rawHead string, err error) *HandshakeError {
	he := &HandshakeError{Reason: err.Error(), Err: err}
	if r, perr := handshake.ParseResponse(rawHead); perr == nil {
		he.StatusCode, he.Status, he.Header = r.StatusCode, r.Status, r.Header()
	}
	return he
}

// newConn makes the Conn of an accepted handshake, with the Dialer's
// limits (defaults where unset), the negotiated subprotocol and extensions,
// and compression when permessage-deflate was agreed (neg).
func (d *Dialer) newConn(nc net.Conn, leftover []byte, subprotocol string, extensions []string, neg *negotiated) *Conn {
	cfg := connConfig{
		maxMessage:   d.MaxMessageSize,
		fragmentSize: d.FragmentSize,
		closeTimeout: d.closeTimeout(),
		writeBufSize: d.WriteBufferSize,
	}
	if cfg.maxMessage == 0 {
		cfg.maxMessage = defaultMaxMessage
	}
	if cfg.fragmentSize <= 0 {
		cfg.fragmentSize = 4096
	}
	if cfg.writeBufSize <= 0 {
		cfg.writeBufSize = defaultWriteBuf
	}
	rbs := d.ReadBufferSize
	if rbs <= 0 {
		rbs = defaultBufSize
	}
	c := newConn(nc, leftover, cfg, rbs)
	c.trace = d.Trace
	c.subprotocol = subprotocol
	c.extensions = strings.Join(extensions, ", ")
	if neg != nil {
		c.setCompression(neg)
	}
	return c
}

// cloneHeader returns a copy of h that may be changed (never nil).
func cloneHeader(h http.Header) http.Header {
	if h == nil {
		return http.Header{}
	}
	return h.Clone()
}

// headBufPool holds the buffers the handshake response is read into.
var headBufPool = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// readHead reads from nc until buf holds a whole response head (head is its
// length; bytes after it are the server's first frames), reading no more
// than maxHdr bytes for it. bp, if not nil, is the headBufPool entry that
// buf uses, for the caller to put back once done with buf; a head larger
// than it leaves it in the pool at once.
func readHead(nc net.Conn, maxHdr int) (bp *[]byte, buf []byte, head int, err error) {
	bp = headBufPool.Get().(*[]byte)
	b := (*bp)[:0]
	for {
		if head = handshake.HeadEnd(b); head >= 0 {
			return bp, b, head, nil
		}
		if len(b) >= maxHdr {
			return bp, b, 0, errHeaderTooLarge
		}
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(2*cap(b), maxHdr))
			copy(nb, b)
			b = nb
			if bp != nil {
				headBufPool.Put(bp)
				bp = nil
			}
		}
		n, err := nc.Read(b[len(b):min(cap(b), maxHdr)])
		b = b[:len(b)+n]
		if err != nil && handshake.HeadEnd(b) < 0 {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return bp, b, 0, err
		}
	}
}

// refusal reads a response that is not an upgrade with net/http (body
// included, bounded) and returns it as a *HandshakeError.
func (d *Dialer) refusal(ctx context.Context, deadline time.Time, nc net.Conn, u *url.URL, r io.Reader) error {
	resp, err := http.ReadResponse(bufio.NewReader(r), &http.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		if xerr := dialExpired(ctx, deadline); xerr != nil {
			return &DialError{Op: "handshake", Err: xerr}
		}
		return &HandshakeError{Reason: "reading the response: " + err.Error(), Err: err}
	}
	if d.Jar != nil {
		hu := *u
		hu.Scheme = httpScheme(u.Scheme)
		if cks := resp.Cookies(); len(cks) > 0 {
			d.Jar.SetCookies(&hu, cks)
		}
	}
	he := &HandshakeError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header, Reason: "server refused the upgrade: " + resp.Status}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// net/http took a 101 head that the strict parser refused.
		he.Reason = "malformed 101 response"
		he.Err = handshake.ErrMalformed
	}
	bodyDL := time.Now().Add(time.Second)
	if deadline.Before(bodyDL) {
		bodyDL = deadline
	}
	nc.SetReadDeadline(bodyDL)
	he.Body, _ = io.ReadAll(io.LimitReader(resp.Body, maxHandshakeErrorBody))
	return he
}
