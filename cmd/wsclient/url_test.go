package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wsclient/wsclient/internal/test/peertest"
	"github.com/wsclient/wsclient/wstest"
)

// withUser returns u with user:password@ in it.
func withUser(t *testing.T, raw, user, pass string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, pass)
	return u.String()
}

func noSecret(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("%q printed:\nstdout:\n%s\nstderr:\n%s", s, r.stdout, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "wsclient: wsclient:") {
		t.Errorf("doubled prefix:\n%s", r.stderr)
	}
}

func TestRedactsCredentials(t *testing.T) {
	auth := make(chan string, 4)
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		auth <- c.Request().Header.Get("Authorization")
		return c.Echo()
	}, wstest.WithT(t))
	u := withUser(t, srv.URL, "alice", "s3cr3t")
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cr3t"))

	r := runBin(t, "hi\n", "--wait", "300ms", u)
	r.wantCode(t, exitOK)
	noSecret(t, r, "s3cr3t", "alice")
	if !strings.Contains(r.stderr, "connected to ws://***@127.0.0.1:") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if got := <-auth; got != want {
		t.Errorf("server saw Authorization %q, want %q", got, want)
	}

	r = runBin(t, "", "--json", "--wait", "0", u)
	r.wantCode(t, exitOK)
	noSecret(t, r, "s3cr3t", "alice")
	if evs := jsonEvents(t, r.stdout); evs[0]["url"] != strings.Replace(srv.URL, "ws://", "ws://***@", 1) {
		t.Errorf("connect event %v", evs[0])
	}

	// Errors: a refused handshake, a connection refused, bad URLs.
	refusing := wstest.NewServer(nil, wstest.WithT(t), wstest.WithStatus(403, ""))
	r = runBin(t, "", "--json", withUser(t, refusing.URL, "alice", "s3cr3t"))
	r.wantCode(t, exitHandshake)
	noSecret(t, r, "s3cr3t", "alice")
	r = runBin(t, "", "ws://alice:s3cr3t@127.0.0.1:1")
	r.wantCode(t, exitConnect)
	noSecret(t, r, "s3cr3t", "alice")
	for _, bad := range []string{"ws://alice:s3cr3t@", "ftp://alice:s3cr3t@127.0.0.1:1", "ws://alice:s3cr3t@127.0.0.1:x/"} {
		r = runBin(t, "", bad)
		r.wantCode(t, exitUsage)
		noSecret(t, r, "s3cr3t", "alice")
	}
	r = runBin(t, "", "--proxy", "ftp://bob:pr0xy@127.0.0.1:1", srv.URL)
	r.wantCode(t, exitUsage)
	noSecret(t, r, "pr0xy", "bob")
}

func TestURLWithoutScheme(t *testing.T) {
	paths := make(chan string, 4)
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		paths <- c.Request().URL.RequestURI()
		return c.Echo()
	}, wstest.WithT(t))
	addr := srv.Addr() // 127.0.0.1:PORT
	port := addr[strings.LastIndex(addr, ":")+1:]
	for _, tc := range []struct{ arg, path string }{
		{addr, "/"},
		{"localhost:" + port, "/"},
		{"localhost:" + port + "/feed?x=1", "/feed?x=1"},
	} {
		r := runBin(t, "hi\n", "--wait", "300ms", tc.arg)
		r.wantCode(t, exitOK)
		if r.stdout != "hi\n" {
			t.Errorf("%s: stdout %q", tc.arg, r.stdout)
		}
		if !strings.Contains(r.stderr, "no scheme given: connecting to ws://"+tc.arg) {
			t.Errorf("%s: stderr does not say how the URL was read:\n%s", tc.arg, r.stderr)
		}
		if got := <-paths; got != tc.path {
			t.Errorf("%s: server saw %q, want %q", tc.arg, got, tc.path)
		}
	}
	// -q keeps it quiet.
	r := runBin(t, "", "-q", "--wait", "0", addr)
	r.wantCode(t, exitOK)
	if r.stderr != "" {
		t.Errorf("-q: stderr %q", r.stderr)
	}
}

