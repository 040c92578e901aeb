//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wsclient/wsclient/internal/test/netfault"
	"github.com/wsclient/wsclient/wstest"
)

// requestSeen returns the handshake request of the server's only connection.
func requestSeen(t *testing.T, srv *wstest.Server) *http.Request {
	t.Helper()
	conns := srv.Conns()
	if len(conns) != 1 || conns[0].Request() == nil {
		t.Fatalf("server saw %d connections", len(conns))
	}
	return conns[0].Request()
}

// The request target keeps the URL's path and query; an empty path is "/".
// Host is host:port; http and https schemes are accepted as ws and wss.
func TestConnDialURLForms(t *testing.T) {
	srv := newEcho(t)
	host := strings.TrimPrefix(srv.URL, "ws://")
	for _, tc := range []struct{ url, target string }{
		{srv.URL, "/"},
		{srv.URL + "/", "/"},
		{srv.URL + "/chat/room", "/chat/room"},
		{srv.URL + "/chat?room=1&x=%20y", "/chat?room=1&x=%20y"},
		{srv.URL + "?q=only", "/?q=only"},
		{srv.URL + "/p#fragment", "/p"},
		{srv.URL + "/a%2Fb", "/a%2Fb"},
		{"http://" + host + "/via-http", "/via-http"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			s := newEcho(t)
			u := strings.Replace(tc.url, host, strings.TrimPrefix(s.URL, "ws://"), 1)
			dialT(t, u, nil).CloseNow()
			r := requestSeen(t, s)
			if r.RequestURI != tc.target {
				t.Fatalf("request target %q, want %q", r.RequestURI, tc.target)
			}
			if r.Host != strings.TrimPrefix(s.URL, "ws://") {
				t.Fatalf("Host %q", r.Host)
			}
		})
	}
}

// Bad URLs fail before any network activity.
func TestConnDialBadURL(t *testing.T) {
	called := false
	d := &Dialer{Proxy: NoProxy, NetDialContext: func(context.Context, string, string) (net.Conn, error) {
		called = true
		return nil, errors.New("must not dial")
	}}
	for _, u := range []string{"ftp://example.com/", "ws://", "ws:///path", "example.com", "ws://[::1", "%%"} {
		if c, err := Dial(context.Background(), u, d); err == nil {
			c.CloseNow()
			t.Fatalf("Dial(%q) succeeded", u)
		}
	}
	if called {
		t.Fatal("a bad URL reached the network")
	}
}

// The default ports are 80 for ws and 443 for wss, and the URL's host name
// is what the dial function receives (no resolution in between).
func TestConnDialDefaultPorts(t *testing.T) {
	for _, tc := range []struct{ url, addr string }{
		{"ws://example.invalid/x", "example.invalid:80"},
		{"wss://example.invalid/x", "example.invalid:443"},
		{"ws://example.invalid:8080", "example.invalid:8080"},
		{"ws://[2001:db8::1]/", "[2001:db8::1]:80"},
		{"wss://[2001:db8::1]:9443/", "[2001:db8::1]:9443"},
	} {
		var got string
		boom := errors.New("dial refused by test")
		d := &Dialer{Proxy: NoProxy, NetDialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
			got = network + " " + addr
			return nil, boom
		}}
		_, err := Dial(context.Background(), tc.url, d)
		var de *DialError
		if !errors.As(err, &de) || de.Op != "dial" || !errors.Is(err, boom) {
			t.Fatalf("%s: %v, want a DialError dial wrapping the dial function's error", tc.url, err)
		}
		if got != "tcp "+tc.addr {
			t.Fatalf("%s: dialled %q, want tcp %s", tc.url, got, tc.addr)
		}
	}
}

