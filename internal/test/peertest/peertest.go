// Package peertest starts real third-party WebSocket servers and proxies on
// 127.0.0.1 for wsclient's interoperability tests.
//
// Every starter takes a testing.TB, waits until the peer listens, registers a
// cleanup that kills the peer's whole process group (bounded in time), and
// returns a *Peer with its address and URL. When the peer's program or
// package is not installed the test is skipped with a message that says what
// to install; with WSCLIENT_REQUIRE_PEERS=1 in the environment (as in CI) it
// fails instead. Report, called from TestMain, sums the skips up where plain
// `go test ./...` shows them. When a test fails, the peer's output is
// written to the test log.
//
// Peers:
//   - NodeWS: an echo server on the npm package ws (testdata/peers/node,
//     installed with `npm ci` there).
//   - PythonWS: an echo server on Python websockets (Debian
//     python3-websockets).
//   - Tinyproxy: an HTTP CONNECT proxy (Debian tinyproxy).
//   - Microsocks: a SOCKS5 proxy (Debian microsocks).
//   - TLSProxy: nginx terminating TLS in front of a ws:// backend, with a
//     certificate generated for the test.
//
// The two WebSocket servers serve several behaviours from one process,
// chosen by the request path (see NodeWS for the list), and report what
// they saw as Events.
package peertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing peer from a
// skip into a test failure when set to "1".
const RequireEnv = "WSCLIENT_REQUIRE_PEERS"

// StartTimeout bounds how long a starter waits for a peer to listen.
const StartTimeout = 10 * time.Second

// stopTimeout bounds each step (SIGTERM, then SIGKILL) of stopping a peer.
const stopTimeout = 2 * time.Second

// Peer is a running third-party peer process.
type Peer struct {
	// Name says which peer this is: "node-ws", "python-websockets",
	// "tinyproxy", "microsocks" or "nginx".
	Name string
	// Version is the version of the peer's WebSocket library where known
	// (ws for NodeWS, websockets for PythonWS), else empty.
	Version string
	// Addr is the host:port the peer listens on (always 127.0.0.1).
	Addr string
	// URL is the peer's base URL without a trailing slash:
	// ws://127.0.0.1:PORT for the WebSocket servers, wss://127.0.0.1:PORT
	// for TLSProxy, http://[user:pass@]127.0.0.1:PORT for Tinyproxy and
	// socks5://[user:pass@]127.0.0.1:PORT for Microsocks.
	URL string

	proc *process
}

// Output returns everything the peer has written to stdout and stderr so far.
func (p *Peer) Output() string { return p.proc.output() }

// Events returns a copy of the events the peer has reported so far, in order.
// Only the WebSocket servers report events.
func (p *Peer) Events() []Event { return p.proc.eventsCopy() }

// WaitEvent waits up to timeout for an event, already reported or still to
// come, for which match returns true, and returns the first one. It returns
// false if none arrived in time or the peer exited without one.
func (p *Peer) WaitEvent(timeout time.Duration, match func(Event) bool) (Event, bool) {
	return p.proc.waitEvent(timeout, match)
}

// Kill stops the peer now (SIGKILL to its process group) and waits, bounded,
// for it to exit. It is safe to call more than once; the cleanup calls it too.
func (p *Peer) Kill() { p.proc.stop(false) }

// Event is one thing a WebSocket server peer reports on a connection.
type Event struct {
	// Kind is "connect", "message", "ping", "pong", "close" or "error".
	// NodeWS reports all of them; PythonWS reports no "ping".
	Kind string `json:"event"`
	// URL is the request target of the connection (path and query).
	URL string `json:"url"`
	// Protocol and Extensions are the negotiated subprotocol and
	// Sec-WebSocket-Extensions value ("connect").
	Protocol   string `json:"protocol"`
	Extensions string `json:"extensions"`
	// Binary and Size describe a message the server received ("message";
	// Size in bytes after decompression).
	Binary bool `json:"binary"`
	Size   int  `json:"size"`
	// Data is the payload of a ping or pong the server received.
	Data string `json:"data"`
	// Code and Reason are the close code and reason the server received
	// from the client ("close"; 1005 when the close frame had no code,
	// 1006 when there was no close frame).
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	// Error describes an error on the connection ("error").
	Error string `json:"error"`
}

