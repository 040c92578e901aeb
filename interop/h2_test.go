package interop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/peertest"
)

// WebSockets over HTTP/2 (RFC 8441) through HAProxy and nghttpx, each with
// an HTTP/2 TLS frontend in front of the Node ws server. Run them with
// go test -run 'H2|HTTP2'.

// h2Proxy is one kind of HTTP/2 frontend.
type h2Proxy struct {
	name  string
	start func(t testing.TB, backend string, opts peertest.H2ProxyOptions) *peertest.TLSPeer
}

var h2Proxies = []h2Proxy{
	{"haproxy", peertest.HAProxyH2},
	{"nghttpx", peertest.NghttpxH2},
}

// h2Env is a proxy in front of a node server, and a Dialer (HTTP2Only)
// that counts its TCP connections.
type h2Env struct {
	node  *peertest.Peer
	proxy *peertest.TLSPeer
	d     *wsclient.Dialer
	tcp   atomic.Int32
}

// forEachH2Proxy runs f per proxy with a fresh node server and proxy.
func forEachH2Proxy(t *testing.T, nodeOpts peertest.NodeOptions, proxyOpts peertest.H2ProxyOptions, f func(t *testing.T, e *h2Env)) {
	t.Helper()
	for _, hp := range h2Proxies {
		t.Run(hp.name, func(t *testing.T) {
			e := &h2Env{node: peertest.NodeWS(t, nodeOpts)}
			e.proxy = hp.start(t, e.node.URL, proxyOpts)
			t.Logf("%s %s at %s in front of %s %s", e.proxy.Name, e.proxy.Version, e.proxy.Addr, e.node.Name, e.node.Version)
			e.d = newDialer()
			e.d.HTTP2 = wsclient.HTTP2Only
			e.d.TLSConfig = e.proxy.TLSConfig()
			e.d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				e.tcp.Add(1)
				var nd net.Dialer
				return nd.DialContext(ctx, network, addr)
			}
			f(t, e)
		})
	}
}

// dialH2 dials path on the proxy and checks that the WebSocket runs over
// HTTP/2.
func (e *h2Env) dialH2(t *testing.T, ctx context.Context, path string) *wsclient.Conn {
	t.Helper()
	c := dial(t, ctx, e.d, e.proxy.URL+path)
	if !c.Info().HTTP2 {
		t.Fatalf("%s answered over HTTP/1.1, want HTTP/2", e.proxy.Name)
	}
	return c
}

func TestH2EchoSizes(t *testing.T) {
	forEachH2Proxy(t, peertest.NodeOptions{}, peertest.H2ProxyOptions{}, func(t *testing.T, e *h2Env) {
		ctx := ctxFor(t)
		c := e.dialH2(t, ctx, "/h2/echo")
		for _, n := range echoSizes {
			echo(t, ctx, c, wsclient.BinaryMessage, binaryPayload(n, uint64(n)))
			echo(t, ctx, c, wsclient.TextMessage, textPayload(n, uint64(n)))
		}
		closeClean(t, c, e.node, "/h2/echo")
	})
}