// A refused TCP connection is a DialError with Op "dial".
func TestConnDialRefused(t *testing.T) {
	_, err := dialE(t, "ws://"+netfault.ClosedAddr(t), nil)
	var de *DialError
	if !errors.As(err, &de) || de.Op != "dial" {
		t.Fatalf("Dial to a closed port: %v, want DialError dial", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("DialError does not wrap the *net.OpError: %v", err)
	}
}

// An IPv6 literal URL reaches a server on [::1] with a bracketed Host.
func TestConnDialIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	srv := newEcho(t, wstest.WithListenAddr("[::1]:0"))
	if !strings.HasPrefix(srv.URL, "ws://[::1]:") {
		t.Fatalf("server URL %q", srv.URL)
	}
	conn := dialT(t, srv.URL+"/six?x=1", nil)
	ctx := testCtx(t)
	if err := conn.WriteMessage(ctx, TextMessage, []byte("v6")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := conn.ReadMessage(ctx); err != nil || string(got) != "v6" {
		t.Fatalf("%q, %v", got, err)
	}
	r := requestSeen(t, srv)
	if r.Host != strings.TrimPrefix(srv.URL, "ws://") || r.RequestURI != "/six?x=1" {
		t.Fatalf("Host %q target %q", r.Host, r.RequestURI)
	}
	if ra := conn.Info().RemoteAddr.String(); ra != strings.TrimPrefix(srv.URL, "ws://") {
		t.Fatalf("RemoteAddr %q", ra)
	}
}

// User info in the URL becomes a Basic Authorization header (and is not
// sent in the request line); an explicit Authorization header wins.
func TestConnDialUserinfo(t *testing.T) {
	srv := newEcho(t)
	u := strings.Replace(srv.URL, "ws://", "ws://alice:s%3Acr%40t@", 1) + "/private"
	dialT(t, u, nil).CloseNow()
	r := requestSeen(t, srv)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s:cr@t"))
	if got := r.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization %q, want %q", got, want)
	}
	if strings.Contains(r.RequestURI, "alice") || r.Host != strings.TrimPrefix(srv.URL, "ws://") {
		t.Fatalf("user info leaked into %q / Host %q", r.RequestURI, r.Host)
	}

	srv2 := newEcho(t)
	u2 := strings.Replace(srv2.URL, "ws://", "ws://bob@", 1)
	dialT(t, u2, &Dialer{Header: http.Header{"Authorization": {"Bearer token"}}}).CloseNow()
	if got := requestSeen(t, srv2).Header.Get("Authorization"); got != "Bearer token" {
		t.Fatalf("Authorization %q, want the explicit header", got)
	}

	srv3 := newEcho(t)
	dialT(t, strings.Replace(srv3.URL, "ws://", "ws://carol@", 1), nil).CloseNow()
	if got := requestSeen(t, srv3).Header.Get("Authorization"); got != "Basic "+base64.StdEncoding.EncodeToString([]byte("carol:")) {
		t.Fatalf("Authorization %q for a user without password", got)
	}
}