// missing skips the test, or fails it when RequireEnv is "1". A skip is
// counted for the package's skip summary (see Report) and keeps go test from
// caching the package's result.
func missing(tb testing.TB, a absence, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("peertest: %s (%s=1, so a missing peer is an error)", msg, RequireEnv)
		return
	}
	skips.add(a, tb.Name())
	uncacheable()
	tb.Skipf("peertest: %s; skipping (set %s=1 to fail instead; see docs/peers.md)", msg, RequireEnv)
}

// lookTool finds an executable in PATH or in the usual system directories
// (root's PATH may lack /usr/sbin on some machines).
func lookTool(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

var (
	rootOnce sync.Once
	rootDir  string
)

// peersDir returns the repository's testdata/peers directory, or "".
func peersDir() string {
	rootOnce.Do(func() {
		var candidates []string
		if _, file, _, ok := runtime.Caller(0); ok {
			candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", ".."))
		}
		if wd, err := os.Getwd(); err == nil {
			for dir := wd; ; dir = filepath.Dir(dir) {
				candidates = append(candidates, dir)
				if filepath.Dir(dir) == dir {
					break
				}
			}
		}
		for _, c := range candidates {
			p := filepath.Join(c, "testdata", "peers")
			if st, err := os.Stat(filepath.Join(p, "node", "server.js")); err == nil && !st.IsDir() {
				rootDir = filepath.Clean(p)
				return
			}
		}
	})
	return rootDir
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// process is a started peer process with its captured output.
type process struct {
	name string
	cmd  *exec.Cmd

	mu     sync.Mutex
	log    bytes.Buffer
	events []Event
	port   int
	notify chan struct{} // closed and replaced whenever something arrives

	exited  chan struct{}
	waitErr error

	stopOnce sync.Once
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *process) eventsCopy() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// changed must be called with p.mu held.
func (p *process) changed() {
	close(p.notify)
	p.notify = make(chan struct{})
}

// lineWriter splits a stream into lines and hands each to fn.
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	fn  func(line string)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		w.fn(line)
	}
	if len(w.buf) > 64<<10 { // a very long line without newline: flush it
		w.fn(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(b), nil
}

func (p *process) stdoutLine(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log.WriteString(line)
	p.log.WriteByte('\n')
	if rest, ok := strings.CutPrefix(line, "LISTENING "); ok && p.port == 0 {
		if n, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil {
			p.port = n
		}
	} else if strings.HasPrefix(line, "{") {
		var ev Event
		if err := json.Unmarshal([]byte(line), &ev); err == nil && ev.Kind != "" {
			p.events = append(p.events, ev)
		}
	}
	p.changed()
}

func (p *process) stderrLine(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log.WriteString(line)
	p.log.WriteByte('\n')
}

// startProcess starts argv in its own process group with captured output.
func startProcess(name, dir string, argv []string) (*process, error) {
	p := &process{name: name, notify: make(chan struct{}), exited: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdin = nil
	cmd.Stdout = &lineWriter{fn: p.stdoutLine}
	cmd.Stderr = &lineWriter{fn: p.stderrLine}
	cmd.SysProcAttr = procAttr()
	cmd.WaitDelay = stopTimeout
	p.cmd = cmd
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.exited)
	}()
	return p, nil
}

// stop ends the process group: SIGTERM first when graceful, then SIGKILL,
// each step bounded by stopTimeout.
func (p *process) stop(graceful bool) {
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		if graceful {
			terminateGroup(pgid)
			select {
			case <-p.exited:
			case <-time.After(stopTimeout):
			}
		}
		// Also reaches children left behind by a leader that already exited.
		killGroup(pgid, p.cmd.Process)
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
		}
	})
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *process) exitStatus() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waitErr == nil {
		return "exit status 0"
	}
	return p.waitErr.Error()
}

