//go:build !js

package wsclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"golang.org/x/net/http2"

	"github.com/wsclient/wsclient/wstest"
)

// alpnServer is a TLS server on 127.0.0.1 that offers ALPN h2 and
// http/1.1 but not WebSockets over HTTP/2: on h2 its SETTINGS do not enable
// extended CONNECT; on http/1.1 it accepts the WebSocket upgrade. It reports
// the TLS handshakes it completes (as long as there is room on handshakes).
type alpnServer struct {
	ln         net.Listener
	url        string
	clientTLS  *tls.Config
	handshakes chan tls.ConnectionState
	wg         sync.WaitGroup
}

func newALPNServer(t *testing.T) *alpnServer { return newALPNServerTB(t) }

func newALPNServerTB(t testing.TB) *alpnServer {
	t.Helper()
	hs := httptest.NewTLSServer(nil) // for its certificate
	cert, roots := hs.TLS.Certificates, hs.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	hs.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: cert, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	s := &alpnServer{ln: ln, url: "wss://" + ln.Addr().String() + "/", clientTLS: &tls.Config{RootCAs: roots}, handshakes: make(chan tls.ConnectionState, 10)}
	s.wg.Go(s.accept)
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *alpnServer) accept() {
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		conns.Go(func() { defer nc.Close(); s.serve(nc.(*tls.Conn)) })
	}
}

func (s *alpnServer) serve(tc *tls.Conn) {
	if tc.Handshake() != nil {
		return
	}
	st := tc.ConnectionState()
	select {
	case s.handshakes <- st: // tests read them as they come
	default: // a benchmark does not
	}
	if st.NegotiatedProtocol == "h2" {
		http2.NewFramer(tc, nil).WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100})
		io.Copy(io.Discard, tc)
		return
	}
	br := bufio.NewReader(tc)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	io.WriteString(tc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
		wstest.AcceptKey(req.Header.Get("Sec-WebSocket-Key"))+"\r\n\r\n")
	io.Copy(io.Discard, br)
}

// HTTP2Auto against a server that picks h2 without extended CONNECT falls
// back to HTTP/1.1 on a new connection, whose TLS handshake resumes the
// probe's session: one full handshake, one abbreviated.
func TestH2AutoFallbackResumesTLS(t *testing.T) {
	s := newALPNServer(t)
	d := &Dialer{HTTP2: HTTP2Auto, Proxy: NoProxy, TLSConfig: s.clientTLS}
	c := dialT(t, s.url, d)
	if c.Info().HTTP2 {
		t.Fatal("a server without extended CONNECT got a WebSocket over HTTP/2")
	}
	probe, fallback := recv(t, s.handshakes), recv(t, s.handshakes)
	if probe.NegotiatedProtocol != "h2" || probe.DidResume {
		t.Fatalf("probe: ALPN %q, resumed %v; want h2, a full handshake", probe.NegotiatedProtocol, probe.DidResume)
	}
	if fallback.NegotiatedProtocol != "http/1.1" || !fallback.DidResume {
		t.Fatalf("fallback: ALPN %q, resumed %v; want http/1.1, resumed", fallback.NegotiatedProtocol, fallback.DidResume)
	}
	if st := c.Info().TLS; st == nil || !st.DidResume {
		t.Fatalf("the client's view of the fallback's TLS: %+v, want DidResume", st)
	}
	c.CloseNow()
	// The origin is remembered: the next dial goes to HTTP/1.1 at once,
	// and resumes too.
	c = dialT(t, s.url, d)
	if st := recv(t, s.handshakes); st.NegotiatedProtocol != "http/1.1" || !st.DidResume {
		t.Fatalf("remembered origin: ALPN %q, resumed %v; want http/1.1, resumed", st.NegotiatedProtocol, st.DidResume)
	}
	c.CloseNow()
}

// recordingCache is a tls.ClientSessionCache that counts its uses.
type recordingCache struct {
	tls.ClientSessionCache
	mu      sync.Mutex
	gets    int
	puts    int
	resumed int
}

func (r *recordingCache) Get(key string) (*tls.ClientSessionState, bool) {
	st, ok := r.ClientSessionCache.Get(key)
	r.mu.Lock()
	r.gets++
	if ok {
		r.resumed++
	}
	r.mu.Unlock()
	return st, ok
}

func (r *recordingCache) Put(key string, cs *tls.ClientSessionState) {
	r.mu.Lock()
	r.puts++
	r.mu.Unlock()
	r.ClientSessionCache.Put(key, cs)
}

// A session cache of the user's own is the one used, by the probe and the
// fallback alike.
func TestH2AutoFallbackUsesTheUsersSessionCache(t *testing.T) {
	s := newALPNServer(t)
	cache := &recordingCache{ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	cfg := s.clientTLS.Clone()
	cfg.ClientSessionCache = cache
	d := &Dialer{HTTP2: HTTP2Auto, Proxy: NoProxy, TLSConfig: cfg}
	c := dialT(t, s.url, d)
	c.CloseNow()
	if probe, fallback := recv(t, s.handshakes), recv(t, s.handshakes); probe.DidResume || !fallback.DidResume {
		t.Fatalf("resumed: probe %v, fallback %v; want false, true", probe.DidResume, fallback.DidResume)
	}
	cache.mu.Lock()
	defer cache.mu.Unlock()
	if cache.gets != 2 || cache.resumed != 1 || cache.puts == 0 {
		t.Fatalf("the user's cache: %d gets (%d found), %d puts; want 2 gets, 1 found, some puts", cache.gets, cache.resumed, cache.puts)
	}
}

// noSessionCache is a session cache that keeps nothing: every handshake is
// a full one (what HTTP2Auto's fallback did before it shared a cache).
type noSessionCache struct{}

func (noSessionCache) Get(string) (*tls.ClientSessionState, bool) { return nil, false }
func (noSessionCache) Put(string, *tls.ClientSessionState)        {}

// BenchmarkH2AutoFallbackDial is HTTP2Auto's first dial to a server
// without extended CONNECT (a fresh Dialer each time): the h2 probe, then
// the HTTP/1.1 dial, whose handshake resumes the probe's session (resumed)
// or is a full one (full).
func BenchmarkH2AutoFallbackDial(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache tls.ClientSessionCache
	}{{"resumed", nil}, {"full", noSessionCache{}}} {
		b.Run(bc.name, func(b *testing.B) {
			s := newALPNServerTB(b)
			cfg := s.clientTLS.Clone()
			cfg.ClientSessionCache = bc.cache
			ctx := context.Background()
			for b.Loop() {
				d := &Dialer{HTTP2: HTTP2Auto, Proxy: NoProxy, TLSConfig: cfg}
				c, err := Dial(ctx, s.url, d)
				if err != nil {
					b.Fatal(err)
				}
				c.CloseNow()
			}
		})
	}
}
