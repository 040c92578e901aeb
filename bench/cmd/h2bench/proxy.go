package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proxy is a running HAProxy or nghttpx with an HTTP/2 TLS frontend.
type proxy struct {
	name    string
	version string
	addr    string
	cmd     *exec.Cmd
	certPEM []byte
}

// startProxy starts name ("haproxy" or "nghttpx") on a free 127.0.0.1 port
// in front of backend (ws://host:port), with a fresh self-signed
// certificate and its configuration in dir. Both advertise up to
// maxStreams concurrent streams per HTTP/2 connection.
func startProxy(name, dir, backend string, maxStreams int) (*proxy, error) {
	bu, err := url.Parse(backend)
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := selfSigned()
	if err != nil {
		return nil, err
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var argv []string
	var version string
	switch name {
	case "haproxy":
		bin, err := look("haproxy")
		if err != nil {
			return nil, err
		}
		pemFile := filepath.Join(dir, "haproxy.pem")
		if err := os.WriteFile(pemFile, append(certPEM, keyPEM...), 0o600); err != nil {
			return nil, err
		}
		conf := fmt.Sprintf(`global
    nbthread 1
    maxconn 4000
    tune.h2.max-concurrent-streams %d
defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout tunnel 1h
frontend fe
    bind %s ssl crt %s alpn h2,http/1.1
    default_backend be
backend be
    server ws %s maxconn 4000
`, maxStreams, addr, pemFile, bu.Host)
		cfg := filepath.Join(dir, "haproxy.cfg")
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		argv = []string{bin, "-db", "-f", cfg}
		version = toolVersion(bin, "-v", "HAProxy version ")
	case "nghttpx":
		bin, err := look("nghttpx")
		if err != nil {
			return nil, err
		}
		h, p, _ := net.SplitHostPort(bu.Host)
		argv = []string{bin, "--conf=/dev/null", "--frontend=127.0.0.1," + strconv.Itoa(port),
			"--backend=" + h + "," + p + ";;proto=http/1.1", "--workers=1", "--no-ocsp",
			"--errorlog-file=/dev/stderr", "--frontend-read-timeout=1h", "--backend-read-timeout=1h",
			"--backend-connections-per-host=10000", "--worker-frontend-connections=10000",
			fmt.Sprintf("--frontend-http2-max-concurrent-streams=%d", maxStreams),
			"--pid-file=" + filepath.Join(dir, "nghttpx.pid"), keyFile, certFile}
		version = toolVersion(bin, "--version", "nghttpx nghttp2/")
	default:
		return nil, fmt.Errorf("unknown proxy %q: want haproxy or nghttpx", name)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	px := &proxy{name: name, version: version, addr: addr, cmd: cmd, certPEM: certPEM}
	for deadline := time.Now().Add(15 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return px, nil
		}
		if time.Now().After(deadline) {
			px.stop()
			return nil, fmt.Errorf("%s did not listen on %s: %v", name, addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills the proxy's process group.
func (p *proxy) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// procUsage returns the resident memory (bytes) and open file descriptors
// of process pid and its children (nghttpx runs a worker under its master).
func procUsage(pid int) (rss int64, fds int) {
	pids := []int{pid}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
	}
	for _, p := range pids {
		rss += procRSS(p)
		fds += countFDs(fmt.Sprintf("/proc/%d/fd", p))
	}
	return rss, fds
}

// procRSS returns VmRSS of pid in bytes.
func procRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// countFDs counts the entries of a /proc/PID/fd directory.
func countFDs(dir string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	return len(ents)
}

func look(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		if p := filepath.Join(d, name); fileExists(p) {
			return p, nil
		}
	}
	return "", errors.New(name + " is not installed (Debian: haproxy, nghttp2-proxy)")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func toolVersion(bin, arg, prefix string) string {
	out, _ := exec.Command(bin, arg).CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, prefix); i >= 0 {
			if f := strings.Fields(line[i+len(prefix):]); len(f) > 0 {
				return f[0]
			}
		}
	}
	return "?"
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// selfSigned makes an ECDSA certificate for 127.0.0.1, valid for a day.
func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "h2bench"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), nil
}