func (p *process) waitEvent(timeout time.Duration, match func(Event) bool) (Event, bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	seen := 0
	for {
		p.mu.Lock()
		for ; seen < len(p.events); seen++ {
			if match(p.events[seen]) {
				ev := p.events[seen]
				p.mu.Unlock()
				return ev, true
			}
		}
		ch := p.notify
		p.mu.Unlock()
		select {
		case <-ch:
		case <-p.exited:
			// Output may have been delivered just before exit: scan once more.
			p.mu.Lock()
			defer p.mu.Unlock()
			for ; seen < len(p.events); seen++ {
				if match(p.events[seen]) {
					return p.events[seen], true
				}
			}
			return Event{}, false
		case <-timer.C:
			return Event{}, false
		}
	}
}

// waitPrintedPort waits for the "LISTENING <port>" line.
func (p *process) waitPrintedPort(timeout time.Duration) (int, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		p.mu.Lock()
		port, ch := p.port, p.notify
		p.mu.Unlock()
		if port != 0 {
			return port, nil
		}
		select {
		case <-ch:
		case <-p.exited:
			p.mu.Lock()
			port = p.port
			p.mu.Unlock()
			if port != 0 {
				return 0, fmt.Errorf("%s printed port %d but exited (%s)", p.name, port, p.exitStatus())
			}
			return 0, fmt.Errorf("%s exited before listening (%s)", p.name, p.exitStatus())
		case <-timer.C:
			return 0, fmt.Errorf("%s did not report a listening port within %v", p.name, timeout)
		}
	}
}

// waitDial waits until addr accepts a TCP connection.
func (p *process) waitDial(addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var d net.Dialer
	for {
		if p.hasExited() {
			return fmt.Errorf("%s exited before listening on %s (%s)", p.name, addr, p.exitStatus())
		}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not listen on %s within %v: %v", p.name, addr, timeout, err)
		case <-p.exited:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// errEarlyExit marks a start that failed because the process exited, which
// a fixed-port peer retries with another port.
var errEarlyExit = errors.New("peer exited during start")

// launch starts a peer and registers its cleanup. argvFor builds the command
// for a chosen port (0 when the peer prints its own port). It retries a few
// times when a fixed-port peer exits during start (the port may have been
// taken in the meantime).
func launch(tb testing.TB, name, dir string, printsPort bool, argvFor func(port int) []string) (*process, string) {
	tb.Helper()
	const attempts = 3
	var lastErr error
	var lastOut string
	for range attempts {
		port := 0
		if !printsPort {
			var err error
			if port, err = freePort(); err != nil {
				tb.Fatalf("peertest: %s: no free port: %v", name, err)
			}
		}
		argv := argvFor(port)
		p, err := startProcess(name, dir, argv)
		if err != nil {
			tb.Fatalf("peertest: start %s (%s): %v", name, strings.Join(argv, " "), err)
		}
		if printsPort {
			port, err = p.waitPrintedPort(StartTimeout)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err == nil {
			err = p.waitDial(addr, StartTimeout)
		}
		if err == nil {
			tb.Cleanup(func() {
				p.stop(true)
				if tb.Failed() {
					tb.Logf("peertest: output of %s (%s):\n%s", name, strings.Join(argv, " "), p.output())
				}
			})
			return p, addr
		}
		exited := p.hasExited()
		p.stop(false)
		lastErr, lastOut = err, p.output()
		if printsPort || !exited {
			break
		}
		lastErr = fmt.Errorf("%w: %v", errEarlyExit, err)
	}
	tb.Fatalf("peertest: %s did not start: %v\noutput:\n%s", name, lastErr, lastOut)
	return nil, ""
}

// readJSONField returns a string field of a small JSON file, or "".
func readJSONField(path, field string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	s, _ := m[field].(string)
	return s
}
