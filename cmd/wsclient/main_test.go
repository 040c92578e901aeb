package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/test/peertest"
	"github.com/wsclient/wsclient/wstest"
	"go.uber.org/goleak"
)

// binPath is the wsclient binary built once for all tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsclient-cmd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "wsclient")
	args := []string{"build", "-o", binPath}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wsclient:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	if code == 0 {
		// No test may leave a goroutine running (the binary's runs are
		// processes, waited for by their tests).
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.RemoveAll(dir)
	peertest.Report(code) // the tests skipped for a missing peer, visibly without -v
	os.Exit(code)
}

// result is what a finished run of the binary produced.
type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// runBin runs the binary with stdin and args, killing it after 20 seconds.
func runBin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running wsclient %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("wsclient %q did not finish in time; stdout:\n%s\nstderr:\n%s", args, r.stdout, r.stderr)
	}
	return r
}

func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// jsonEvents parses stdout as JSON lines.
func jsonEvents(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for line := range strings.SplitSeq(strings.TrimSuffix(stdout, "\n"), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q is not JSON: %v\nstdout:\n%s", line, err, stdout)
		}
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(ev["time"])); err != nil {
			t.Errorf("event %v: bad time: %v", ev, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func eventNames(evs []map[string]any) []string {
	var names []string
	for _, ev := range evs {
		names = append(names, fmt.Sprint(ev["event"]))
	}
	return names
}

// clientFrames returns the data and close frames the client sent on a
// server's first connection.
func clientFrames(t *testing.T, srv *wstest.Server) []wstest.Frame {
	t.Helper()
	conns := srv.Conns()
	if len(conns) == 0 {
		t.Fatal("the server saw no connection")
	}
	select {
	case <-conns[0].Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the server's connection did not end")
	}
	var out []wstest.Frame
	for _, f := range conns[0].Frames() {
		if f.Opcode != wstest.OpPing && f.Opcode != wstest.OpPong {
			out = append(out, f)
		}
	}
	return out
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--no-such-flag", "ws://127.0.0.1:1"},
		{"ftp://127.0.0.1:1"},
		{"frobnicate"},
		{"-H", "Sec-WebSocket-Key: x", "ws://127.0.0.1:1"},
		{"-H", "Sec-WebSocket-Protocol: chat", "ws://127.0.0.1:1"},
		{"--keepalive", "soon", "ws://127.0.0.1:1"},
		{"--timeout", "0", "ws://127.0.0.1:1"},
		{"--proxy", "ftp://127.0.0.1:1", "ws://127.0.0.1:1"},
		{"demo", "--url", "ftp://127.0.0.1:1"},
		{"demo", "--url", "ws://"},
		{"ws://127.0.0.1:1", "ws://127.0.0.1:2"},
		{"--cert", "c.pem", "ws://127.0.0.1:1"},
		{"--cacert", "/does/not/exist.pem", "wss://127.0.0.1:1"},
		{"--wait", "soon", "ws://127.0.0.1:1"},
		{"--max-message-size", "lots", "ws://127.0.0.1:1"},
		{"-H", "no colon", "ws://127.0.0.1:1"},
		{"serve", "--port", "1"},
		{"serve", "extra"},
		{"frobnicate", "now"},
		{"help", "frobnicate"},
		{"demo", "--delay", "-1s"},
	} {
		r := runBin(t, "", args...)
		r.wantCode(t, exitUsage)
		if !strings.Contains(r.stderr, "wsclient --help") {
			t.Errorf("%q: stderr lacks the pointer to --help:\n%s", args, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%q: unexpected stdout %q", args, r.stdout)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"ws://x", "--help"}} {
		r := runBin(t, "", args...)
		r.wantCode(t, exitOK)
		for _, want := range []string{"Usage:", "Examples:", "Exit codes:", "wsclient demo", "wsclient serve", "--json"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%q: help lacks %q", args, want)
			}
		}
	}
	r := runBin(t, "", "help", "demo")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "--delay") {
		t.Errorf("demo help:\n%s", r.stdout)
	}
	r = runBin(t, "", "serve", "--help")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "--addr") || !strings.Contains(r.stdout, "--tls") {
		t.Errorf("serve help:\n%s", r.stdout)
	}
}

