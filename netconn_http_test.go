//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/wsclient/wsclient/internal/test/peertest"
)

// An http.Client talks to an http.Server over one WebSocket: NetConn over
// a Conn to Node ws, which relays the connection's bytes to the server's
// TCP port (websockify style, the node peer's /tcp path). Several requests,
// with bodies larger than a message chunk both ways, share the one
// WebSocket (HTTP keep-alive), and the responses come back intact.
func TestNetConnHTTPOverNodeWS(t *testing.T) {
	peer := peertest.NodeWS(t, peertest.NodeOptions{})
	if peer == nil {
		return
	}
	var serverConns atomic.Int32
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "%s %s %d\n", r.Method, r.URL.Path, len(body))
			w.Write(bytes.ToUpper(body))
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				serverConns.Add(1)
			}
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		<-served
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	var dials atomic.Int32
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			dials.Add(1)
			c, err := Dial(ctx, peer.URL+"/tcp?port="+port, &Dialer{Proxy: NoProxy})
			if err != nil {
				return nil, err
			}
			return NetConn(c, BinaryMessage), nil
		},
		MaxConnsPerHost: 1,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx := testCtx(t)
	for i, size := range []int{0, 10, 100 << 10, 1 << 20, 3} {
		body := bytes.Repeat([]byte("abcdefghij"), size/10+1)[:size]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://backend/item/"+strconv.Itoa(i), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("request %d: reading the body: %v", i, err)
		}
		want := fmt.Sprintf("POST /item/%d %d\n%s", i, size, bytes.ToUpper(body))
		if resp.StatusCode != http.StatusOK || string(got) != want {
			t.Fatalf("request %d: status %d, %d bytes of body, want %d", i, resp.StatusCode, len(got), len(want))
		}
	}
	if n, m := dials.Load(), serverConns.Load(); n != 1 || m != 1 {
		t.Errorf("%d WebSocket dials and %d server connections, want 1 and 1", n, m)
	}
}
