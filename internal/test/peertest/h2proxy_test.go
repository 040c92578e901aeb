package peertest

import (
	"crypto/tls"
	"io"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// firstSettings connects to an HTTP/2 TLS frontend and returns the
// server's first SETTINGS frame.
func firstSettings(t *testing.T, p *TLSPeer) *http2.SettingsFrame {
	t.Helper()
	cfg := p.TLSConfig()
	cfg.NextProtos = []string{"h2"}
	c, err := tls.Dial("tcp", p.Addr, cfg)
	if err != nil {
		t.Fatalf("TLS to %s: %v", p.Name, err)
	}
	defer c.Close()
	if got := c.ConnectionState().NegotiatedProtocol; got != "h2" {
		t.Fatalf("%s: ALPN %q, want h2", p.Name, got)
	}
	c.SetDeadline(time.Now().Add(StartTimeout))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatalf("%s: reading the first frame: %v", p.Name, err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok {
		t.Fatalf("%s: first frame %T, want SETTINGS", p.Name, f)
	}
	return sf
}

func TestH2Proxies(t *testing.T) {
	node := NodeWS(t, NodeOptions{})
	for _, tc := range []struct {
		name  string
		start func(testing.TB, string, H2ProxyOptions) *TLSPeer
	}{{"haproxy", HAProxyH2}, {"nghttpx", NghttpxH2}} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.start(t, node.URL, H2ProxyOptions{MaxStreams: 321})
			if p.Version == "" {
				t.Errorf("%s: no version found", p.Name)
			}
			sf := firstSettings(t, p)
			if v, _ := sf.Value(http2.SettingEnableConnectProtocol); v != 1 {
				t.Errorf("%s does not enable extended CONNECT (RFC 8441): %v", p.Name, sf)
			}
			if v, _ := sf.Value(http2.SettingMaxConcurrentStreams); v != 321 {
				t.Errorf("%s: MAX_CONCURRENT_STREAMS %d, want 321", p.Name, v)
			}
			// HTTP/1.1 still works: the WebSocket upgrade goes through.
			cfg := p.TLSConfig()
			cfg.NextProtos = []string{"http/1.1"}
			c, err := tls.Dial("tcp", p.Addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			w := dialRaw(t, c, p.Addr, "/h1")
			checkEcho(t, w, false)
			p.Kill()
		})
	}
}
