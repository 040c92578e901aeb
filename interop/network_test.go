package interop

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/peertest"
)

// proxyCase is one proxy set-up in front of the node server.
type proxyCase struct {
	name  string
	start func(t *testing.T) *peertest.Peer
	// badURL is the proxy URL with wrong credentials ("" when the proxy
	// takes none).
	bad func(p *peertest.Peer) string
}

var proxyCases = []proxyCase{
	{name: "tinyproxy", start: func(t *testing.T) *peertest.Peer {
		return peertest.Tinyproxy(t, peertest.ProxyOptions{})
	}},
	{name: "tinyproxy-auth", start: func(t *testing.T) *peertest.Peer {
		return peertest.Tinyproxy(t, peertest.ProxyOptions{User: "proxyuser", Password: "proxy-pass"})
	}, bad: func(p *peertest.Peer) string { return "http://proxyuser:wrong@" + p.Addr }},
	{name: "microsocks", start: func(t *testing.T) *peertest.Peer {
		return peertest.Microsocks(t, peertest.ProxyOptions{})
	}},
	{name: "microsocks-auth", start: func(t *testing.T) *peertest.Peer {
		return peertest.Microsocks(t, peertest.ProxyOptions{User: "sockuser", Password: "sock-pass"})
	}, bad: func(p *peertest.Peer) string { return "socks5://sockuser:wrong@" + p.Addr }},
}

// TestProxy connects to the node server through tinyproxy (HTTP CONNECT)
// and microsocks (SOCKS5), with and without credentials, and checks that
// the connection really runs through the proxy and carries large messages;
// wrong credentials must fail the dial with a proxy error.
func TestProxy(t *testing.T) {
	node := peertest.NodeWS(t, peertest.NodeOptions{})
	for _, pc := range proxyCases {
		t.Run(pc.name, func(t *testing.T) {
			px := pc.start(t)
			ctx := ctxFor(t)
			target := "/proxy/" + pc.name
			d := newDialer()
			d.Proxy = fixedProxy(t, px.URL)
			c := dial(t, ctx, d, node.URL+target)
			if got := c.Info().RemoteAddr.String(); got != px.Addr {
				t.Fatalf("RemoteAddr %s, want the proxy's %s", got, px.Addr)
			}
			for _, n := range []int{0, 125, 65536, 1 << 20} {
				echo(t, ctx, c, wsclient.BinaryMessage, binaryPayload(n, uint64(n)))
				echo(t, ctx, c, wsclient.TextMessage, textPayload(n, uint64(n)))
			}
			closeClean(t, c, node, target)

			if pc.bad == nil {
				return
			}
			d.Proxy = fixedProxy(t, pc.bad(px))
			c2, err := wsclient.Dial(ctx, node.URL+target+"/bad", d)
			if err == nil {
				c2.CloseNow()
				t.Fatal("Dial with wrong proxy credentials succeeded")
			}
			var de *wsclient.DialError
			if !errors.As(err, &de) || de.Op != "proxy" {
				t.Fatalf("wrong credentials: %v, want a *DialError with Op proxy", err)
			}
			// tinyproxy 1.11 answers 401 rather than 407.
			if strings.HasPrefix(pc.name, "tinyproxy") && !strings.Contains(err.Error(), "407") && !strings.Contains(err.Error(), "401") {
				t.Errorf("wrong credentials: %v, want the proxy's 401/407 status in the error", err)
			}
			// Without credentials the proxy refuses too: the successful dial
			// above really authenticated.
			scheme, _, _ := strings.Cut(px.URL, "://")
			d.Proxy = fixedProxy(t, scheme+"://"+px.Addr)
			if c3, err := wsclient.Dial(ctx, node.URL+target+"/bad", d); err == nil {
				c3.CloseNow()
				t.Fatal("Dial without proxy credentials succeeded on a proxy that requires them")
			}
			if _, ok := node.WaitEvent(300*time.Millisecond, func(e peertest.Event) bool { return e.URL == target+"/bad" }); ok {
				t.Fatal("the server saw a connection although the proxy refused it")
			}
		})
	}
}

// TestProxyTLS runs wss:// through an HTTP CONNECT proxy: TLS to nginx
// inside the tunnel.
func TestProxyTLS(t *testing.T) {
	node := peertest.NodeWS(t, peertest.NodeOptions{})
	tp := peertest.TLSProxy(t, node.URL)
	px := peertest.Tinyproxy(t, peertest.ProxyOptions{})
	ctx := ctxFor(t)
	d := newDialer()
	d.Proxy = fixedProxy(t, px.URL)
	d.TLSConfig = tp.TLSConfig()
	const target = "/proxy-tls"
	c := dial(t, ctx, d, tp.URL+target)
	if c.Info().TLS == nil {
		t.Fatal("Info().TLS is nil over wss://")
	}
	echo(t, ctx, c, wsclient.BinaryMessage, binaryPayload(1<<20, 3))
	closeClean(t, c, node, target)
}

