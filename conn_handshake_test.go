//go:build !js

package wsclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// dialHandshakeError dials srv and returns the *HandshakeError it must fail
// with.
func dialHandshakeError(t *testing.T, srv *wstest.Server, d *Dialer) *HandshakeError {
	t.Helper()
	conn, err := dialE(t, srv.URL, d)
	if err == nil {
		conn.CloseNow()
		t.Fatal("Dial succeeded, want a HandshakeError")
	}
	var he *HandshakeError
	if !errors.As(err, &he) {
		t.Fatalf("Dial: %v (%T), want *HandshakeError", err, err)
	}
	if he.Reason == "" || !strings.Contains(err.Error(), he.Reason) {
		t.Fatalf("HandshakeError without a reason in its message: %q", err)
	}
	return he
}

// A refused upgrade gives a HandshakeError with the status code, status
// text, headers and body.
func TestConnHandshakeRefused(t *testing.T) {
	for _, tc := range []struct {
		code int
		body string
	}{
		{http.StatusForbidden, "you shall not pass\n"},
		{http.StatusUnauthorized, ""},
		{http.StatusOK, "<html>not a websocket server</html>"},
		{http.StatusServiceUnavailable, "later"},
		{http.StatusMovedPermanently, ""},
	} {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			srv := newServer(t, nil, wstest.WithStatus(tc.code, tc.body),
				wstest.WithResponseHeader(http.Header{"X-Reason": {"because"}, "Retry-After": {"7"}}))
			he := dialHandshakeError(t, srv, nil)
			if he.StatusCode != tc.code {
				t.Fatalf("StatusCode %d, want %d", he.StatusCode, tc.code)
			}
			if want := http.StatusText(tc.code); !strings.Contains(he.Status, want) || !strings.HasPrefix(he.Status, strconv.Itoa(tc.code)) {
				t.Fatalf("Status %q, want %d %s", he.Status, tc.code, want)
			}
			if he.Header.Get("X-Reason") != "because" || he.Header.Get("Retry-After") != "7" {
				t.Fatalf("Header %v", he.Header)
			}
			if string(he.Body) != tc.body {
				t.Fatalf("Body %q, want %q", he.Body, tc.body)
			}
		})
	}
}

// The body kept in a HandshakeError is bounded, also when the server sends
// a huge body or one without a length that never ends.
func TestConnHandshakeBodyBounded(t *testing.T) {
	t.Run("large body", func(t *testing.T) {
		srv := newServer(t, nil, wstest.WithStatus(http.StatusBadRequest, strings.Repeat("e", 1<<20)))
		he := dialHandshakeError(t, srv, nil)
		if len(he.Body) != maxHandshakeErrorBody {
			t.Fatalf("Body of %d bytes, want the %d-byte bound", len(he.Body), maxHandshakeErrorBody)
		}
	})
	t.Run("endless body", func(t *testing.T) {
		srv := newServer(t, func(c *wstest.Conn) error {
			for range 1000 {
				if err := c.WriteRaw([]byte(strings.Repeat("z", 1024))); err != nil {
					return nil
				}
			}
			<-c.Context().Done()
			return nil
		}, wstest.WithRawResponse(func(*http.Request) []byte {
			return []byte("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n")
		}))
		start := time.Now()
		he := dialHandshakeError(t, srv, nil)
		if he.StatusCode != 500 || len(he.Body) > maxHandshakeErrorBody {
			t.Fatalf("status %d, body %d bytes", he.StatusCode, len(he.Body))
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("Dial took %v with an endless body", d)
		}
	})
}