// TestHelpListsEveryFlag keeps the hand-written help in step with the flags.
func TestHelpListsEveryFlag(t *testing.T) {
	clientFlagSet(&clientOptions{}).VisitAll(func(f *flagT) {
		prefix := "--"
		if len(f.Name) == 1 {
			prefix = "-"
		}
		if !strings.Contains(mainHelp, prefix+f.Name+" ") && !strings.Contains(mainHelp, prefix+f.Name+",") {
			t.Errorf("help does not list %s%s", prefix, f.Name)
		}
	})
	for _, name := range []string{"addr", "tls", "cacert-out", "compress"} {
		if !strings.Contains(serveHelp, "--"+name+" ") {
			t.Errorf("serve help does not list --%s", name)
		}
	}
	for _, name := range []string{"delay", "url"} {
		if !strings.Contains(demoHelp, "--"+name+" ") {
			t.Errorf("demo help does not list --%s", name)
		}
	}
	for code := exitOK; code <= exitAbnormalClose; code++ {
		if !strings.Contains(mainHelp, fmt.Sprintf("\n  %d  ", code)) {
			t.Errorf("help does not document exit code %d", code)
		}
	}
}

func TestPipedEcho(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	r := runBin(t, "a\nb\n", "--wait", "500ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "a\nb\n" {
		t.Errorf("stdout %q, want the two echoes", r.stdout)
	}
	if !strings.Contains(r.stderr, "connected to "+srv.URL) {
		t.Errorf("stderr lacks the connect status:\n%s", r.stderr)
	}
	fr := clientFrames(t, srv)
	if len(fr) != 3 || string(fr[0].Payload) != "a" || string(fr[1].Payload) != "b" ||
		fr[0].Opcode != wstest.OpText || fr[2].Opcode != wstest.OpClose {
		t.Fatalf("server got frames %+v, want text a, text b, close", fr)
	}
	if code := int(fr[2].Payload[0])<<8 | int(fr[2].Payload[1]); code != 1000 {
		t.Errorf("close code %d, want 1000", code)
	}
}

func TestLastLineWithoutNewline(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	r := runBin(t, "one\r\ntwo\n\nthree", "--wait", "300ms", "-q", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "one\ntwo\n\nthree\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("-q but stderr %q", r.stderr)
	}
}

// TestLongLineNotSent: a stdin line longer than --max-message-size is not
// sent (nor held in memory), an error names it, and the lines around it go.
func TestLongLineNotSent(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	long := strings.Repeat("x", 200<<10) // several reader buffers long
	r := runBin(t, "a\n"+long+"\nb\n", "--max-message-size", "100KiB", "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "a\nb\n" {
		t.Errorf("stdout %q, want the echoes of the short lines only", r.stdout)
	}
	if !strings.Contains(r.stderr, "line 2 (204801 bytes) is longer than --max-message-size and was not sent") {
		t.Errorf("stderr lacks the too-long line error:\n%s", r.stderr)
	}
}

func TestBinaryEncodings(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	r := runBin(t, "hi\n", "--binary", "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "6869\n" {
		t.Errorf("hex stdout %q", r.stdout)
	}
	r = runBin(t, "hi\n", "--binary", "--base64", "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "aGk=\n" {
		t.Errorf("base64 stdout %q", r.stdout)
	}
	for _, c := range srv.Conns() {
		for _, f := range c.Frames() {
			if f.Opcode == wstest.OpText {
				t.Errorf("--binary sent a text frame %q", f.Payload)
			}
		}
	}
}

func TestJSONEvents(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if err := c.WriteFrame(true, 0, wstest.OpPing, []byte("pp")); err != nil {
			return err
		}
		if err := c.WriteMessage(wstest.OpText, []byte(`hello "json"`)); err != nil {
			return err
		}
		if err := c.WriteMessage(wstest.OpBinary, []byte{0, 1, 0xff}); err != nil {
			return err
		}
		// Wait for the pong so that the order of events is fixed.
		for {
			op, p, err := c.ReadMessage()
			if err != nil {
				return err
			}
			if op == wstest.OpPong && string(p) == "pp" {
				break
			}
		}
		if err := c.Close(1000, "bye"); err != nil {
			return err
		}
		_, _, err := c.ExpectClose()
		return err
	}, wstest.WithT(t), wstest.WithSubprotocols("v2"))
	r := runBin(t, "", "--json", "--show-ping-pong", "--subprotocol", "v1,v2", "--wait", "-1", srv.URL)
	r.wantCode(t, exitOK)
	evs := jsonEvents(t, r.stdout)
	names := strings.Join(eventNames(evs), " ")
	if names != "connect ping message message close" {
		t.Fatalf("events %q\nstdout:\n%s", names, r.stdout)
	}
	if evs[0]["url"] != srv.URL || evs[0]["subprotocol"] != "v2" {
		t.Errorf("connect event %v", evs[0])
	}
	if evs[1]["data"] != "pp" || evs[1]["encoding"] != nil {
		t.Errorf("ping event %v", evs[1])
	}
	if evs[2]["type"] != "text" || evs[2]["data"] != `hello "json"` || evs[2]["size"] != 12.0 {
		t.Errorf("text message event %v", evs[2])
	}
	if evs[3]["type"] != "binary" || evs[3]["data"] != "0001ff" || evs[3]["encoding"] != "hex" {
		t.Errorf("binary message event %v", evs[3])
	}
	if evs[4]["code"] != 1000.0 || evs[4]["reason"] != "bye" || evs[4]["by"] != "server" {
		t.Errorf("close event %v", evs[4])
	}
}