// redirector answers every handshake with status and Location: to, and
// reports the Authorization and Cookie headers it received.
func redirector(t *testing.T, status int, to func(r *http.Request) string, tlsServer bool) (*httptest.Server, chan http.Header) {
	seen := make(chan http.Header, 32)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		w.Header().Set("Location", to(r))
		w.WriteHeader(status)
	})
	var s *httptest.Server
	if tlsServer {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s, seen
}

func TestFollowRedirects(t *testing.T) {
	seen := make(chan http.Header, 4)
	target := wstest.NewServer(func(c *wstest.Conn) error {
		seen <- c.Request().Header.Clone()
		return c.Echo()
	}, wstest.WithT(t))
	hop, hopSeen := redirector(t, http.StatusFound, func(*http.Request) string { return target.URL + "/there" }, false)
	start := withUser(t, strings.Replace(hop.URL, "http://", "ws://", 1), "alice", "s3cr3t")

	// Without -L: the refusal shows where it points.
	r := runBin(t, "hi\n", start)
	r.wantCode(t, exitHandshake)
	if !strings.Contains(r.stderr, "302") || !strings.Contains(r.stderr, "Location: "+target.URL+"/there") || !strings.Contains(r.stderr, "-L") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	<-hopSeen

	// With -L: followed; the new host gets no credentials.
	r = runBin(t, "hi\n", "-L", "-H", "Authorization: Bearer tok", "-H", "Cookie: c=1", "-H", "X-Keep: 1", "--wait", "300ms", start)
	r.wantCode(t, exitOK)
	if r.stdout != "hi\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "redirected (302) to "+target.URL+"/there") || !strings.Contains(r.stderr, "connected to "+target.URL+"/there") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	noSecret(t, r, "s3cr3t")
	if h := <-hopSeen; h.Get("Authorization") != "Bearer tok" || h.Get("Cookie") != "c=1" {
		t.Errorf("first hop saw %v", h)
	}
	if h := <-seen; h.Get("Authorization") != "" || h.Get("Cookie") != "" || h.Get("X-Keep") != "1" {
		t.Errorf("the other host saw %v", h)
	}

	// --json reports the redirect as an event.
	r = runBin(t, "", "--follow-redirects", "--json", "--wait", "0", start)
	r.wantCode(t, exitOK)
	evs := jsonEvents(t, r.stdout)
	if names := strings.Join(eventNames(evs), " "); names != "redirect connect close" {
		t.Errorf("events %q\n%s", names, r.stdout)
	} else if evs[0]["code"] != 302.0 || evs[0]["location"] != target.URL+"/there" {
		t.Errorf("redirect event %v", evs[0])
	}
	<-hopSeen
	<-seen
}

func TestFollowRedirectsSameHostKeepsCredentials(t *testing.T) {
	auth := make(chan string, 4)
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if c.Request().URL.Path == "/old" {
			return nil
		}
		auth <- c.Request().Header.Get("Authorization")
		return c.Echo()
	}, wstest.WithT(t), wstest.WithRawResponse(func(r *http.Request) []byte {
		if r.URL.Path == "/old" {
			return []byte("HTTP/1.1 308 Permanent Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n")
		}
		return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			wstest.AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
	}))
	r := runBin(t, "hi\n", "-L", "--wait", "300ms", withUser(t, srv.URL+"/old", "alice", "s3cr3t"))
	r.wantCode(t, exitOK)
	if r.stdout != "hi\n" || !strings.Contains(r.stderr, "redirected (308) to "+srv.URL+"/new\n") || !strings.Contains(r.stderr, "connected to "+srv.URL+"/new\n") {
		t.Errorf("stdout %q stderr:\n%s", r.stdout, r.stderr)
	}
	if got := <-auth; got != "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:s3cr3t")) {
		t.Errorf("same host saw Authorization %q", got)
	}
}