// 101 responses that do not complete the upgrade correctly are refused with
// a HandshakeError carrying StatusCode 101 and the headers.
func TestConnHandshakeInvalid101(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []wstest.Option
		d    *Dialer
	}{
		{"wrong accept", []wstest.Option{wstest.WithAccept("dGhlIHNhbXBsZSBub25jZQ==")}, nil},
		{"empty accept", []wstest.Option{wstest.WithAccept("")}, nil},
		{"two accepts", []wstest.Option{wstest.WithResponseHeader(http.Header{"Sec-WebSocket-Accept": {"a", "b"}})}, nil},
		{"no accept", []wstest.Option{wstest.WithResponseHeader(http.Header{"Sec-WebSocket-Accept": nil})}, nil},
		{"no upgrade", []wstest.Option{wstest.WithResponseHeader(http.Header{"Upgrade": nil})}, nil},
		{"upgrade to something else", []wstest.Option{wstest.WithResponseHeader(http.Header{"Upgrade": {"h2c"}})}, nil},
		{"no connection", []wstest.Option{wstest.WithResponseHeader(http.Header{"Connection": nil})}, nil},
		{"connection keep-alive", []wstest.Option{wstest.WithResponseHeader(http.Header{"Connection": {"keep-alive"}})}, nil},
		{"subprotocol not offered", []wstest.Option{wstest.WithSubprotocolFunc(func([]string) string { return "evil" })}, &Dialer{Subprotocols: []string{"chat"}}},
		{"subprotocol when none offered", []wstest.Option{wstest.WithSubprotocolFunc(func([]string) string { return "chat" })}, nil},
		{"two subprotocols", []wstest.Option{wstest.WithResponseHeader(http.Header{"Sec-WebSocket-Protocol": {"a", "b"}})}, &Dialer{Subprotocols: []string{"a", "b"}}},
		{"extension not offered", []wstest.Option{wstest.WithExtensions("permessage-deflate")}, nil},
		{"unknown extension not offered", []wstest.Option{wstest.WithExtensions("x-webkit-deflate-frame")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newEcho(t, tc.opts...)
			he := dialHandshakeError(t, srv, tc.d)
			if he.StatusCode != http.StatusSwitchingProtocols || he.Header == nil {
				t.Fatalf("StatusCode %d, Header %v; want 101 and the headers", he.StatusCode, he.Header)
			}
		})
	}
}

// Header tokens compare case-insensitively and within lists.
func TestConnHandshakeLenient101(t *testing.T) {
	srv := newEcho(t, wstest.WithResponseHeader(http.Header{
		"Upgrade":    {"WebSocket"},
		"Connection": {"keep-alive, UPGRADE"},
		"X-Extra":    {"seen"},
	}), wstest.WithSubprotocols("v2.chat"))
	conn := dialT(t, srv.URL, &Dialer{Subprotocols: []string{"v1.chat", "v2.chat"}})
	if conn.Info().Subprotocol != "v2.chat" {
		t.Fatalf("Subprotocol() = %q", conn.Info().Subprotocol)
	}
	if conn.Info().Extensions != "" {
		t.Fatalf("Extensions() = %q", conn.Info().Extensions)
	}
	if info := conn.Info(); info.Header.Get("X-Extra") != "seen" {
		t.Fatalf("Info() = %+v", info)
	}
	ctx := testCtx(t)
	if err := conn.WriteMessage(ctx, TextMessage, []byte("works")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := conn.ReadMessage(ctx); err != nil || string(got) != "works" {
		t.Fatalf("%q, %v", got, err)
	}
}

// Garbage instead of an HTTP response, or a connection closed before the
// response ends, fails the dial with a HandshakeError.
func TestConnHandshakeGarbage(t *testing.T) {
	for _, tc := range []struct{ name, resp string }{
		{"not http", "SSH-2.0-OpenSSH_9.6\r\n"},
		{"truncated header", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(c *wstest.Conn) error {
				if tc.resp != "" {
					if err := c.WriteRaw([]byte(tc.resp)); err != nil {
						return nil
					}
				}
				return c.Drop()
			}, wstest.WithRawResponse(func(*http.Request) []byte { return nil }))
			_, err := dialE(t, srv.URL, nil)
			var he *HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("Dial: %v (%T), want *HandshakeError", err, err)
			}
		})
	}
}