// Extra headers, Origin and subprotocols arrive at the server as given; the
// handshake headers are well formed.
func TestConnDialHeaders(t *testing.T) {
	srv := newEcho(t, wstest.WithSubprotocols("beta"))
	d := &Dialer{
		Header:       http.Header{"X-Token": {"abc"}, "User-Agent": {"wsclient-test/1"}, "X-Multi": {"1", "2"}},
		Origin:       "https://app.example",
		Subprotocols: []string{"alpha", "beta"},
	}
	conn := dialT(t, srv.URL, d)
	if conn.Info().Subprotocol != "beta" {
		t.Fatalf("Subprotocol %q", conn.Info().Subprotocol)
	}
	r := requestSeen(t, srv)
	h := r.Header
	for k, want := range map[string]string{
		"X-Token":                "abc",
		"User-Agent":             "wsclient-test/1",
		"Origin":                 "https://app.example",
		"Sec-Websocket-Protocol": "alpha, beta",
		"Sec-Websocket-Version":  "13",
		"Upgrade":                "websocket",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if got := h.Values("X-Multi"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("X-Multi %q", got)
	}
	if key, err := base64.StdEncoding.DecodeString(h.Get("Sec-Websocket-Key")); err != nil || len(key) != 16 {
		t.Errorf("Sec-WebSocket-Key %q", h.Get("Sec-Websocket-Key"))
	}
	if h.Get("Sec-Websocket-Extensions") != "" {
		t.Errorf("extensions offered without Compression: %q", h.Get("Sec-Websocket-Extensions"))
	}
	// A second connection uses a fresh key.
	dialT(t, srv.URL, d).CloseNow()
	if k2 := srv.Conns()[1].Request().Header.Get("Sec-Websocket-Key"); k2 == h.Get("Sec-Websocket-Key") {
		t.Error("two handshakes used the same key")
	}
	// The Host header can be overridden.
	srv2 := newEcho(t)
	dialT(t, srv2.URL, &Dialer{Header: http.Header{"Host": {"virtual.example"}}}).CloseNow()
	if got := requestSeen(t, srv2).Host; got != "virtual.example" {
		t.Errorf("Host %q, want the override", got)
	}
}

// Extra headers may not set the handshake's own headers.
func TestConnDialReservedHeaders(t *testing.T) {
	srv := newEcho(t)
	for _, k := range []string{"Upgrade", "connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions"} {
		if _, err := dialE(t, srv.URL, &Dialer{Header: http.Header{k: {"x"}}}); err == nil {
			t.Errorf("Dial with extra header %s succeeded", k)
		}
	}
}

// Cookies from the Jar are sent, and cookies set by the handshake response
// are stored in it.
func TestConnDialCookieJar(t *testing.T) {
	srv := newEcho(t, wstest.WithResponseHeader(http.Header{"Set-Cookie": {"session=new; Path=/"}}))
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hu, _ := url.Parse(strings.Replace(srv.URL, "ws://", "http://", 1) + "/")
	jar.SetCookies(hu, []*http.Cookie{{Name: "pref", Value: "dark", Path: "/"}})
	dialT(t, srv.URL+"/", &Dialer{Jar: jar}).CloseNow()
	if got := requestSeen(t, srv).Header.Get("Cookie"); got != "pref=dark" {
		t.Fatalf("Cookie %q", got)
	}
	var names []string
	for _, c := range jar.Cookies(hu) {
		names = append(names, c.Name+"="+c.Value)
	}
	if !strings.Contains(strings.Join(names, ";"), "session=new") {
		t.Fatalf("jar holds %v, want the server's session cookie", names)
	}
}

// A custom NetDialContext is used for the connection, can map any host to
// the server, and its connection is the one the Conn uses.
func TestConnDialCustomNetDial(t *testing.T) {
	srv := newEcho(t)
	var (
		mu    sync.Mutex
		addrs []string
		conns []net.Conn
	)
	d := &Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var nd net.Dialer
		c, err := nd.DialContext(ctx, network, srv.Addr())
		mu.Lock()
		addrs = append(addrs, addr)
		conns = append(conns, c)
		mu.Unlock()
		return c, err
	}}
	conn := dialT(t, "ws://chat.example.invalid/room", d)
	ctx := testCtx(t)
	if err := conn.WriteMessage(ctx, TextMessage, []byte("routed")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := conn.ReadMessage(ctx); err != nil || string(got) != "routed" {
		t.Fatalf("%q, %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(addrs) != 1 || addrs[0] != "chat.example.invalid:80" {
		t.Fatalf("NetDialContext called with %v", addrs)
	}
	if conn.nc != conns[0] || conn.Info().LocalAddr.String() != conns[0].LocalAddr().String() {
		t.Fatal("Conn does not use the dialled connection")
	}
	if got := requestSeen(t, srv).Host; got != "chat.example.invalid" {
		t.Fatalf("Host %q", got)
	}
}

// A Unix socket through NetDialContext. wstest listens on TCP only, so a
// relay in the test forwards the Unix socket to it.
func TestConnDialUnixSocket(t *testing.T) {
	srv := newEcho(t)
	path := filepath.Join(t.TempDir(), "ws.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Skipf("no Unix sockets: %v", err)
	}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { ln.Close() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		uc, err := ln.Accept()
		if err != nil {
			return
		}
		tc, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			uc.Close()
			return
		}
		wg.Add(1)
		go func() { defer wg.Done(); io.Copy(tc, uc); tc.Close() }()
		io.Copy(uc, tc)
		uc.Close()
	}()
	d := &Dialer{NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "unix", path)
	}}
	conn := dialT(t, "ws://unix.local/socket", d)
	if conn.Info().RemoteAddr.Network() != "unix" {
		t.Fatalf("RemoteAddr network %q", conn.Info().RemoteAddr.Network())
	}
	ctx := testCtx(t)
	msg := pattern(100000, 3)
	if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
		t.Fatal(err)
	}
	if _, got, err := conn.ReadMessage(ctx); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	if err := conn.Close(CloseNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// wss: the default configuration verifies the chain against the system
// roots and fails on the test certificate; the server's pool makes it work;
// a host name the certificate does not cover fails; the dangerous opt-out
// connects anyway and logs a warning.
func TestConnDialTLS(t *testing.T) {
	srv := newEcho(t, wstest.WithTLS())
	if !strings.HasPrefix(srv.URL, "wss://") {
		t.Fatalf("URL %q", srv.URL)
	}
	echo := func(t *testing.T, conn *Conn) {
		t.Helper()
		ctx := testCtx(t)
		if err := conn.WriteMessage(ctx, TextMessage, []byte("secure")); err != nil {
			t.Fatal(err)
		}
		if _, got, err := conn.ReadMessage(ctx); err != nil || string(got) != "secure" {
			t.Fatalf("%q, %v", got, err)
		}
		if _, ok := conn.nc.(*tls.Conn); !ok {
			t.Fatalf("NetConn is %T, want *tls.Conn", conn.nc)
		}
	}
	toServer := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, network, srv.Addr())
	}

	t.Run("default config refuses", func(t *testing.T) {
		_, err := dialE(t, srv.URL, nil)
		var de *DialError
		if !errors.As(err, &de) || de.Op != "tls" {
			t.Fatalf("Dial: %v, want DialError tls", err)
		}
		var cve *tls.CertificateVerificationError
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &cve) || !errors.As(err, &ua) {
			t.Fatalf("Dial: %v, want a certificate verification error (unknown authority)", err)
		}
	})
	t.Run("RootCAs", func(t *testing.T) {
		cfg := &tls.Config{RootCAs: srv.CertPool()}
		echo(t, dialT(t, srv.URL+"/tls", &Dialer{TLSConfig: cfg}))
		if cfg.ServerName != "" || cfg.NextProtos != nil {
			t.Fatalf("Dial modified the caller's tls.Config: %q %v", cfg.ServerName, cfg.NextProtos)
		}
	})
	t.Run("ClientTLSConfig via localhost name", func(t *testing.T) {
		u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		echo(t, dialT(t, u, &Dialer{TLSConfig: srv.ClientTLSConfig(), NetDialContext: toServer}))
	})
	t.Run("host name mismatch", func(t *testing.T) {
		u := strings.Replace(srv.URL, "127.0.0.1", "wrong.example", 1)
		_, err := dialE(t, u, &Dialer{TLSConfig: srv.ClientTLSConfig(), NetDialContext: toServer})
		var de *DialError
		var he x509.HostnameError
		if !errors.As(err, &de) || de.Op != "tls" || !errors.As(err, &he) {
			t.Fatalf("Dial: %v, want DialError tls with a HostnameError", err)
		}
	})
	t.Run("explicit ServerName mismatch", func(t *testing.T) {
		_, err := dialE(t, srv.URL, &Dialer{TLSConfig: &tls.Config{RootCAs: srv.CertPool(), ServerName: "other.example"}})
		var he x509.HostnameError
		if !errors.As(err, &he) {
			t.Fatalf("Dial: %v, want a HostnameError", err)
		}
	})
	t.Run("InsecureSkipVerifyDangerously", func(t *testing.T) {
		var logs bytes.Buffer
		var mu sync.Mutex
		logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
		u := strings.Replace(srv.URL, "127.0.0.1", "wrong.example", 1)
		echo(t, dialT(t, u, &Dialer{InsecureSkipVerifyDangerously: true, NetDialContext: toServer, Logger: logger}))
		mu.Lock()
		defer mu.Unlock()
		if !strings.Contains(logs.String(), "verification is OFF") {
			t.Fatalf("no warning logged: %q", logs.String())
		}
	})
	t.Run("plain ws to a TLS server", func(t *testing.T) {
		_, err := dialE(t, strings.Replace(srv.URL, "wss://", "ws://", 1), &Dialer{HandshakeTimeout: 2e9})
		if err == nil {
			t.Fatal("ws:// to a TLS server succeeded")
		}
	})
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// connectProxy is an https:// CONNECT proxy (TLS with httptest's
// certificate) that tunnels to any address and counts the tunnels.
type connectProxy struct {
	*httptest.Server
	auth    string // when set, the Proxy-Authorization CONNECT needs
	mu      sync.Mutex
	tunnels int
	conns   []net.Conn
	wg      sync.WaitGroup
}

func newConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	p := &connectProxy{}
	p.Server = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.Config.ErrorLog = log.New(io.Discard, "", 0) // refused TLS handshakes are expected
	p.StartTLS()
	t.Cleanup(func() {
		p.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *connectProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	if p.auth != "" && r.Header.Get("Proxy-Authorization") != p.auth {
		w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
		http.Error(w, "who are you?", http.StatusProxyAuthRequired)
		return
	}
	p.wg.Add(1)
	defer p.wg.Done()
	backend, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	client, brw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		backend.Close()
		return
	}
	p.mu.Lock()
	p.tunnels++
	p.conns = append(p.conns, client, backend)
	p.mu.Unlock()
	defer client.Close()
	defer backend.Close()
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		io.Copy(backend, brw.Reader)
		backend.Close()
		close(done)
	}()
	io.Copy(client, backend)
	client.Close()
	<-done
}

func (p *connectProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tunnels
}

// The proxy hop of an https:// proxy has its own TLS settings: verified
// against the system roots by default, whatever TLSConfig says for the
// server (InsecureSkipVerify, RootCAs); ProxyTLSConfig configures it, and
// turning its verification off is logged as a warning.
func TestConnDialHTTPSProxyTLS(t *testing.T) {
	px := newConnectProxy(t)
	proxyPool := x509.NewCertPool()
	proxyPool.AddCert(px.Certificate())
	proxyURL, _ := url.Parse(px.URL) // https://127.0.0.1:PORT
	plain := newEcho(t)
	secure := newEcho(t, wstest.WithTLS())
	logged := func() (*slog.Logger, func() string) {
		var buf bytes.Buffer
		var mu sync.Mutex
		return slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil)), func() string {
			mu.Lock()
			defer mu.Unlock()
			return buf.String()
		}
	}
	refused := func(t *testing.T, err error) {
		t.Helper()
		var de *DialError
		var cve *tls.CertificateVerificationError
		if !errors.As(err, &de) || de.Op != "proxy" || !errors.As(err, &cve) {
			t.Fatalf("Dial: %v, want a proxy DialError with a certificate verification error", err)
		}
		if strings.Contains(err.Error(), "tls: tls:") || !strings.Contains(err.Error(), px.Listener.Addr().String()) {
			t.Fatalf("error %q: want the proxy address, and tls once", err)
		}
	}

	t.Run("server InsecureSkipVerify does not reach the proxy", func(t *testing.T) {
		logger, logs := logged()
		_, err := dialE(t, secure.URL, &Dialer{Proxy: http.ProxyURL(proxyURL), TLSConfig: &tls.Config{InsecureSkipVerify: true}, Logger: logger})
		refused(t, err)
		if strings.Contains(logs(), "proxy connection") {
			t.Fatalf("proxy warning logged though its verification was on: %s", logs())
		}
	})
	t.Run("server InsecureSkipVerifyDangerously does not reach the proxy", func(t *testing.T) {
		logger, _ := logged()
		_, err := dialE(t, secure.URL, &Dialer{Proxy: http.ProxyURL(proxyURL), InsecureSkipVerifyDangerously: true, Logger: logger})
		refused(t, err)
	})
	t.Run("server RootCAs do not replace the proxy's roots", func(t *testing.T) {
		_, err := dialE(t, plain.URL, &Dialer{Proxy: http.ProxyURL(proxyURL), TLSConfig: &tls.Config{RootCAs: proxyPool}})
		refused(t, err)
	})
	if n := px.count(); n != 0 {
		t.Fatalf("%d tunnels through an unverified proxy", n)
	}
	t.Run("ProxyTLSConfig", func(t *testing.T) {
		pcfg := &tls.Config{RootCAs: proxyPool}
		logger, logs := logged()
		for i, tc := range []struct {
			url string
			cfg *tls.Config
		}{
			{plain.URL, nil},
			{secure.URL, &tls.Config{RootCAs: secure.CertPool()}},
		} {
			conn := dialT(t, tc.url+"/via-proxy", &Dialer{Proxy: http.ProxyURL(proxyURL), ProxyTLSConfig: pcfg, TLSConfig: tc.cfg, Logger: logger})
			ctx := testCtx(t)
			if err := conn.WriteMessage(ctx, TextMessage, []byte("tunnelled")); err != nil {
				t.Fatal(err)
			}
			if _, msg, err := conn.ReadMessage(ctx); err != nil || string(msg) != "tunnelled" {
				t.Fatalf("%q, %v", msg, err)
			}
			if n := px.count(); n != i+1 {
				t.Fatalf("%d tunnels, want %d", n, i+1)
			}
		}
		if pcfg.ServerName != "" || pcfg.NextProtos != nil {
			t.Fatalf("Dial modified the caller's ProxyTLSConfig: %q %v", pcfg.ServerName, pcfg.NextProtos)
		}
		if l := logs(); strings.Contains(l, "WARN") {
			t.Fatalf("warning logged with verification on: %s", l)
		}
	})
	t.Run("ProxyTLSConfig InsecureSkipVerify warns", func(t *testing.T) {
		logger, logs := logged()
		before := px.count()
		dialT(t, plain.URL, &Dialer{Proxy: http.ProxyURL(proxyURL), ProxyTLSConfig: &tls.Config{InsecureSkipVerify: true}, Logger: logger}).CloseNow()
		if px.count() != before+1 {
			t.Fatal("no tunnel")
		}
		if l := logs(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "verification is OFF for the proxy connection") {
			t.Fatalf("no warning logged: %q", l)
		}
	})
}