func TestRequestOptions(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		req := c.Request()
		info := fmt.Sprintf("origin=%s x=%q auth=%s proto=%s offered=%q",
			req.Header.Get("Origin"), req.Header.Values("X-Test"), req.Header.Get("Authorization"),
			c.Subprotocol(), req.Header.Values("Sec-Websocket-Protocol"))
		if err := c.WriteMessage(wstest.OpText, []byte(info)); err != nil {
			return err
		}
		return c.Echo()
	}, wstest.WithT(t), wstest.WithSubprotocols("b"))
	r := runBin(t, "", "-H", "X-Test: 1", "--header", "x-test:2", "-H", "Authorization: Bearer tok",
		"--origin", "http://o.example", "--subprotocol", "a", "--subprotocol", "b,c", "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	want := `origin=http://o.example x=["1" "2"] auth=Bearer tok proto=b offered=["a, b, c"]`
	if strings.TrimSpace(r.stdout) != want {
		t.Errorf("server saw\n%s\nwant\n%s", r.stdout, want)
	}
	if !strings.Contains(r.stderr, "subprotocol b") {
		t.Errorf("stderr lacks the negotiated subprotocol:\n%s", r.stderr)
	}
}

func TestHandshakeRefused(t *testing.T) {
	srv := wstest.NewServer(nil, wstest.WithT(t), wstest.WithStatus(403, "no entry for you\n"))
	r := runBin(t, "a\n", srv.URL)
	r.wantCode(t, exitHandshake)
	if !strings.Contains(r.stderr, "403 Forbidden") || !strings.Contains(r.stderr, "no entry for you") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestCannotConnect(t *testing.T) {
	// A port that was free a moment ago: connection refused.
	srv := wstest.NewEchoServer()
	url := srv.URL
	srv.Close()
	r := runBin(t, "", url)
	r.wantCode(t, exitConnect)
	if !strings.Contains(r.stderr, "cannot connect") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestConnectionLost(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if _, _, err := c.ReadMessage(); err != nil {
			return err
		}
		return c.Drop()
	}, wstest.WithT(t))
	r := runBin(t, "x\n", "--wait", "-1", srv.URL)
	r.wantCode(t, exitLost)
	if !strings.Contains(r.stderr, "connection lost") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestAbnormalClose(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if err := c.Close(1008, "policy"); err != nil {
			return err
		}
		_, _, err := c.ExpectClose()
		return err
	}, wstest.WithT(t))
	r := runBin(t, "", "--wait", "-1", srv.URL)
	r.wantCode(t, exitAbnormalClose)
	if !strings.Contains(r.stderr, "1008") || !strings.Contains(r.stderr, "policy") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestMaxMessageSize(t *testing.T) {
	closed := make(chan int, 1)
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if err := c.WriteMessage(wstest.OpText, bytes.Repeat([]byte("x"), 2000)); err != nil {
			return err
		}
		code, _, err := c.ExpectClose()
		closed <- code
		return err
	}, wstest.WithT(t))
	r := runBin(t, "", "--max-message-size", "1KiB", "--wait", "-1", srv.URL)
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "too big") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	select {
	case code := <-closed:
		if code != 1009 {
			t.Errorf("client closed with %d, want 1009", code)
		}
	case <-time.After(5 * time.Second):
		t.Error("no close frame from the client")
	}
}

func TestKeepaliveTimeout(t *testing.T) {
	pings := make(chan struct{}, 16)
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		// Never answer: no pong, no data.
		for {
			op, _, err := c.ReadMessage()
			if err != nil {
				return nil
			}
			if op == wstest.OpPing {
				pings <- struct{}{}
			}
		}
	}, wstest.WithT(t))
	r := runBin(t, "", "--keepalive", "100ms", "--wait", "-1", srv.URL)
	r.wantCode(t, exitLost)
	if !strings.Contains(r.stderr, "keepalive") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if len(pings) < 2 {
		t.Errorf("server saw %d pings", len(pings))
	}
	if r.elapsed > 5*time.Second {
		t.Errorf("took %v to detect the dead connection", r.elapsed)
	}
}

func TestKeepaliveAnswered(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	r := runBin(t, "", "--keepalive", "50ms", "--show-ping-pong", "--json", "--wait", "600ms", srv.URL)
	r.wantCode(t, exitOK)
	pongs := 0
	for _, ev := range jsonEvents(t, r.stdout) {
		if ev["event"] == "pong" {
			pongs++
		}
	}
	if pongs < 3 {
		t.Errorf("%d pongs in 600ms with a 50ms keepalive:\n%s", pongs, r.stdout)
	}
}