// A server that never answers the handshake: Dial gives up after
// HandshakeTimeout with an error matching context.DeadlineExceeded.
func TestConnHandshakeTimeout(t *testing.T) {
	srv := newEcho(t, wstest.WithHandshakeDelay(time.Minute))
	start := time.Now()
	_, err := dialE(t, srv.URL, &Dialer{HandshakeTimeout: 200 * time.Millisecond})
	d := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial: %v, want context.DeadlineExceeded", err)
	}
	var de *DialError
	if !errors.As(err, &de) || de.Op != "handshake" {
		t.Fatalf("Dial: %v, want a DialError with Op handshake", err)
	}
	if d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Dial returned after %v, want about 200ms", d)
	}
}

// A response that starts and then stalls is covered by the timeout too.
func TestConnHandshakeTimeoutPartialResponse(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.WriteRaw([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgr")); err != nil {
			return nil
		}
		<-c.Context().Done()
		return nil
	}, wstest.WithRawResponse(func(*http.Request) []byte { return nil }))
	start := time.Now()
	_, err := dialE(t, srv.URL, &Dialer{HandshakeTimeout: 200 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("Dial: %v after %v", err, time.Since(start))
	}
}

// Cancelling Dial's context interrupts a handshake in progress promptly.
func TestConnHandshakeCancel(t *testing.T) {
	srv := newEcho(t, wstest.WithHandshakeDelay(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	d := &Dialer{Proxy: NoProxy}
	conn, err := Dial(ctx, srv.URL, d)
	if err == nil {
		conn.CloseNow()
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial: %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("Dial returned %v after the cancel", el)
	}
	// An already cancelled context fails before any I/O.
	conn, err = Dial(ctx, srv.URL, d)
	if err == nil {
		conn.CloseNow()
		t.Fatal("Dial with a cancelled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial with a cancelled context: %v", err)
	}
}

// The context given to Dial does not affect the connection after Dial.
func TestConnDialContextEndsAfterDial(t *testing.T) {
	srv := newEcho(t)
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := Dial(ctx, srv.URL, &Dialer{Proxy: NoProxy})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	cancel()
	// Not synchronisation: there is no event for something that must not
	// happen. This window lets a watch on ctx that Dial wrongly left
	// behind (it would run on its own goroutine) break the connection
	// before the round trip below; on a slow machine the test may miss
	// such a bug, never fail without one.
	time.Sleep(20 * time.Millisecond)
	rctx := testCtx(t)
	if err := conn.WriteMessage(rctx, TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := conn.ReadMessage(rctx); err != nil || string(got) != "still here" {
		t.Fatalf("%q, %v", got, err)
	}
}

// redirector is a plain HTTP server (no WebSocket) whose route answers the
// upgrade requests, typically with redirects; it records every request.
type redirector struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newRedirector(t *testing.T, useTLS bool, route http.HandlerFunc) *redirector {
	t.Helper()
	rd := &redirector{}
	rd.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.mu.Lock()
		rd.reqs = append(rd.reqs, r.Clone(context.Background()))
		rd.mu.Unlock()
		route(w, r)
	}))
	rd.Config.ErrorLog = log.New(io.Discard, "", 0) // refused TLS handshakes are expected
	if useTLS {
		rd.StartTLS()
	} else {
		rd.Start()
	}
	t.Cleanup(rd.Close)
	return rd
}

// wsURL is the redirector's URL with a ws or wss scheme.
func (rd *redirector) wsURL() string {
	return "ws" + strings.TrimPrefix(rd.URL, "http")
}

func (rd *redirector) requests() []*http.Request {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	return append([]*http.Request(nil), rd.reqs...)
}

func (rd *redirector) port() string {
	_, p, _ := net.SplitHostPort(rd.Listener.Addr().String())
	return p
}

// anyHostToLoopback dials 127.0.0.1 on the address's port whatever the host
// name, so tests can use several host names on one machine.
func anyHostToLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
}

