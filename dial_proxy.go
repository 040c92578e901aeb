//go:build !js

package wsclient

// Dialing through an HTTP CONNECT or SOCKS5 proxy.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/proxy"
)

// dialProxy connects to addr through an HTTP CONNECT or SOCKS5 proxy.
func (d *Dialer) dialProxy(ctx context.Context, pu *url.URL, addr string, netDial func(context.Context, string, string) (net.Conn, error)) (net.Conn, error) {
	switch pu.Scheme {
	case "socks5", "socks5h":
		var auth *proxy.Auth
		if pu.User != nil {
			pw, _ := pu.User.Password()
			auth = &proxy.Auth{User: pu.User.Username(), Password: pw}
		}
		sd, err := proxy.SOCKS5("tcp", pu.Host, auth, ctxDialer(netDial))
		if err != nil {
			return nil, err
		}
		cd, ok := sd.(proxy.ContextDialer)
		if !ok {
			return nil, fmt.Errorf("SOCKS5 dialer %T cannot take a context", sd)
		}
		return cd.DialContext(ctx, "tcp", addr)
	case "http", "https":
	default:
		return nil, fmt.Errorf("unsupported scheme %q", pu.Scheme)
	}
	paddr := pu.Host
	if pu.Port() == "" {
		paddr = net.JoinHostPort(pu.Hostname(), map[string]string{"http": "80", "https": "443"}[pu.Scheme])
	}
	nc, err := netDial(ctx, "tcp", paddr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(aLongTimeAgo) })
	defer stop()
	if pu.Scheme == "https" {
		// The proxy hop has its own TLS settings: never the server's.
		pcfg := d.ProxyTLSConfig.Clone()
		if pcfg == nil {
			pcfg = &tls.Config{}
		}
		if pcfg.ServerName == "" {
			pcfg.ServerName = pu.Hostname()
		}
		pcfg.NextProtos = []string{"http/1.1"}
		if pcfg.InsecureSkipVerify {
			d.warnInsecure("wsclient: TLS certificate verification is OFF for the proxy connection", "proxy", pu.Redacted())
		}
		tc := tls.Client(nc, pcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("%s: %w", paddr, err)
		}
		nc = tc
	}
	req := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if pu.User != nil {
		pw, _ := pu.User.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(pu.User.Username()+":"+pw)) + "\r\n"
	}
	req += "\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	// Read the reply byte by byte so no tunnelled byte is consumed.
	br := bufio.NewReaderSize(&limitedReader{r: &oneByteReader{nc}, n: defaultMaxHeader}, 16)
	resp, err := http.ReadResponse(br, nil)
	d.Trace.traceProxy(pu, resp, err)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bad CONNECT response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		nc.Close()
		return nil, &ProxyError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header}
	}
	nc.SetDeadline(time.Time{})
	return nc, nil
}

type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

type ctxDialer func(context.Context, string, string) (net.Conn, error)

func (f ctxDialer) Dial(network, addr string) (net.Conn, error) {
	return f(context.Background(), network, addr)
}

func (f ctxDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

// limitedReader fails once more than n bytes have been read.
type limitedReader struct {
	r io.Reader
	n int
}

var errHeaderTooLarge = errors.New("handshake response header too large")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}
