package peertest

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ToxiproxyModule is the Go module of the toxiproxy server; CI installs its
// server with `go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.5.0`,
// which names the binary "server".
const ToxiproxyModule = "github.com/Shopify/toxiproxy/v2"

// ToxiproxyEnv names an environment variable that may hold the path of the
// toxiproxy server binary; it is tried before the usual places.
const ToxiproxyEnv = "WSCLIENT_TOXIPROXY"

// ToxiproxyServer is a running toxiproxy server (Shopify's fault-injecting
// TCP proxy), driven through its HTTP API. Its Peer's Addr and URL
// (http://127.0.0.1:PORT) are those of the API.
type ToxiproxyServer struct {
	*Peer
	hc *http.Client
}

// ToxicProxy is one proxy of a ToxiproxyServer: it listens on Addr
// (127.0.0.1, a port chosen by the system) and forwards every connection to
// its upstream, through the toxics added to it.
type ToxicProxy struct {
	// Name is the proxy's name in the API.
	Name string
	// Addr is the host:port the proxy listens on.
	Addr string

	srv *ToxiproxyServer
}

// Toxic stream directions: Upstream is client to server, Downstream server
// to client.
const (
	Upstream   = "upstream"
	Downstream = "downstream"
)

// Toxic describes a toxic to add to a proxy: see the constructors
// (ResetPeer, Blackhole, Latency, Bandwidth, Slicer, SlowClose, LimitData)
// for the types this package uses.
type Toxic struct {
	// Name identifies the toxic on its proxy; empty means Type + "_" +
	// Stream, toxiproxy's own default.
	Name string `json:"name"`
	// Type is the toxic's type ("latency", "timeout", ...).
	Type string `json:"type"`
	// Stream is Upstream or Downstream.
	Stream string `json:"stream"`
	// Toxicity is the probability (0..1] that a connection gets the toxic;
	// 0 means 1.
	Toxicity float32 `json:"toxicity"`
	// Attributes are the type's parameters.
	Attributes map[string]any `json:"attributes"`
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// ResetPeer resets (TCP RST) each connection when data next arrives on
// stream, after timeout (0: at once).
func ResetPeer(stream string, timeout time.Duration) Toxic {
	return Toxic{Type: "reset_peer", Stream: stream, Attributes: map[string]any{"timeout": ms(timeout)}}
}

// Blackhole drops all data on stream (toxiproxy's timeout toxic). With
// closeAfter > 0 the connection is closed after that long; with 0 it stays
// open, silent, until the toxic is removed, which closes it (toxiproxy
// v2.5.0); connections opened after the removal pass data again.
func Blackhole(stream string, closeAfter time.Duration) Toxic {
	return Toxic{Type: "timeout", Stream: stream, Attributes: map[string]any{"timeout": ms(closeAfter)}}
}

// Latency delays each chunk of data on stream by latency ± jitter.
func Latency(stream string, latency, jitter time.Duration) Toxic {
	return Toxic{Type: "latency", Stream: stream, Attributes: map[string]any{"latency": ms(latency), "jitter": ms(jitter)}}
}

// Bandwidth limits stream to rateKB kilobytes (1000 bytes) per second.
func Bandwidth(stream string, rateKB int64) Toxic {
	return Toxic{Type: "bandwidth", Stream: stream, Attributes: map[string]any{"rate": rateKB}}
}

// Slicer cuts the data on stream into pieces of averageSize ± variation
// bytes, with delay between them (toxiproxy counts it in microseconds).
func Slicer(stream string, averageSize, variation int, delay time.Duration) Toxic {
	return Toxic{Type: "slicer", Stream: stream, Attributes: map[string]any{
		"average_size": averageSize, "size_variation": variation, "delay": delay.Microseconds(),
	}}
}

// SlowClose delays the close of stream by delay after its other end closed.
func SlowClose(stream string, delay time.Duration) Toxic {
	return Toxic{Type: "slow_close", Stream: stream, Attributes: map[string]any{"delay": ms(delay)}}
}

// LimitData closes each connection once n bytes have passed on stream.
func LimitData(stream string, n int64) Toxic {
	return Toxic{Type: "limit_data", Stream: stream, Attributes: map[string]any{"bytes": n}}
}

var (
	toxiOnce    sync.Once
	toxiPath    string
	toxiVersion string
	toxiProblem string
)

// toxiproxyModuleVersion returns the version of ToxiproxyModule that bin
// was built from, and whether bin is a toxiproxy server at all.
func toxiproxyModuleVersion(bin string) (string, bool) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil || info.Main.Path != ToxiproxyModule {
		return "", false
	}
	return info.Main.Version, true
}

