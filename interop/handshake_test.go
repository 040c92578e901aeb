package interop

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/peertest"
)

// TestSubprotocol offers subprotocol lists to servers that accept "chat"
// and "superchat" and checks Conn.Subprotocol against what the server says
// it selected.
func TestSubprotocol(t *testing.T) {
	accept := []string{"chat", "superchat"}
	cases := []struct {
		name  string
		offer []string
		want  string
	}{
		{"one-match", []string{"superchat", "v2"}, "superchat"},
		{"first-offered", []string{"v2", "chat", "superchat"}, "chat"},
		{"no-match", []string{"v9", "mqtt"}, ""},
		{"none-offered", nil, ""},
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			p := s.protocols(t, accept)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ctx := ctxFor(t)
					target := "/subprotocol/" + tc.name
					d := newDialer()
					d.Subprotocols = tc.offer
					c, err := wsclient.Dial(ctx, p.URL+target, d)
					if err != nil {
						var he *wsclient.HandshakeError
						// websockets' new asyncio API (>= 13) refuses a
						// handshake without a common subprotocol.
						if tc.want == "" && len(tc.offer) > 0 && s.name == "python-websockets" &&
							!strings.HasPrefix(p.Version, "1") && errors.As(err, &he) && he.StatusCode == http.StatusBadRequest {
							t.Logf("refused as websockets %s does: %v", p.Version, err)
							return
						}
						t.Fatalf("Dial offering %q: %v", tc.offer, err)
					}
					t.Cleanup(func() { c.CloseNow() })
					if got := c.Info().Subprotocol; got != tc.want {
						t.Fatalf("Subprotocol() = %q, want %q", got, tc.want)
					}
					if got := c.Info().Header.Get("Sec-WebSocket-Protocol"); got != tc.want {
						t.Fatalf("response Sec-WebSocket-Protocol %q, want %q", got, tc.want)
					}
					ev := waitConnectEvent(t, p, target)
					if ev.Protocol != tc.want {
						t.Fatalf("%s selected %q, want %q", p.Name, ev.Protocol, tc.want)
					}
					echo(t, ctx, c, wsclient.TextMessage, []byte(tc.name))
					closeClean(t, c, p, target)
				})
			}
		})
	}
}

// TestRequestHeaders checks the handshake request as the server received
// it (the /headers path): extra headers, repeated headers, Origin,
// userinfo as Basic authorization, the handshake's own headers, the query.
func TestRequestHeaders(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server, p *peertest.Peer) {
		ctx := ctxFor(t)
		d := newDialer()
		d.Header = http.Header{}
		d.Header.Set("X-Interop-Test", "value with spaces")
		d.Header.Add("X-Multi", "first")
		d.Header.Add("X-Multi", "second")
		d.Header.Set("User-Agent", "wsclient-interop/1.0")
		d.Origin = "https://origin.example"
		d.Subprotocols = []string{"p1", "p2"}
		url := "ws://alice:s3cr%3At@" + p.Addr + "/headers?q=1&r=two"
		c := dial(t, ctx, d, url)
		typ, msg, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if typ != wsclient.TextMessage {
			t.Fatalf("type %v, want text", typ)
		}
		var h map[string]string
		if err := json.Unmarshal(msg, &h); err != nil {
			t.Fatalf("server's header report %q: %v", msg, err)
		}
		want := map[string]string{
			"host":                   p.Addr,
			"x-interop-test":         "value with spaces",
			"x-multi":                "first, second",
			"user-agent":             "wsclient-interop/1.0",
			"origin":                 "https://origin.example",
			"authorization":          "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cr:t")),
			"sec-websocket-version":  "13",
			"sec-websocket-protocol": "p1, p2",
		}
		for k, v := range want {
			if h[k] != v {
				t.Errorf("server received %s: %q, want %q", k, h[k], v)
			}
		}
		if !strings.EqualFold(h["upgrade"], "websocket") {
			t.Errorf("server received upgrade: %q", h["upgrade"])
		}
		if !strings.Contains(strings.ToLower(h["connection"]), "upgrade") {
			t.Errorf("server received connection: %q", h["connection"])
		}
		key, err := base64.StdEncoding.DecodeString(h["sec-websocket-key"])
		if err != nil || len(key) != 16 {
			t.Errorf("server received sec-websocket-key %q: not 16 bytes of base64", h["sec-websocket-key"])
		}
		if _, ok := h["sec-websocket-extensions"]; ok {
			t.Errorf("extensions offered without Dialer.Compression: %q", h["sec-websocket-extensions"])
		}
		if ev := waitConnectEvent(t, p, "/headers?q=1&r=two"); ev.URL != "/headers?q=1&r=two" {
			t.Errorf("request target %q", ev.URL)
		}
		echo(t, ctx, c, wsclient.TextMessage, []byte("after headers"))
		closeClean(t, c, p, "/headers?q=1&r=two")
	})
}

// TestRequestLine checks the method and HTTP version node saw (the
// /request path).
func TestRequestLine(t *testing.T) {
	p := peertest.NodeWS(t, peertest.NodeOptions{})
	ctx := ctxFor(t)
	c := dial(t, ctx, newDialer(), p.URL+"/request?x=%2F")
	_, msg, err := c.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	var r struct {
		Method      string `json:"method"`
		URL         string `json:"url"`
		HTTPVersion string `json:"httpVersion"`
		RawHeaders  []string
	}
	if err := json.Unmarshal(msg, &r); err != nil {
		t.Fatalf("%q: %v", msg, err)
	}
	if r.Method != "GET" || r.URL != "/request?x=%2F" || r.HTTPVersion != "1.1" {
		t.Fatalf("request line %s %s HTTP/%s, want GET /request?x=%%2F HTTP/1.1", r.Method, r.URL, r.HTTPVersion)
	}
	closeClean(t, c, p, "/request?x=%2F")
}
