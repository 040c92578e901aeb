package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// newCA returns a self-signed CA certificate and key.
func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// writePEM writes a certificate and its key as PEM files.
func writePEM(t *testing.T, cert *x509.Certificate, key *ecdsa.PrivateKey) (certPath, keyPath string) {
	t.Helper()
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// mtlsFront terminates TLS, requiring a client certificate signed by
// clientCA, in front of the plain ws:// server backend, and records the
// common names of the client certificates it saw.
type mtlsFront struct {
	url string
	mu  sync.Mutex
	cns []string
}

func startMTLSFront(t *testing.T, backend string, serverCert *x509.Certificate, serverKey *ecdsa.PrivateKey, clientCA *x509.Certificate) *mtlsFront {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(clientCA)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{serverCert.Raw}, PrivateKey: serverKey}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &mtlsFront{url: "wss://" + ln.Addr().String()}
	var wg sync.WaitGroup
	var cmu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for _, c := range open {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cmu.Lock()
			open = append(open, c)
			cmu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				tc := c.(*tls.Conn)
				tc.SetDeadline(time.Now().Add(10 * time.Second))
				if err := tc.Handshake(); err != nil {
					return
				}
				if pc := tc.ConnectionState().PeerCertificates; len(pc) > 0 {
					f.mu.Lock()
					f.cns = append(f.cns, pc[0].Subject.CommonName)
					f.mu.Unlock()
				}
				b, err := net.Dial("tcp", strings.TrimPrefix(backend, "ws://"))
				if err != nil {
					return
				}
				cmu.Lock()
				open = append(open, b)
				cmu.Unlock()
				defer b.Close()
				done := make(chan struct{})
				go func() { io.Copy(b, tc); b.(*net.TCPConn).CloseWrite(); close(done) }()
				io.Copy(tc, b)
				tc.CloseWrite()
				<-done
			}()
		}
	}()
	return f
}

func TestClientCertificate(t *testing.T) {
	backend := wstest.NewEchoServer(wstest.WithT(t))
	serverCA, serverKey := newCA(t, "server")
	clientCert, clientKey := newCA(t, "the-client")
	front := startMTLSFront(t, backend.URL, serverCA, serverKey, clientCert)
	caPath, _ := writePEM(t, serverCA, serverKey)
	certPath, keyPath := writePEM(t, clientCert, clientKey)

	r := runBin(t, "mutual\n", "--cacert", caPath, "--cert", certPath, "--key", keyPath, "--wait", "300ms", front.url)
	r.wantCode(t, exitOK)
	if r.stdout != "mutual\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	front.mu.Lock()
	cns := strings.Join(front.cns, ",")
	front.mu.Unlock()
	if cns != "the-client" {
		t.Errorf("server saw client certificates %q", cns)
	}

	// Without the certificate the server refuses the TLS handshake. The
	// client learns it during the handshake (TLS 1.2) or on its first
	// read (TLS 1.3); either way not with a clean close.
	r = runBin(t, "mutual\n", "--cacert", caPath, "--wait", "300ms", front.url)
	t.Logf("without --cert: exit %d: %s", r.code, r.stderr)
	if r.code != exitTLS && r.code != exitHandshake && r.code != exitLost {
		t.Errorf("without --cert: exit %d\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("without --cert: stdout %q", r.stdout)
	}

	// A key that does not match the certificate is a usage error.
	_, otherKey := writePEM(t, serverCA, serverKey)
	r = runBin(t, "", "--cacert", caPath, "--cert", certPath, "--key", otherKey, front.url)
	r.wantCode(t, exitUsage)
	if !strings.Contains(r.stderr, "--cert/--key") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