// A redirect answer to the upgrade is a HandshakeError with the target in
// Location (resolved against the request URL, password redacted); by
// default it is not followed.
func TestConnHandshakeRedirectLocation(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		for _, tc := range []struct{ loc, want string }{
			{"/elsewhere?x=1", "/elsewhere?x=1"},
			{"https://user:secret@example.com/feed", "https://user:xxxxx@example.com/feed"},
		} {
			t.Run(fmt.Sprintf("%d %s", code, tc.loc), func(t *testing.T) {
				rd := newRedirector(t, false, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, tc.loc, code)
				})
				_, err := dialE(t, rd.wsURL()+"/start", nil)
				var he *HandshakeError
				if !errors.As(err, &he) || he.StatusCode != code {
					t.Fatalf("Dial: %v, want a HandshakeError %d", err, code)
				}
				want := tc.want
				if strings.HasPrefix(want, "/") {
					want = rd.wsURL() + want
				}
				if he.Location != want {
					t.Fatalf("Location %q, want %q", he.Location, want)
				}
				if !strings.Contains(err.Error(), "redirect to "+want) {
					t.Fatalf("error %q does not show the Location", err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error %q shows a password", err)
				}
				if errors.Is(err, ErrTooManyRedirects) || errors.Is(err, ErrInsecureRedirect) {
					t.Fatalf("error %v matches a redirect-following sentinel", err)
				}
				if n := len(rd.requests()); n != 1 {
					t.Fatalf("server saw %d requests, want 1 (redirect not followed)", n)
				}
			})
		}
	}
	t.Run("no Location", func(t *testing.T) {
		srv := newServer(t, nil, wstest.WithStatus(http.StatusFound, ""))
		he := dialHandshakeError(t, srv, &Dialer{FollowRedirects: true})
		if he.StatusCode != http.StatusFound || he.Location != "" {
			t.Fatalf("HandshakeError %d, Location %q", he.StatusCode, he.Location)
		}
	})
}

// With FollowRedirects a chain of redirects (relative and absolute, every
// redirect status, http:// and ws:// schemes) ends at the WebSocket server.
func TestConnDialFollowRedirects(t *testing.T) {
	echo := newEcho(t)
	echoHTTP := "http://" + strings.TrimPrefix(echo.URL, "ws://")
	rd := newRedirector(t, false, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b?q=1", http.StatusMovedPermanently)
		case "/b":
			http.Redirect(w, r, "c", http.StatusFound)
		case "/c":
			http.Redirect(w, r, "/d", http.StatusSeeOther)
		case "/d":
			http.Redirect(w, r, "/e", http.StatusTemporaryRedirect)
		case "/e":
			http.Redirect(w, r, echoHTTP+"/final?x=y", http.StatusPermanentRedirect)
		default:
			http.NotFound(w, r)
		}
	})
	conn := dialT(t, rd.wsURL()+"/a", &Dialer{FollowRedirects: true})
	ctx := testCtx(t)
	if err := conn.WriteMessage(ctx, TextMessage, []byte("moved")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.ReadMessage(ctx); err != nil || string(msg) != "moved" {
		t.Fatalf("%q, %v", msg, err)
	}
	var paths []string
	for _, r := range rd.requests() {
		paths = append(paths, r.URL.RequestURI())
		if r.Header.Get("Sec-WebSocket-Key") == "" || r.Method != http.MethodGet {
			t.Fatalf("hop %s is not a WebSocket upgrade: %s %v", r.URL, r.Method, r.Header)
		}
	}
	if got := strings.Join(paths, " "); got != "/a /b?q=1 /c /d /e" {
		t.Fatalf("redirector saw %s", got)
	}
	if r := requestSeen(t, echo); r.RequestURI != "/final?x=y" {
		t.Fatalf("server saw %q", r.RequestURI)
	}
	if got, want := conn.Info().URL, echo.URL+"/final?x=y"; got != want {
		t.Errorf("Info().URL = %q, want the last hop %q", got, want)
	}
}