// findToxiproxy finds the toxiproxy server: $WSCLIENT_TOXIPROXY, then
// toxiproxy-server (release binaries, packages) in PATH, then the binary
// `go install .../cmd/server` leaves in $GOBIN or $GOPATH/bin (default
// ~/go/bin), which is only taken when its build information says it is
// toxiproxy.
func findToxiproxy() (path, version, problem string) {
	toxiOnce.Do(func() { toxiPath, toxiVersion, toxiProblem = locateToxiproxy() })
	return toxiPath, toxiVersion, toxiProblem
}

// locateToxiproxy does findToxiproxy's search, afresh.
func locateToxiproxy() (path, version, problem string) {
	var tried []string
	if env := os.Getenv(ToxiproxyEnv); env != "" {
		if st, err := os.Stat(env); err == nil && !st.IsDir() {
			version, _ = toxiproxyModuleVersion(env)
			return env, version, ""
		}
		tried = append(tried, ToxiproxyEnv+"="+env+": not found")
	}
	if p, ok := lookTool("toxiproxy-server"); ok {
		version, _ = toxiproxyModuleVersion(p)
		return p, version, ""
	}
	tried = append(tried, "toxiproxy-server: not in PATH")
	gobin, gopath := goBinDirs()
	var dirs []string
	if gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, d := range filepath.SplitList(gopath) {
		if d != "" {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "server")
		if _, err := os.Stat(p); err != nil {
			tried = append(tried, p+": not found")
			continue
		}
		if v, ok := toxiproxyModuleVersion(p); ok {
			return p, v, ""
		}
		tried = append(tried, p+": not built from "+ToxiproxyModule)
	}
	return "", "", strings.Join(tried, "; ")
}

// goBinDirs returns GOBIN and GOPATH as the go command sees them (which
// includes settings made with go env -w), or from the environment and the
// default ~/go when the go command is not at hand.
func goBinDirs() (gobin, gopath string) {
	if goCmd, ok := lookTool("go"); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, goCmd, "env", "GOBIN", "GOPATH").Output()
		cancel()
		if lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n"); err == nil && len(lines) == 2 {
			return lines[0], lines[1]
		}
	}
	gobin, gopath = os.Getenv("GOBIN"), os.Getenv("GOPATH")
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	return gobin, gopath
}

// Toxiproxy starts a toxiproxy server with its API on 127.0.0.1 and a free
// port, and kills it when the test ends (which also closes its proxies). It
// skips the test when the server binary is not installed (see
// findToxiproxy for where it looks; install it with `go install
// github.com/Shopify/toxiproxy/v2/cmd/server@v2.5.0`). The Peer's Version is
// the module version the binary was built from, when known.
func Toxiproxy(tb testing.TB) *ToxiproxyServer {
	tb.Helper()
	bin, version, problem := findToxiproxy()
	if hidden("toxiproxy") {
		bin, problem = "", "hidden by "+MissingEnv
	}
	if bin == "" {
		missing(tb, noToxiproxy, "toxiproxy server is not installed (go install %s/cmd/server@v2.5.0, or set %s): %s",
			ToxiproxyModule, ToxiproxyEnv, problem)
		return nil
	}
	p, addr := launch(tb, "toxiproxy", tb.TempDir(), false, func(port int) []string {
		return []string{bin, "-host", "127.0.0.1", "-port", fmt.Sprint(port)}
	})
	s := &ToxiproxyServer{
		Peer: &Peer{Name: "toxiproxy", Version: version, Addr: addr, URL: "http://" + addr, proc: p},
		hc:   &http.Client{Timeout: 10 * time.Second},
	}
	// Proxies are closed with the server; idle API connections too.
	tb.Cleanup(s.hc.CloseIdleConnections)
	return s
}