// A CONNECT refusal is a *ProxyError (status and headers) inside a
// *DialError; credentials from the proxy URL go in Proxy-Authorization,
// also to an https:// proxy.
func TestConnDialProxyRefused(t *testing.T) {
	px := newConnectProxy(t)
	px.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte("puser:ppass"))
	pool := x509.NewCertPool()
	pool.AddCert(px.Certificate())
	echo := newEcho(t)
	dial := func(proxyURL string) error {
		u, err := url.Parse(proxyURL)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := dialE(t, echo.URL, &Dialer{Proxy: http.ProxyURL(u), ProxyTLSConfig: &tls.Config{RootCAs: pool}})
		if err == nil {
			conn.CloseNow()
		}
		return err
	}
	hostPort := strings.TrimPrefix(px.URL, "https://")
	for _, bad := range []string{"https://" + hostPort, "https://puser:wrong@" + hostPort} {
		err := dial(bad)
		var de *DialError
		var pe *ProxyError
		if !errors.As(err, &de) || de.Op != "proxy" || !errors.As(err, &pe) {
			t.Fatalf("%s: %v, want a *ProxyError in a proxy DialError", bad, err)
		}
		if pe.StatusCode != http.StatusProxyAuthRequired || pe.Status != "407 Proxy Authentication Required" || pe.Header.Get("Proxy-Authenticate") == "" {
			t.Fatalf("ProxyError %d %q %v", pe.StatusCode, pe.Status, pe.Header)
		}
		if msg := err.Error(); msg != "wsclient: proxy refused CONNECT: 407 Proxy Authentication Required" {
			t.Fatalf("message %q", msg)
		}
	}
	if err := dial("https://puser:ppass@" + hostPort); err != nil {
		t.Fatalf("with credentials: %v", err)
	}
	if px.count() != 1 {
		t.Fatalf("%d tunnels, want 1", px.count())
	}
}