// Info's URL is the URL dialled as Dial parsed it: an http:// scheme is
// ws://, the fragment and any user:password are gone.
func TestConnInfoURL(t *testing.T) {
	echo := newEcho(t)
	hostPort := strings.TrimPrefix(echo.URL, "ws://")
	conn := dialT(t, "http://user:secret@"+hostPort+"/p?q=1#frag", nil)
	if got, want := conn.Info().URL, "ws://"+hostPort+"/p?q=1"; got != want {
		t.Errorf("Info().URL = %q, want %q", got, want)
	}
}

// MaxRedirects (10 by default) bounds a chain; a loop ends with
// ErrTooManyRedirects after exactly MaxRedirects+1 requests.
func TestConnDialRedirectLimit(t *testing.T) {
	echo := newEcho(t)
	rd := newRedirector(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/loop" {
			http.Redirect(w, r, "/loop", http.StatusFound)
			return
		}
		// /n/K redirects K times before reaching the server.
		k, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/n/"))
		if err != nil || k < 1 {
			http.NotFound(w, r)
			return
		}
		if k == 1 {
			http.Redirect(w, r, echo.URL, http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/n/%d", k-1), http.StatusFound)
	})
	dialT(t, rd.wsURL()+"/n/10", &Dialer{FollowRedirects: true}).CloseNow()

	_, err := dialE(t, rd.wsURL()+"/n/11", &Dialer{FollowRedirects: true})
	var he *HandshakeError
	if !errors.As(err, &he) || !errors.Is(err, ErrTooManyRedirects) || he.StatusCode != http.StatusFound {
		t.Fatalf("11 redirects: %v, want a HandshakeError matching ErrTooManyRedirects", err)
	}
	if want := echo.URL; he.Location != want {
		t.Fatalf("Location %q, want %q (the redirect not followed)", he.Location, want)
	}

	before := len(rd.requests())
	_, err = dialE(t, rd.wsURL()+"/loop", &Dialer{FollowRedirects: true, MaxRedirects: 3})
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("loop: %v, want ErrTooManyRedirects", err)
	}
	if n := len(rd.requests()) - before; n != 4 {
		t.Fatalf("loop: %d requests, want 4 (the first and 3 redirects)", n)
	}
	if len(echo.Conns()) != 1 {
		t.Fatalf("echo server saw %d connections, want 1", len(echo.Conns()))
	}
}

// A redirect from wss:// to ws:// is refused (ErrInsecureRedirect) and the
// ws:// server is never contacted; ws:// to wss:// is followed.
func TestConnDialRedirectScheme(t *testing.T) {
	t.Run("wss to ws refused", func(t *testing.T) {
		echo := newEcho(t)
		rd := newRedirector(t, true, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, echo.URL+"/plain", http.StatusFound)
		})
		pool := x509.NewCertPool()
		pool.AddCert(rd.Certificate())
		_, err := dialE(t, rd.wsURL(), &Dialer{FollowRedirects: true, TLSConfig: &tls.Config{RootCAs: pool}})
		var he *HandshakeError
		if !errors.As(err, &he) || !errors.Is(err, ErrInsecureRedirect) || he.Location != echo.URL+"/plain" {
			t.Fatalf("Dial: %v, want a HandshakeError matching ErrInsecureRedirect", err)
		}
		if n := len(echo.Conns()); n != 0 {
			t.Fatalf("the ws:// server saw %d connections", n)
		}
		// Also via an http:// Location.
		rd2 := newRedirector(t, true, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://"+strings.TrimPrefix(echo.URL, "ws://"), http.StatusTemporaryRedirect)
		})
		pool.AddCert(rd2.Certificate())
		if _, err := dialE(t, rd2.wsURL(), &Dialer{FollowRedirects: true, TLSConfig: &tls.Config{RootCAs: pool}}); !errors.Is(err, ErrInsecureRedirect) {
			t.Fatalf("Dial: %v, want ErrInsecureRedirect", err)
		}
	})
	t.Run("ws to wss followed", func(t *testing.T) {
		echo := newEcho(t, wstest.WithTLS())
		rd := newRedirector(t, false, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://"+strings.TrimPrefix(echo.URL, "wss://")+"/secure", http.StatusMovedPermanently)
		})
		conn := dialT(t, rd.wsURL(), &Dialer{FollowRedirects: true, TLSConfig: &tls.Config{RootCAs: echo.CertPool()}})
		if _, ok := conn.nc.(*tls.Conn); !ok {
			t.Fatalf("NetConn is %T, want *tls.Conn", conn.nc)
		}
		if r := requestSeen(t, echo); r.RequestURI != "/secure" {
			t.Fatalf("server saw %q", r.RequestURI)
		}
	})
}

