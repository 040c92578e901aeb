package peertest

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ProxyOptions configure Tinyproxy and Microsocks.
type ProxyOptions struct {
	// User and Password, when User is not empty, make the proxy require
	// these credentials (Basic Proxy-Authorization for tinyproxy, RFC 1929
	// username/password for microsocks). The returned URL carries them.
	User, Password string
}

func proxyURL(scheme, addr string, opts ProxyOptions) string {
	u := url.URL{Scheme: scheme, Host: addr}
	if opts.User != "" {
		u.User = url.UserPassword(opts.User, opts.Password)
	}
	return u.String()
}

// Tinyproxy starts tinyproxy as an HTTP proxy that allows CONNECT to any
// port on any host, for clients on 127.0.0.1, and returns it with URL
// http://[user:pass@]127.0.0.1:PORT. Its configuration is written to a
// temporary directory. It skips the test when tinyproxy is not installed.
func Tinyproxy(tb testing.TB, opts ProxyOptions) *Peer {
	tb.Helper()
	bin, ok := lookTool("tinyproxy")
	if !ok || hidden("tinyproxy") {
		missing(tb, noTinyproxy, "tinyproxy is not installed (Debian: apt-get install tinyproxy)")
		return nil
	}
	if strings.ContainsAny(opts.User+opts.Password, " \t\r\n\"#") {
		tb.Fatalf("peertest: tinyproxy credentials must not contain spaces, quotes or #")
	}
	dir := tb.TempDir()
	p, addr := launch(tb, "tinyproxy", dir, false, func(port int) []string {
		// No ConnectPort line: tinyproxy then allows CONNECT to every port
		// (the packaged config limits it to 443 and 563). No User/Group:
		// it runs as the current user (it warns about that as root).
		conf := fmt.Sprintf(`Port %d
Listen 127.0.0.1
Timeout 60
Allow 127.0.0.1
MaxClients 100
LogLevel Info
DisableViaHeader Yes
`, port)
		if opts.User != "" {
			conf += fmt.Sprintf("BasicAuth %s %s\n", opts.User, opts.Password)
		}
		path := filepath.Join(dir, fmt.Sprintf("tinyproxy-%d.conf", port))
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			tb.Fatalf("peertest: write tinyproxy config: %v", err)
		}
		// -d: stay in the foreground, log to stderr.
		return []string{bin, "-d", "-c", path}
	})
	return &Peer{Name: "tinyproxy", Addr: addr, URL: proxyURL("http", addr, opts), proc: p}
}

// Microsocks starts microsocks as a SOCKS5 proxy on 127.0.0.1 and returns it
// with URL socks5://[user:pass@]127.0.0.1:PORT. It skips the test when
// microsocks is not installed.
func Microsocks(tb testing.TB, opts ProxyOptions) *Peer {
	tb.Helper()
	bin, ok := lookTool("microsocks")
	if !ok || hidden("microsocks") {
		missing(tb, noMicrosocks, "microsocks is not installed (Debian: apt-get install microsocks)")
		return nil
	}
	p, addr := launch(tb, "microsocks", tb.TempDir(), false, func(port int) []string {
		argv := []string{bin, "-i", "127.0.0.1", "-p", fmt.Sprint(port)}
		if opts.User != "" {
			argv = append(argv, "-u", opts.User, "-P", opts.Password)
		}
		return argv
	})
	return &Peer{Name: "microsocks", Addr: addr, URL: proxyURL("socks5", addr, opts), proc: p}
}