// TestTLS connects with wss:// to nginx terminating TLS in front of the
// node server: with the harness's roots it works (and keeps the request
// intact); without them, or for the wrong name, certificate verification
// fails.
func TestTLS(t *testing.T) {
	node := peertest.NodeWS(t, peertest.NodeOptions{})
	tp := peertest.TLSProxy(t, node.URL)

	t.Run("trusted", func(t *testing.T) {
		ctx := ctxFor(t)
		d := newDialer()
		d.TLSConfig = tp.TLSConfig()
		d.Subprotocols = []string{"none-accepted"}
		const target = "/tls"
		c := dial(t, ctx, d, tp.URL+target)
		st := c.Info().TLS
		if st == nil {
			t.Fatal("Info().TLS is nil over wss://")
		}
		if !st.HandshakeComplete || len(st.PeerCertificates) == 0 || !st.PeerCertificates[0].Equal(tp.Certificate) {
			t.Fatalf("TLS state: complete=%v, peer certificate is not the harness's", st.HandshakeComplete)
		}
		if st.NegotiatedProtocol == "h2" {
			t.Fatal("ALPN negotiated h2 for a WebSocket upgrade")
		}
		for _, n := range echoSizes {
			echo(t, ctx, c, wsclient.BinaryMessage, binaryPayload(n, uint64(n)))
			echo(t, ctx, c, wsclient.TextMessage, textPayload(n, uint64(n)))
		}
		ctl := recordControls(c)
		pingThenEcho(t, ctx, c, []byte("tls-ping"), []byte("x"))
		select {
		case got := <-ctl:
			if got.typ != wsclient.PongMessage || string(got.payload) != "tls-ping" {
				t.Fatalf("control %v %q, want pong tls-ping", got.typ, got.payload)
			}
		default:
			t.Fatal("no pong through TLS")
		}
		if err := c.Close(4001, "bye"); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if ev := waitCloseEvent(t, node, target); ev.Code != 4001 || ev.Reason != "bye" {
			t.Fatalf("server received close %d %q through nginx, want 4001 bye", ev.Code, ev.Reason)
		}
	})

	t.Run("server-close", func(t *testing.T) {
		ctx := ctxFor(t)
		d := newDialer()
		d.TLSConfig = tp.TLSConfig()
		c := dial(t, ctx, d, tp.URL+"/close?code=4003&reason=tls+bye")
		_, _, err := c.ReadMessage(ctx)
		if !isCloseError(err, 4003, "tls bye") {
			t.Fatalf("ReadMessage: %v, want CloseError 4003 tls bye", err)
		}
	})

	t.Run("headers", func(t *testing.T) {
		ctx := ctxFor(t)
		d := newDialer()
		d.TLSConfig = tp.TLSConfig()
		d.Origin = "https://tls.example"
		c := dial(t, ctx, d, tp.URL+"/headers")
		_, msg, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(msg), `"origin":"https://tls.example"`) || !strings.Contains(string(msg), `"host":"`+tp.Addr+`"`) {
			t.Fatalf("headers through nginx: %s", msg)
		}
		closeClean(t, c, node, "/headers")
	})

	t.Run("untrusted", func(t *testing.T) {
		ctx := ctxFor(t)
		d := newDialer() // system roots only
		c, err := wsclient.Dial(ctx, tp.URL+"/untrusted", d)
		if err == nil {
			c.CloseNow()
			t.Fatal("Dial succeeded with a self-signed certificate not in the roots")
		}
		var de *wsclient.DialError
		if !errors.As(err, &de) || de.Op != "tls" {
			t.Fatalf("error %v, want a *DialError with Op tls", err)
		}
		var cve *tls.CertificateVerificationError
		if !errors.As(err, &cve) {
			t.Fatalf("error %v does not wrap *tls.CertificateVerificationError", err)
		}
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Errorf("error %v: want x509.UnknownAuthorityError", err)
		}
	})

	t.Run("wrong-name", func(t *testing.T) {
		ctx := ctxFor(t)
		d := newDialer()
		cfg := tp.TLSConfig()
		cfg.ServerName = "not-this-host.example"
		d.TLSConfig = cfg
		c, err := wsclient.Dial(ctx, tp.URL+"/wrong-name", d)
		if err == nil {
			c.CloseNow()
			t.Fatal("Dial succeeded for a name the certificate does not cover")
		}
		var he x509.HostnameError
		if !errors.As(err, &he) {
			t.Fatalf("error %v, want x509.HostnameError", err)
		}
	})

	t.Run("insecure-skip-verify", func(t *testing.T) {
		ctx := ctxFor(t)
		d := newDialer()
		d.InsecureSkipVerifyDangerously = true
		c := dial(t, ctx, d, tp.URL+"/insecure")
		echo(t, ctx, c, wsclient.TextMessage, []byte("unverified"))
		closeClean(t, c, node, "/insecure")
	})
}