// Credentials meant for the first host (Authorization, Cookie and Host from
// Dialer.Header, user:password from the URL) do not follow a redirect to
// another host, or to another port of the same host; they do follow one to
// the same host and port (the host name compared without regard to case).
// Jar cookies follow the jar's rules, including cookies the redirect itself
// set; other headers go everywhere.
func TestConnDialRedirectCredentials(t *testing.T) {
	echo := newEcho(t)
	_, echoPort, _ := net.SplitHostPort(echo.Addr())
	for _, tc := range []struct {
		name     string
		userinfo string
		target   string // host name the redirect points to
		samePort bool   // on the redirector's port (else the echo server's)
		auth     string // Authorization the server must see
		cookie   string // Cookie the server must see
		host     string // Host the server must see ("" for target:port)
	}{
		{"other host", "", "second.test", false, "", "b=2", ""},
		{"same host, other port", "", "first.test", false, "", "a=1; c=3", ""},
		{"same host and port", "", "first.test", true, "Bearer token", "h=0; a=1; c=3", "virtual.example"},
		{"same host, upper case", "", "FIRST.test", true, "Bearer token", "h=0; a=1; c=3", "virtual.example"},
		{"userinfo, other host", "user:pw@", "second.test", false, "", "b=2", ""},
		{"userinfo, same host, other port", "user:pw@", "first.test", false, "", "a=1; c=3", ""},
		{"userinfo, same host and port", "user:pw@", "first.test", true, "Basic dXNlcjpwdw==", "h=0; a=1; c=3", "virtual.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rd *redirector
			rd = newRedirector(t, false, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/final" {
					acceptAndHold(t, w, r) // the same host and port as /start
					return
				}
				port := echoPort
				if tc.samePort {
					port = rd.port()
				}
				http.SetCookie(w, &http.Cookie{Name: "c", Value: "3"})
				http.Redirect(w, r, "ws://"+tc.target+":"+port+"/final", http.StatusFound)
			})
			jar, err := cookiejar.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			jar.SetCookies(&url.URL{Scheme: "http", Host: "first.test"}, []*http.Cookie{{Name: "a", Value: "1"}})
			jar.SetCookies(&url.URL{Scheme: "http", Host: "second.test"}, []*http.Cookie{{Name: "b", Value: "2"}})
			hdr := http.Header{"Cookie": {"h=0"}, "X-Trace": {"t1"}, "Host": {"virtual.example"}}
			if tc.userinfo == "" {
				hdr.Set("Authorization", "Bearer token")
			}
			d := &Dialer{FollowRedirects: true, Header: hdr, Jar: jar, NetDialContext: anyHostToLoopback}
			before := len(echo.Conns())
			dialT(t, "ws://"+tc.userinfo+"first.test:"+rd.port()+"/start", d).CloseNow()

			reqs := rd.requests()
			first := reqs[0]
			if first.Header.Get("Authorization") == "" || first.Host != "virtual.example" {
				t.Fatalf("first hop lacks its credentials: %v", first.Header)
			}
			var r *http.Request
			conns := echo.Conns()
			if tc.samePort {
				if len(reqs) != 2 || len(conns) != before {
					t.Fatalf("redirector saw %d requests, echo server %d new connections; want 2 and 0", len(reqs), len(conns)-before)
				}
				r = reqs[1]
			} else {
				if len(reqs) != 1 || len(conns) != before+1 {
					t.Fatalf("redirector saw %d requests, echo server %d new connections; want 1 and 1", len(reqs), len(conns)-before)
				}
				r = conns[len(conns)-1].Request()
			}
			if got := r.Header.Get("Authorization"); got != tc.auth {
				t.Errorf("Authorization %q, want %q", got, tc.auth)
			}
			if got := strings.Join(r.Header.Values("Cookie"), "; "); got != tc.cookie {
				t.Errorf("Cookie %q, want %q", got, tc.cookie)
			}
			wantHost := tc.host
			if wantHost == "" {
				wantHost = tc.target + ":" + echoPort
			}
			if r.Host != wantHost {
				t.Errorf("Host %q, want %q", r.Host, wantHost)
			}
			if r.Header.Get("X-Trace") != "t1" {
				t.Errorf("X-Trace %q, want t1", r.Header.Get("X-Trace"))
			}
		})
	}
}

