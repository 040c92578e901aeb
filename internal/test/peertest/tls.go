package peertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLSPeer is a TLS-terminating reverse proxy started by TLSProxy.
type TLSPeer struct {
	*Peer
	// CertPool trusts Certificate, and with it the proxy.
	CertPool *x509.CertPool
	// Certificate is the proxy's self-signed certificate, valid for
	// 127.0.0.1, ::1 and localhost.
	Certificate *x509.Certificate
}

// TLSConfig returns a new client configuration that trusts the proxy's
// certificate (RootCAs is CertPool).
func (p *TLSPeer) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: p.CertPool, MinVersion: tls.VersionTLS12}
}

// TLSProxy starts nginx as a reverse proxy that terminates TLS on
// 127.0.0.1 and forwards WebSocket connections (HTTP/1.1 with the Upgrade
// and Connection headers, request path and query kept) to backendURL, a
// ws://host:port URL such as a NodeWS or PythonWS peer's URL. The returned
// URL is wss://127.0.0.1:PORT. It skips the test when nginx is not
// installed.
func TLSProxy(tb testing.TB, backendURL string) *TLSPeer {
	tb.Helper()
	bin, ok := lookTool("nginx")
	if !ok || hidden("nginx") {
		missing(tb, noNginx, "nginx is not installed (Debian: apt-get install nginx)")
		return nil
	}
	u, err := url.Parse(backendURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "http") || u.Host == "" {
		tb.Fatalf("peertest: TLSProxy backend must be a ws://host:port URL, got %q", backendURL)
	}
	backend := u.Host
	if u.Port() == "" {
		backend = net.JoinHostPort(u.Hostname(), "80")
	}

	dir := tb.TempDir()
	certPEM, keyPEM, cert, err := selfSignedCert()
	if err != nil {
		tb.Fatalf("peertest: certificate: %v", err)
	}
	certFile := filepath.Join(dir, "cert.pem")
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		tb.Fatalf("peertest: %v", err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		tb.Fatalf("peertest: %v", err)
	}
	for _, sub := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			tb.Fatalf("peertest: %v", err)
		}
	}

	p, addr := launch(tb, "nginx", dir, false, func(port int) []string {
		user := ""
		if os.Geteuid() == 0 {
			// Workers would switch to "nobody", who cannot enter the
			// private temporary directory.
			user = "user root root;"
		}
		conf := fmt.Sprintf(`%[1]s
worker_processes 1;
pid %[2]s/nginx-%[3]d.pid;
error_log stderr notice;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path %[2]s/tmp/body;
    proxy_temp_path %[2]s/tmp/proxy;
    fastcgi_temp_path %[2]s/tmp/fastcgi;
    uwsgi_temp_path %[2]s/tmp/uwsgi;
    scgi_temp_path %[2]s/tmp/scgi;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    server {
        listen 127.0.0.1:%[3]d ssl;
        server_name localhost 127.0.0.1;
        ssl_certificate %[4]s;
        ssl_certificate_key %[5]s;
        location / {
            proxy_pass http://%[6]s;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_connect_timeout 5s;
            proxy_read_timeout 600s;
            proxy_send_timeout 600s;
        }
    }
}
`, user, dir, port, certFile, keyFile, backend)
		confFile := filepath.Join(dir, fmt.Sprintf("nginx-%d.conf", port))
		if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
			tb.Fatalf("peertest: write nginx config: %v", err)
		}
		// -e stderr: errors before the config is read go to stderr, not
		// to the compiled-in /var/log/nginx/error.log.
		return []string{bin, "-p", dir + "/", "-e", "stderr", "-c", confFile, "-g", "daemon off;"}
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &TLSPeer{
		Peer:        &Peer{Name: "nginx", Addr: addr, URL: "wss://" + addr, proc: p},
		CertPool:    pool,
		Certificate: cert,
	}
}

// selfSignedCert makes an ECDSA P-256 certificate for 127.0.0.1, ::1 and
// localhost, valid from an hour ago for a day.
func selfSignedCert() (certPEM, keyPEM []byte, cert *x509.Certificate, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "wsclient peertest", Organization: []string{"wsclient tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, cert, nil
}