// writeCertPEM saves the certificate a wstest TLS server presents.
func writeCertPEM(t *testing.T, srv *wstest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := writeServerCert(srv.Addr(), path); err != nil {
		t.Fatal(err)
	}
	// The saved certificate is the one the pool trusts.
	cfg := srv.ClientTLSConfig()
	cfg.ServerName = "127.0.0.1"
	tc, err := tls.Dial("tcp", srv.Addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	b, _ := os.ReadFile(path)
	blk, _ := pem.Decode(b)
	if blk == nil || !bytes.Equal(blk.Bytes, tc.ConnectionState().PeerCertificates[0].Raw) {
		t.Fatal("saved certificate differs from the server's")
	}
	return path
}

func TestTLS(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithTLS())
	r := runBin(t, "secret\n", srv.URL)
	r.wantCode(t, exitTLS)
	if !strings.Contains(r.stderr, "TLS") || !strings.Contains(r.stderr, "--cacert") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q", r.stdout)
	}

	ca := writeCertPEM(t, srv)
	r = runBin(t, "secret\n", "--cacert", ca, "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "secret\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if strings.Contains(r.stderr, "WARNING") {
		t.Errorf("warning without --insecure:\n%s", r.stderr)
	}

	// localhost is in the certificate too; a name that is not fails.
	r = runBin(t, "", "--cacert", ca, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1))
	r.wantCode(t, exitOK)

	r = runBin(t, "secret\n", "--insecure", "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "secret\n" || !strings.Contains(r.stderr, "WARNING: --insecure") {
		t.Errorf("--insecure: stdout %q stderr:\n%s", r.stdout, r.stderr)
	}

	// Another server's certificate is not trusted.
	other := wstest.NewEchoServer(wstest.WithT(t), wstest.WithTLS())
	r = runBin(t, "", "--cacert", ca, other.URL)
	r.wantCode(t, exitTLS)
}

func TestCompress(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if !c.Deflate() {
			return fmt.Errorf("permessage-deflate not negotiated (extensions %q)", c.Extensions())
		}
		return c.Echo()
	}, wstest.WithT(t), wstest.WithDeflate(wstest.DeflateOptions{}))
	long := strings.Repeat("compress me ", 50)
	r := runBin(t, long+"\n", "--compress", "--json", "--wait", "500ms", srv.URL)
	r.wantCode(t, exitOK)
	evs := jsonEvents(t, r.stdout)
	if len(evs) < 2 || !strings.Contains(fmt.Sprint(evs[0]["extensions"]), "permessage-deflate") {
		t.Fatalf("events %v", evs)
	}
	if evs[1]["data"] != long {
		t.Errorf("echo %v", evs[1])
	}
	compressed := false
	for _, f := range clientFrames(t, srv) {
		if f.Opcode == wstest.OpText && f.RSV&wstest.RSV1 != 0 && len(f.Payload) < len(long) {
			compressed = true
		}
	}
	if !compressed {
		t.Error("the client sent no compressed text frame")
	}
}

// TestReadmesListEveryFlag keeps the READMEs in step with the flags:
// cmd/wsclient/README.md (which GitHub shows for this directory) lists
// every flag in its flag table or its wscat/websocat comparison table, and
// the repository's README, which links to it, names no flag in a table that
// does not exist.
func TestReadmesListEveryFlag(t *testing.T) {
	fs := clientFlagSet(&clientOptions{})
	flagRE := regexp.MustCompile("(?:^|[ `(])(--?[A-Za-z0-9][A-Za-z0-9-]*)")
	for _, path := range []string{"../../README.md", "README.md"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		for line := range strings.SplitSeq(string(b), "\n") {
			if strings.HasPrefix(line, "| `-") {
				rows = append(rows, line)
			}
		}
		table := strings.Join(rows, "\n")
		for _, row := range rows {
			first, _, _ := strings.Cut(strings.TrimPrefix(row, "| "), " | ")
			for _, m := range flagRE.FindAllStringSubmatch(first, -1) {
				if fs.Lookup(strings.TrimLeft(m[1], "-")) == nil {
					t.Errorf("%s: the flag table lists %s, which is no flag", path, m[1])
				}
			}
		}
		if path != "README.md" {
			continue
		}
		fs.VisitAll(func(f *flagT) {
			name := dashed(f.Name)
			if !strings.Contains(table, name+"`") && !strings.Contains(table, name+" ") && !strings.Contains(table, name+"=") {
				t.Errorf("%s: the flag tables do not list %s", path, name)
			}
		})
	}
}