// acceptAndHold answers a WebSocket upgrade from an http.Handler with a bare
// 101 and keeps the connection open until the client drops it.
func acceptAndHold(t *testing.T, w http.ResponseWriter, r *http.Request) {
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	defer nc.Close()
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		wstest.AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
	if err := brw.Flush(); err != nil {
		t.Errorf("writing the 101: %v", err)
		return
	}
	io.Copy(io.Discard, nc)
}

// Once a redirect has left the first host, credentials stay dropped: a
// chain first -> second -> first does not send the first host's
// Authorization, Cookie or Host to the path the second host chose (as
// net/http does since CVE-2024-45336). The user:password of the original
// URL is not restored either.
func TestConnDialRedirectCredentialsStayDropped(t *testing.T) {
	echo := newEcho(t)
	_, echoPort, _ := net.SplitHostPort(echo.Addr())
	for _, userinfo := range []string{"", "user:pw@"} {
		t.Run("userinfo="+userinfo, func(t *testing.T) {
			var rd *redirector
			rd = newRedirector(t, false, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/start":
					http.Redirect(w, r, "ws://second.test:"+rd.port()+"/bounce", http.StatusFound)
				case "/bounce":
					http.Redirect(w, r, "ws://first.test:"+echoPort+"/chosen-by-second", http.StatusFound)
				default:
					http.NotFound(w, r)
				}
			})
			hdr := http.Header{"Cookie": {"h=0"}, "X-Trace": {"t1"}, "Host": {"virtual.example"}}
			if userinfo == "" {
				hdr.Set("Authorization", "Bearer token")
			}
			d := &Dialer{FollowRedirects: true, Header: hdr, NetDialContext: anyHostToLoopback}
			before := len(echo.Conns())
			dialT(t, "ws://"+userinfo+"first.test:"+rd.port()+"/start", d).CloseNow()
			if reqs := rd.requests(); len(reqs) < 2 || reqs[0].Header.Get("Authorization") == "" || reqs[1].Header.Get("Authorization") != "" {
				t.Fatalf("redirector saw %d requests; first hop must carry credentials, second none", len(reqs))
			}
			conns := echo.Conns()
			if len(conns) != before+1 {
				t.Fatalf("echo server saw %d new connections", len(conns)-before)
			}
			r := conns[len(conns)-1].Request()
			if r.URL.Path != "/chosen-by-second" {
				t.Fatalf("echo server saw %q", r.URL.Path)
			}
			if got := r.Header.Get("Authorization"); got != "" {
				t.Errorf("Authorization %q came back after a detour through another host", got)
			}
			if got := r.Header.Values("Cookie"); len(got) != 0 {
				t.Errorf("Cookie %q came back after a detour through another host", got)
			}
			if r.Host != "first.test:"+echoPort {
				t.Errorf("Host %q came back after a detour through another host", r.Host)
			}
			if r.Header.Get("X-Trace") != "t1" {
				t.Errorf("X-Trace %q, want t1", r.Header.Get("X-Trace"))
			}
		})
	}
}