func TestFollowRedirectsRefusals(t *testing.T) {
	// wss:// to ws:// is never followed.
	tlsHop, _ := redirector(t, http.StatusMovedPermanently, func(*http.Request) string { return "ws://127.0.0.1:1/" }, true)
	r := runBin(t, "", "-L", "--insecure", "-q", strings.Replace(tlsHop.URL, "https://", "wss://", 1))
	r.wantCode(t, exitHandshake)
	if !strings.Contains(r.stderr, "from wss:// to ws://127.0.0.1:1/ refused") {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	// A loop ends after 10 redirects.
	var n atomic.Int32
	loop, _ := redirector(t, http.StatusTemporaryRedirect, func(r *http.Request) string {
		return fmt.Sprintf("ws://%s/%d", r.Host, n.Add(1))
	}, false)
	r = runBin(t, "", "-L", "-q", loop.URL)
	r.wantCode(t, exitHandshake)
	if !strings.Contains(r.stderr, "stopped after 10 redirects") || n.Load() != 11 {
		t.Errorf("%d requests; stderr:\n%s", n.Load(), r.stderr)
	}

	// A Location that is not a WebSocket URL says why it was not followed.
	ftp, _ := redirector(t, http.StatusFound, func(*http.Request) string { return "ftp://127.0.0.1:1/x" }, false)
	r = runBin(t, "", "-L", "-q", ftp.URL)
	r.wantCode(t, exitHandshake)
	if !strings.Contains(r.stderr, "redirect (302 Found) to ftp://127.0.0.1:1/x not followed: bad URL scheme \"ftp\"") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// With -L and --reconnect, every connection attempt starts at the URL
// given and follows the redirect again (the server may point elsewhere by
// then), saying so each time.
func TestFollowRedirectsOnReconnect(t *testing.T) {
	var n atomic.Int32
	target := wstest.NewServer(func(c *wstest.Conn) error {
		if n.Add(1) == 1 {
			return c.Drop()
		}
		return c.Echo()
	}, wstest.WithT(t))
	hop, hopSeen := redirector(t, http.StatusFound, func(*http.Request) string { return target.URL + "/there" }, false)
	r := runBin(t, "", "-L", "--reconnect", "--json", "--wait", "2s", hop.URL)
	r.wantCode(t, exitOK)
	evs := jsonEvents(t, r.stdout)
	if names := strings.Join(eventNames(evs), " "); names != "redirect connect disconnect reconnect redirect connect close" {
		t.Fatalf("events %q\n%s", names, r.stdout)
	}
	for _, i := range []int{1, 5} {
		if evs[i]["url"] != target.URL+"/there" {
			t.Errorf("connect event %v, want the redirect's target", evs[i])
		}
	}
	if len(hopSeen) != 2 || n.Load() != 2 {
		t.Errorf("redirector saw %d requests, target %d connections; want 2 and 2", len(hopSeen), n.Load())
	}
}

func TestProxyFlag(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) *peertest.Peer
	}{
		{"http", func(t *testing.T) *peertest.Peer {
			return peertest.Tinyproxy(t, peertest.ProxyOptions{User: "bob", Password: "pr0xy"})
		}},
		{"socks5", func(t *testing.T) *peertest.Peer {
			return peertest.Microsocks(t, peertest.ProxyOptions{User: "bob", Password: "pr0xy"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.start(t)
			before := len(srv.Conns())
			r := runBin(t, "via proxy\n", "--proxy", p.URL, "--wait", "300ms", srv.URL)
			r.wantCode(t, exitOK)
			if r.stdout != "via proxy\n" {
				t.Errorf("stdout %q stderr:\n%s", r.stdout, r.stderr)
			}
			noSecret(t, r, "pr0xy")
			conns := srv.Conns()
			if len(conns) != before+1 {
				t.Fatalf("%d new connections", len(conns)-before)
			}
			// The server saw the proxy's address, not ours: the proxy
			// made the connection (both are on 127.0.0.1, so check the
			// proxy logged it).
			if !strings.Contains(p.Output(), srv.Addr()[strings.LastIndex(srv.Addr(), ":")+1:]) {
				t.Errorf("the proxy did not log the target; output:\n%s", p.Output())
			}
			// Wrong proxy credentials fail as a connection problem, without
			// echoing them.
			bad := strings.Replace(p.URL, "pr0xy", "wr0ng", 1)
			r = runBin(t, "", "--proxy", bad, srv.URL)
			r.wantCode(t, exitConnect)
			noSecret(t, r, "wr0ng")
		})
	}
}
