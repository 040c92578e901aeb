package main

import (
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wsclient/wsclient/wstest"
)

// httpsConnectProxy is an https:// CONNECT proxy with a self-signed
// certificate (written to CA, a PEM file) that counts its tunnels.
type httpsConnectProxy struct {
	*httptest.Server
	CA      string
	tunnels atomic.Int32
	wg      sync.WaitGroup
}

func newHTTPSConnectProxy(t *testing.T) *httpsConnectProxy {
	p := &httpsConnectProxy{}
	p.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		p.tunnels.Add(1)
		brw.WriteString("HTTP/1.1 200 Connection established\r\n\r\n")
		brw.Flush()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			io.Copy(up, brw)
			up.(*net.TCPConn).CloseWrite()
		}()
		io.Copy(nc, up)
		nc.Close()
		up.Close()
	}))
	p.Config.ErrorLog = log.New(io.Discard, "", 0) // refused TLS handshakes are expected
	p.StartTLS()
	t.Cleanup(func() { p.Close(); p.wg.Wait() })
	p.CA = filepath.Join(t.TempDir(), "proxy-ca.pem")
	if err := os.WriteFile(p.CA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// An https:// proxy is verified like a server, with its own settings:
// --cacert (for the server) does not make it trusted, --proxy-cacert does.
func TestProxyCACert(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	p := newHTTPSConnectProxy(t)

	for _, args := range [][]string{
		{"--proxy", p.URL, srv.URL},
		{"--proxy", p.URL, "--cacert", p.CA, srv.URL},
	} {
		r := runBin(t, "", args...)
		r.wantCode(t, exitConnect)
		if !strings.Contains(r.stderr, "certificate") || !strings.Contains(r.stderr, "--proxy-cacert") {
			t.Errorf("%q: stderr does not say the proxy's certificate is not trusted and what to do:\n%s", args, r.stderr)
		}
	}
	if n := p.tunnels.Load(); n != 0 {
		t.Fatalf("%d tunnels through an unverified proxy", n)
	}

	r := runBin(t, "via https proxy\n", "--proxy", p.URL, "--proxy-cacert", p.CA, "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "via https proxy\n" {
		t.Errorf("stdout %q stderr:\n%s", r.stdout, r.stderr)
	}
	if n := p.tunnels.Load(); n != 1 {
		t.Errorf("%d tunnels, want 1", n)
	}

	r = runBin(t, "", "--proxy-cacert", filepath.Join(t.TempDir(), "missing.pem"), srv.URL)
	r.wantCode(t, exitUsage)
}