// ToxiproxyError is an error answer of the toxiproxy API.
type ToxiproxyError struct {
	Method, Path string
	Status       int
	Body         string
}

// Error describes the failed request.
func (e *ToxiproxyError) Error() string {
	return fmt.Sprintf("toxiproxy: %s %s: %d %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// call sends a JSON request to the API and decodes a JSON answer into out
// (when not nil).
func (s *ToxiproxyServer) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("toxiproxy: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("toxiproxy: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &ToxiproxyError{Method: method, Path: path, Status: resp.StatusCode, Body: string(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("toxiproxy: %s %s: bad answer %q: %w", method, path, b, err)
		}
	}
	return nil
}

// APIVersion asks the server for its version string ("git" for a binary
// built with go install, whose module version is in Version instead).
func (s *ToxiproxyServer) APIVersion(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/version", nil)
	if err != nil {
		return "", err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("toxiproxy: GET /version: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", &ToxiproxyError{Method: http.MethodGet, Path: "/version", Status: resp.StatusCode, Body: string(b)}
	}
	return strings.TrimSpace(string(b)), nil
}

type proxyJSON struct {
	Name     string `json:"name"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	Enabled  bool   `json:"enabled"`
}

// CreateProxy creates an enabled proxy named name that listens on
// 127.0.0.1 (a free port) and forwards to upstream (host:port).
func (s *ToxiproxyServer) CreateProxy(ctx context.Context, name, upstream string) (*ToxicProxy, error) {
	var out proxyJSON
	in := proxyJSON{Name: name, Listen: "127.0.0.1:0", Upstream: upstream, Enabled: true}
	if err := s.call(ctx, http.MethodPost, "/proxies", in, &out); err != nil {
		return nil, err
	}
	if out.Listen == "" || strings.HasSuffix(out.Listen, ":0") {
		return nil, fmt.Errorf("toxiproxy: proxy %s: no listen address in the answer", name)
	}
	return &ToxicProxy{Name: name, Addr: out.Listen, srv: s}, nil
}

// path returns the API path of the proxy plus suffix.
func (p *ToxicProxy) path(suffix string) string {
	return "/proxies/" + url.PathEscape(p.Name) + suffix
}

// AddToxic adds t to the proxy; it applies to the proxy's open connections
// and to new ones until removed. It returns the toxic's name.
func (p *ToxicProxy) AddToxic(ctx context.Context, t Toxic) (string, error) {
	if t.Name == "" {
		t.Name = t.Type + "_" + t.Stream
	}
	if t.Toxicity == 0 {
		t.Toxicity = 1
	}
	if err := p.srv.call(ctx, http.MethodPost, p.path("/toxics"), t, nil); err != nil {
		return "", err
	}
	return t.Name, nil
}

// RemoveToxic removes the toxic called name.
func (p *ToxicProxy) RemoveToxic(ctx context.Context, name string) error {
	return p.srv.call(ctx, http.MethodDelete, p.path("/toxics/"+url.PathEscape(name)), nil, nil)
}

// SetEnabled enables or disables the proxy. Disabling closes its listener
// and every open connection; enabling listens again on the same address.
func (p *ToxicProxy) SetEnabled(ctx context.Context, enabled bool) error {
	return p.srv.call(ctx, http.MethodPost, p.path(""), map[string]any{"enabled": enabled}, nil)
}

// SetUpstream points the proxy at another upstream (host:port). Toxiproxy
// restarts the proxy for it: open connections are closed, and the proxy
// listens again on the same address.
func (p *ToxicProxy) SetUpstream(ctx context.Context, upstream string) error {
	var out proxyJSON
	if err := p.srv.call(ctx, http.MethodPost, p.path(""), map[string]any{"upstream": upstream}, &out); err != nil {
		return err
	}
	if out.Listen != p.Addr {
		return fmt.Errorf("toxiproxy: proxy %s moved from %s to %s", p.Name, p.Addr, out.Listen)
	}
	if !out.Enabled {
		return errors.New("toxiproxy: proxy " + p.Name + " did not restart after the upstream change")
	}
	return nil
}

// Delete removes the proxy, closing its listener and connections.
func (p *ToxicProxy) Delete(ctx context.Context) error {
	return p.srv.call(ctx, http.MethodDelete, p.path(""), nil, nil)
}