// DialError says each layer's part once: no "dial: dial tcp" or "tls: tls:".
func TestDialErrorMessage(t *testing.T) {
	_, err := dialE(t, "ws://"+netfault.ClosedAddr(t), nil)
	if msg := err.Error(); !strings.HasPrefix(msg, "wsclient: dial tcp ") || strings.Contains(msg, "dial: dial") {
		t.Fatalf("refused: %q", msg)
	}
	srv := newEcho(t, wstest.WithTLS())
	_, err = dialE(t, srv.URL, nil)
	if msg := err.Error(); !strings.HasPrefix(msg, "wsclient: tls: failed to verify certificate") || strings.Contains(msg, "tls: tls:") {
		t.Fatalf("TLS: %q", msg)
	}
	for _, tc := range []struct {
		err  *DialError
		want string
	}{
		{&DialError{Op: "proxy", Err: &ProxyError{Status: "403 Forbidden"}}, "wsclient: proxy refused CONNECT: 403 Forbidden"},
		{&DialError{Op: "proxy", Err: errors.New("unsupported scheme \"ftp\"")}, "wsclient: proxy: unsupported scheme \"ftp\""},
		{&DialError{Op: "handshake", Err: context.DeadlineExceeded}, "wsclient: handshake: context deadline exceeded"},
		{&DialError{Op: "tls"}, "wsclient: tls failed"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}
