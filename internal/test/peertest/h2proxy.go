package peertest

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// H2ProxyOptions configure HAProxyH2 and NghttpxH2.
type H2ProxyOptions struct {
	// MaxStreams is the SETTINGS_MAX_CONCURRENT_STREAMS the proxy's
	// HTTP/2 frontend advertises; 0 keeps the proxy's default (100 for
	// both).
	MaxStreams int
}

// HAProxyH2 starts HAProxy with an HTTP/2 TLS frontend (ALPN h2 and
// http/1.1) on 127.0.0.1 in front of backendURL, a ws://host:port URL such
// as a NodeWS peer's. HAProxy accepts WebSockets over HTTP/2 (RFC 8441
// extended CONNECT; it advertises SETTINGS_ENABLE_CONNECT_PROTOCOL) and
// over HTTP/1.1, and talks HTTP/1.1 with the Upgrade to the backend. The
// returned URL is wss://127.0.0.1:PORT. It skips the test when haproxy is
// not installed (Debian: haproxy).
func HAProxyH2(tb testing.TB, backendURL string, opts H2ProxyOptions) *TLSPeer {
	tb.Helper()
	bin, ok := lookTool("haproxy")
	if !ok || hidden("haproxy") {
		missing(tb, noHAProxy, "haproxy is not installed (Debian: apt-get install haproxy)")
		return nil
	}
	backend := backendAddr(tb, backendURL)
	dir := tb.TempDir()
	certFile, keyFile, pool, cert := writeCert(tb, dir)
	// HAProxy wants the certificate and its key in one file.
	certPEM, _ := os.ReadFile(certFile)
	keyPEM, _ := os.ReadFile(keyFile)
	pemFile := filepath.Join(dir, "haproxy.pem")
	if err := os.WriteFile(pemFile, append(certPEM, keyPEM...), 0o600); err != nil {
		tb.Fatalf("peertest: %v", err)
	}
	tune := ""
	if opts.MaxStreams > 0 {
		tune = fmt.Sprintf("    tune.h2.max-concurrent-streams %d\n", opts.MaxStreams)
	}
	p, addr := launch(tb, "haproxy", dir, false, func(port int) []string {
		conf := fmt.Sprintf(`global
    nbthread 1
    maxconn 4000
%[1]sdefaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend fe
    bind 127.0.0.1:%[2]d ssl crt %[3]s alpn h2,http/1.1
    default_backend be
backend be
    server ws %[4]s maxconn 4000
`, tune, port, pemFile, backend)
		confFile := filepath.Join(dir, fmt.Sprintf("haproxy-%d.cfg", port))
		if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
			tb.Fatalf("peertest: write haproxy config: %v", err)
		}
		// -db: stay in the foreground, no daemon.
		return []string{bin, "-db", "-f", confFile}
	})
	return &TLSPeer{
		Peer:        &Peer{Name: "haproxy", Version: toolVersion(bin, "-v", `HAProxy version (\S+)`), Addr: addr, URL: "wss://" + addr, proc: p},
		CertPool:    pool,
		Certificate: cert,
	}
}

// NghttpxH2 starts nghttpx (nghttp2's proxy) with an HTTP/2 TLS frontend
// (ALPN h2 and http/1.1) on 127.0.0.1 in front of backendURL, a
// ws://host:port URL. nghttpx accepts WebSockets over HTTP/2 (RFC 8441)
// and over HTTP/1.1, and talks HTTP/1.1 with the Upgrade to the backend.
// The returned URL is wss://127.0.0.1:PORT. It skips the test when nghttpx
// is not installed (Debian: nghttp2-proxy).
func NghttpxH2(tb testing.TB, backendURL string, opts H2ProxyOptions) *TLSPeer {
	tb.Helper()
	bin, ok := lookTool("nghttpx")
	if !ok || hidden("nghttpx") {
		missing(tb, noNghttpx, "nghttpx is not installed (Debian: apt-get install nghttp2-proxy)")
		return nil
	}
	backend := backendAddr(tb, backendURL)
	host, bport, _ := net.SplitHostPort(backend)
	dir := tb.TempDir()
	certFile, keyFile, pool, cert := writeCert(tb, dir)
	p, addr := launch(tb, "nghttpx", dir, false, func(port int) []string {
		argv := []string{bin,
			"--conf=/dev/null", // not /etc/nghttpx/nghttpx.conf
			fmt.Sprintf("--frontend=127.0.0.1,%d", port),
			fmt.Sprintf("--backend=%s,%s;;proto=http/1.1", host, bport),
			"--workers=1",
			"--no-ocsp",
			"--errorlog-file=/dev/stderr",
			"--frontend-read-timeout=1h",
			"--backend-read-timeout=1h",
			"--backend-connections-per-host=20000",
			"--worker-frontend-connections=20000",
			"--pid-file=" + filepath.Join(dir, fmt.Sprintf("nghttpx-%d.pid", port)),
		}
		if opts.MaxStreams > 0 {
			argv = append(argv, fmt.Sprintf("--frontend-http2-max-concurrent-streams=%d", opts.MaxStreams))
		}
		return append(argv, keyFile, certFile)
	})
	return &TLSPeer{
		Peer:        &Peer{Name: "nghttpx", Version: toolVersion(bin, "--version", `nghttp2/(\S+)`), Addr: addr, URL: "wss://" + addr, proc: p},
		CertPool:    pool,
		Certificate: cert,
	}
}

// backendAddr returns the host:port of a ws:// backend URL.
func backendAddr(tb testing.TB, backendURL string) string {
	tb.Helper()
	u, err := url.Parse(backendURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "http") || u.Host == "" {
		tb.Fatalf("peertest: the backend must be a ws://host:port URL, got %q", backendURL)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "80")
	}
	return u.Host
}

// writeCert writes a fresh self-signed certificate and key to dir.
func writeCert(tb testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool, cert *x509.Certificate) {
	tb.Helper()
	certPEM, keyPEM, cert, err := selfSignedCert()
	if err != nil {
		tb.Fatalf("peertest: certificate: %v", err)
	}
	certFile = filepath.Join(dir, "cert.pem")
	keyFile = filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		tb.Fatalf("peertest: %v", err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		tb.Fatalf("peertest: %v", err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool, cert
}

// toolVersion runs bin with arg and extracts a version with re's group.
func toolVersion(bin, arg, re string) string {
	out, _ := exec.Command(bin, arg).CombinedOutput()
	if m := regexp.MustCompile(re).FindSubmatch(out); m != nil {
		return string(m[1])
	}
	return ""
}