func TestH2FragmentsAndPing(t *testing.T) {
	forEachH2Proxy(t, peertest.NodeOptions{}, peertest.H2ProxyOptions{}, func(t *testing.T, e *h2Env) {
		ctx := ctxFor(t)
		e.d.FragmentSize = 1000
		c := e.dialH2(t, ctx, "/h2/fragments")
		msg := textPayload(100_000, 7)
		w, err := c.NextWriter(ctx, wsclient.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(msg); i += 3333 {
			if _, err := w.Write(msg[i:min(i+3333, len(msg))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		waitMessageEvent(t, e.node, "/h2/fragments", false, len(msg))
		_, got, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, "fragmented echo", got, msg)

		ctl := recordControls(c)
		pingThenEcho(t, ctx, c, []byte("h2 ping"), []byte("after ping"))
		select {
		case got := <-ctl:
			if got.typ != wsclient.PongMessage || string(got.payload) != "h2 ping" {
				t.Fatalf("control %v %q, want the pong", got.typ, got.payload)
			}
		default:
			t.Fatal("no pong before the echo")
		}
		// The server pings; the Conn answers.
		c2 := e.dialH2(t, ctx, "/ping?payload=srv")
		if _, got, err := c2.ReadMessage(ctx); err != nil || string(got) != "pong:srv" {
			t.Fatalf("server ping: %q, %v", got, err)
		}
	})
}

func TestH2CloseCodes(t *testing.T) {
	forEachH2Proxy(t, peertest.NodeOptions{}, peertest.H2ProxyOptions{}, func(t *testing.T, e *h2Env) {
		ctx := ctxFor(t)
		c := e.dialH2(t, ctx, "/h2/client-close")
		if err := c.Close(4000, "client bye"); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if ev := waitCloseEvent(t, e.node, "/h2/client-close"); ev.Code != 4000 || ev.Reason != "client bye" {
			t.Fatalf("server saw close %d %q", ev.Code, ev.Reason)
		}
		c2 := e.dialH2(t, ctx, "/close?code=4001&reason=server%20bye&after=1")
		echo(t, ctx, c2, wsclient.TextMessage, []byte("one"))
		if _, _, err := c2.ReadMessage(ctx); !isCloseError(err, 4001, "server bye") {
			t.Fatalf("ReadMessage: %v, want the server's close 4001", err)
		}
	})
}

func TestH2SubprotocolAndHeaders(t *testing.T) {
	forEachH2Proxy(t, peertest.NodeOptions{Protocols: []string{"v2.chat"}}, peertest.H2ProxyOptions{}, func(t *testing.T, e *h2Env) {
		ctx := ctxFor(t)
		e.d.Subprotocols = []string{"v1.chat", "v2.chat"}
		e.d.Header = map[string][]string{"X-Wsclient-Test": {"h2"}}
		c := e.dialH2(t, ctx, "/headers")
		if c.Info().Subprotocol != "v2.chat" {
			t.Fatalf("subprotocol %q, want v2.chat", c.Info().Subprotocol)
		}
		_, b, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"x-wsclient-test":"h2"`) {
			t.Fatalf("the server did not get the extra header: %s", b)
		}
	})
}

func TestH2Deflate(t *testing.T) {
	nodeOpts := peertest.NodeOptions{Deflate: &peertest.DeflateOptions{}}
	forEachH2Proxy(t, nodeOpts, peertest.H2ProxyOptions{}, func(t *testing.T, e *h2Env) {
		ctx := ctxFor(t)
		e.d.Compression = &wsclient.CompressionOptions{}
		c := e.dialH2(t, ctx, "/h2/deflate")
		if name, _ := extParams(c.Info().Extensions); name != "permessage-deflate" {
			t.Fatalf("extensions %q", c.Info().Extensions)
		}
		for i := range 5 {
			echo(t, ctx, c, wsclient.TextMessage, compressiblePayload(1000+i*20000))
		}
		closeClean(t, c, e.node, "/h2/deflate")
	})
}

// TestH2ManyOnOneConnection opens 300 WebSockets at once: with a stream
// limit of 1000 they share one TCP connection; with the proxies' default
// of 100 they need three.
func TestH2ManyOnOneConnection(t *testing.T) {
	for _, tc := range []struct {
		maxStreams int
		want       int32
	}{{1000, 1}, {0, 3}} {
		t.Run(fmt.Sprintf("max%d", tc.maxStreams), func(t *testing.T) {
			forEachH2Proxy(t, peertest.NodeOptions{}, peertest.H2ProxyOptions{MaxStreams: tc.maxStreams}, func(t *testing.T, e *h2Env) {
				ctx := ctxFor(t)
				const n = 300
				conns := make([]*wsclient.Conn, n)
				var wg sync.WaitGroup
				errs := make(chan error, n)
				for i := range n {
					wg.Go(func() {
						c, err := wsclient.Dial(ctx, e.proxy.URL+"/h2/many", e.d)
						if err == nil {
							conns[i] = c
							t.Cleanup(func() { c.CloseNow() })
						}
						errs <- err
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				if got := e.tcp.Load(); got != tc.want {
					t.Fatalf("%d WebSockets used %d TCP connections, want %d", n, got, tc.want)
				}
				for i, c := range conns {
					wg.Go(func() {
						msg := binaryPayload(i*37, uint64(i))
						if err := c.WriteMessage(ctx, wsclient.BinaryMessage, msg); err != nil {
							t.Errorf("conn %d: %v", i, err)
							return
						}
						_, got, err := c.ReadMessage(ctx)
						if err != nil || string(got) != string(msg) {
							t.Errorf("conn %d: echo %d bytes, %v", i, len(got), err)
						}
						if err := c.Close(wsclient.CloseNormalClosure, ""); err != nil {
							t.Errorf("conn %d: Close: %v", i, err)
						}
					})
				}
				wg.Wait()
			})
		})
	}
}

// TestH2StreamReset: the backend drops its TCP connection, and the proxy
// ends that stream; the WebSocket sees a lost connection while its
// neighbour on the same HTTP/2 connection goes on. A client reset (CloseNow)
// reaches the server as a close without a frame (1006).
func TestH2StreamReset(t *testing.T) {
	forEachH2Proxy(t, peertest.NodeOptions{}, peertest.H2ProxyOptions{}, func(t *testing.T, e *h2Env) {
		ctx := ctxFor(t)
		other := e.dialH2(t, ctx, "/h2/neighbour")
		c := e.dialH2(t, ctx, "/close?code=1005")
		if _, _, err := c.ReadMessage(ctx); !errors.Is(err, wsclient.ErrConnectionLost) {
			t.Fatalf("ReadMessage on a dropped stream: %v, want ErrConnectionLost", err)
		}
		echo(t, ctx, other, wsclient.TextMessage, []byte("still here"))
		c3 := e.dialH2(t, ctx, "/h2/reset-by-client")
		waitConnectEvent(t, e.node, "/h2/reset-by-client")
		c3.CloseNow()
		if ev := waitCloseEvent(t, e.node, "/h2/reset-by-client"); ev.Code != 1006 {
			t.Fatalf("server saw close %d after a client reset, want 1006", ev.Code)
		}
		echo(t, ctx, other, wsclient.TextMessage, []byte("still here after a reset"))
		if got := e.tcp.Load(); got != 1 {
			t.Fatalf("TCP connections %d, want 1", got)
		}
	})
}

// TestH2ProxyDiesUnderLiveStreams kills the proxy while WebSockets are open
// on its connection: each one reports a lost connection.
func TestH2ProxyDiesUnderLiveStreams(t *testing.T) {
	forEachH2Proxy(t, peertest.NodeOptions{}, peertest.H2ProxyOptions{}, func(t *testing.T, e *h2Env) {
		ctx := ctxFor(t)
		var conns []*wsclient.Conn
		for i := range 5 {
			conns = append(conns, e.dialH2(t, ctx, fmt.Sprintf("/h2/live/%d", i)))
		}
		e.proxy.Kill()
		for i, c := range conns {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, _, err := c.ReadMessage(rctx)
			cancel()
			if !errors.Is(err, wsclient.ErrConnectionLost) {
				t.Errorf("conn %d: %v, want ErrConnectionLost", i, err)
			}
		}
	})
}

// TestH2AutoAndProxies: HTTP2Auto uses HTTP/2 with HAProxy and falls back
// to HTTP/1.1 with nginx (no RFC 8441 there); HTTP/2 also runs through an
// HTTP CONNECT proxy.
func TestH2AutoAndProxies(t *testing.T) {
	node := peertest.NodeWS(t, peertest.NodeOptions{})
	hp := peertest.HAProxyH2(t, node.URL, peertest.H2ProxyOptions{})
	ng := peertest.TLSProxy(t, node.URL)
	ctx := ctxFor(t)

	d := newDialer()
	d.HTTP2 = wsclient.HTTP2Auto
	d.TLSConfig = hp.TLSConfig()
	c := dial(t, ctx, d, hp.URL+"/h2/auto")
	if !c.Info().HTTP2 {
		t.Fatal("HTTP2Auto with haproxy used HTTP/1.1")
	}
	echo(t, ctx, c, wsclient.TextMessage, []byte("auto h2"))

	d2 := newDialer()
	d2.HTTP2 = wsclient.HTTP2Auto
	d2.TLSConfig = ng.TLSConfig()
	c2 := dial(t, ctx, d2, ng.URL+"/h2/auto-fallback")
	if c2.Info().HTTP2 {
		t.Fatal("HTTP2Auto with nginx used HTTP/2")
	}
	echo(t, ctx, c2, wsclient.TextMessage, []byte("auto h1"))
	d2.HTTP2 = wsclient.HTTP2Only
	if _, err := wsclient.Dial(ctx, ng.URL+"/h2/only", d2); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("HTTP2Only with nginx: %v, want errors.ErrUnsupported", err)
	}

	px := peertest.Tinyproxy(t, peertest.ProxyOptions{})
	d3 := newDialer()
	d3.HTTP2 = wsclient.HTTP2Only
	d3.TLSConfig = hp.TLSConfig()
	d3.Proxy = fixedProxy(t, px.URL)
	c3 := dial(t, ctx, d3, hp.URL+"/h2/via-proxy")
	if got := c3.Info().RemoteAddr.String(); got != px.Addr {
		t.Fatalf("RemoteAddr %s, want the proxy's %s", got, px.Addr)
	}
	echo(t, ctx, c3, wsclient.BinaryMessage, binaryPayload(70000, 3))
	closeClean(t, c3, node, "/h2/via-proxy")
}