// Dialer.OnRedirect sees each redirect Dial follows, in order, with the
// URLs (never a password) and whether credentials were dropped; its error
// stops the chain before the next hop is dialed and comes back in the
// HandshakeError (errors.Is) and its message.
func TestConnDialOnRedirect(t *testing.T) {
	echo := newEcho(t)
	_, echoPort, _ := net.SplitHostPort(echo.Addr())
	var rd *redirector
	rd = newRedirector(t, false, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b", http.StatusMovedPermanently)
		case "/b":
			http.Redirect(w, r, "http://second.test:"+rd.port()+"/c", http.StatusTemporaryRedirect)
		case "/c":
			http.Redirect(w, r, "ws://first.test:"+echoPort+"/end", http.StatusFound)
		case "/ftp":
			http.Redirect(w, r, "ftp://first.test/x", http.StatusFound)
		case "/unparsable":
			w.Header().Set("Location", "http://[::1")
			w.WriteHeader(http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	var seen []Redirect
	d := &Dialer{FollowRedirects: true, NetDialContext: anyHostToLoopback, OnRedirect: func(r Redirect) error {
		seen = append(seen, r)
		return nil
	}}
	start := "ws://user:secret@first.test:" + rd.port()
	dialT(t, start+"/a", d).CloseNow()
	p := rd.port()
	want := []Redirect{
		{301, "ws://first.test:" + p + "/a", "ws://first.test:" + p + "/b", 1, false},
		{307, "ws://first.test:" + p + "/b", "ws://second.test:" + p + "/c", 2, true},
		{302, "ws://second.test:" + p + "/c", "ws://first.test:" + echoPort + "/end", 3, true},
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("OnRedirect saw\n%v\nwant\n%v", seen, want)
	}

	// Vetoed at the second redirect: the second host is never contacted.
	errNotThere := errors.New("not to second.test")
	d.OnRedirect = func(r Redirect) error {
		if strings.HasPrefix(r.URL, "ws://second.test:") {
			return errNotThere
		}
		return nil
	}
	before := len(rd.requests())
	_, err := dialE(t, start+"/a", d)
	var he *HandshakeError
	if !errors.As(err, &he) || !errors.Is(err, errNotThere) || he.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("Dial: %v, want the 307's HandshakeError matching the OnRedirect error", err)
	}
	if he.Location != "http://second.test:"+p+"/c" || !strings.Contains(err.Error(), "not to second.test") {
		t.Fatalf("Location %q, error %q", he.Location, err)
	}
	if n := len(rd.requests()) - before; n != 2 {
		t.Fatalf("%d requests after the veto's chain began, want 2", n)
	}

	// A Location Dial cannot follow says why in the error; OnRedirect is
	// not called for it.
	seen = nil
	d.OnRedirect = func(r Redirect) error { seen = append(seen, r); return nil }
	_, err = dialE(t, start+"/ftp", d)
	if !errors.As(err, &he) || !strings.Contains(err.Error(), `scheme "ftp"`) || len(seen) != 0 {
		t.Fatalf("Dial: %v (OnRedirect calls %v), want a HandshakeError saying the scheme is wrong", err, seen)
	}
	_, err = dialE(t, start+"/unparsable", d)
	if !errors.As(err, &he) || he.Err == nil || !strings.Contains(err.Error(), "bad Location") || he.Location != "http://[::1" || len(seen) != 0 {
		t.Fatalf("Dial: %v (OnRedirect calls %v), want a HandshakeError saying the Location is bad", err, seen)
	}
	// Not following redirects, the same answer is just a redirect: Err
	// stays nil.
	d.FollowRedirects = false
	if _, err = dialE(t, start+"/unparsable", d); !errors.As(err, &he) || he.Err != nil || he.Location != "http://[::1" {
		t.Fatalf("Dial without FollowRedirects: %v, want a HandshakeError with Location and no Err", err)
	}
}
