package main

import (
	"io"
	"log"
	"net"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-V"}, {"version"}, {"-V", "ws://ignored.example"}} {
		r := runBin(t, "", args...)
		r.wantCode(t, exitOK)
		if !strings.HasPrefix(r.stdout, "wsclient ") || !strings.Contains(r.stdout, runtime.Version()) {
			t.Errorf("%q: stdout %q", args, r.stdout)
		}
		// A test binary is built from a checkout: no module version.
		if !strings.Contains(r.stdout, "devel") {
			t.Errorf("%q: stdout %q, want devel", args, r.stdout)
		}
	}
}

func TestDurationsInSeconds(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	r := runBin(t, "hi\n", "--keepalive", "1", "--timeout", "10", "--wait", "0.3", srv.URL)
	r.wantCode(t, exitOK)
	r = runBin(t, "hi\n", "--keepalive=20s", "--timeout=1m", "--wait=300ms", srv.URL)
	r.wantCode(t, exitOK)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--keepalive", "soon"}, `--keepalive "soon": want a duration`},
		{[]string{"--timeout=never"}, `--timeout "never": want a duration`},
		{[]string{"-timeout", "x"}, `-timeout "x": want a duration`},
		{[]string{"--no-such-flag"}, "unknown flag --no-such-flag"},
		{[]string{"-Z"}, "unknown flag -Z"},
		{[]string{"--origin"}, "--origin needs a value"},
		{[]string{"--json=maybe"}, `--json "maybe": `},
	} {
		r := runBin(t, "", append([]string{srv.URL}, tc.args...)...)
		r.wantCode(t, exitUsage)
		if !strings.Contains(r.stderr, "wsclient: "+tc.want) {
			t.Errorf("%q: stderr:\n%s\nwant %q", tc.args, r.stderr, tc.want)
		}
	}
}

func TestInsecureWarnsOnce(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithTLS())
	r := runBin(t, "x\n", "--insecure", "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	if n := strings.Count(r.stderr, "WARNING"); n != 1 {
		t.Errorf("%d warnings:\n%s", n, r.stderr)
	}
	r = runBin(t, "x\n", "--insecure", "-q", "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stderr != "" {
		t.Errorf("-q: stderr:\n%s", r.stderr)
	}
}

func TestAbnormalCloseSaidOnce(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if err := c.Close(4000, "custom"); err != nil {
			return err
		}
		_, _, err := c.ExpectClose()
		return err
	}, wstest.WithT(t))
	r := runBin(t, "", "--wait", "-1", srv.URL)
	r.wantCode(t, exitAbnormalClose)
	if n := strings.Count(r.stderr, "4000"); n != 1 || !strings.Contains(r.stderr, "custom") {
		t.Errorf("4000 said %d times:\n%s", n, r.stderr)
	}
	// A normal close by the server is said once too (a status line).
	normal := wstest.NewServer(func(c *wstest.Conn) error {
		if err := c.Close(1000, "bye"); err != nil {
			return err
		}
		_, _, err := c.ExpectClose()
		return err
	}, wstest.WithT(t))
	r = runBin(t, "", "--wait", "-1", normal.URL)
	r.wantCode(t, exitOK)
	if n := strings.Count(r.stderr, "1000"); n != 1 {
		t.Errorf("1000 said %d times:\n%s", n, r.stderr)
	}
}

func TestMessageTooBigSaidOnce(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if err := c.WriteMessage(wstest.OpText, []byte(strings.Repeat("x", 2000))); err != nil {
			return err
		}
		_, _, err := c.ExpectClose()
		return err
	}, wstest.WithT(t))
	r := runBin(t, "", "--max-message-size", "1KiB", "--wait", "-1", srv.URL)
	r.wantCode(t, exitError)
	if n := strings.Count(r.stderr, "1009"); n != 1 || strings.Count(r.stderr, "too big") != 1 || !strings.Contains(r.stderr, "--max-message-size") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	noSecret(t, r)
}

func TestReconnectRefusedFirstSaidOnce(t *testing.T) {
	r := runBin(t, "", "--reconnect", "ws://127.0.0.1:1")
	r.wantCode(t, exitConnect)
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "cannot connect") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestRefusedWithPipedInput(t *testing.T) {
	srv := wstest.NewServer(nil, wstest.WithT(t), wstest.WithStatus(403, "go away"))
	r := runBin(t, "a\nb\nc\n", srv.URL)
	r.wantCode(t, exitHandshake)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "handshake refused: 403 Forbidden: go away") ||
		lines[1] != "wsclient: 3 lines from stdin were not sent" {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	// Connection refused: the same.
	r = runBin(t, "a\n", "ws://127.0.0.1:1")
	r.wantCode(t, exitConnect)
	lines = strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "cannot connect") || lines[1] != "wsclient: 1 line from stdin was not sent" {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestInterruptServerNeverAnswersClose(t *testing.T) {
	srv := wstest.NewServer(readyThenClose(nil, -1), wstest.WithT(t)) // never answers the close
	r := startBin(t, srv.URL)
	if line, err := r.stdout.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	start := time.Now()
	r.cmd.Process.Signal(syscall.SIGINT)
	code := r.wait(t)
	stderr := r.stderr.String()
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(stderr, "closing with 1001: waiting up to 5s for the server's close frame") ||
		!strings.Contains(stderr, "the server never answered our close frame within 5s") ||
		strings.Contains(stderr, "closed network connection") || strings.Contains(stderr, "connection lost") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if d := time.Since(start); d < 4*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

func TestTimeoutUpgradeNeverAnswered(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithHandshakeDelay(15*time.Second))
	r := runBin(t, "", "--timeout", "0.5", srv.URL)
	r.wantCode(t, exitConnect)
	if !strings.Contains(r.stderr, "no answer to the WebSocket upgrade request within 500ms (--timeout)") ||
		strings.Contains(r.stderr, "context deadline exceeded") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

const nginxPlainToTLS = `<html>
<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>
<body>
<center><h1>400 Bad Request</h1></center>
<center>The plain HTTP request was sent to HTTPS port</center>
<hr><center>nginx</center>
</body>
</html>
`

func TestRefusalBodyShown(t *testing.T) {
	srv := wstest.NewServer(nil, wstest.WithT(t), wstest.WithStatus(400, nginxPlainToTLS))
	r := runBin(t, "", srv.URL)
	r.wantCode(t, exitHandshake)
	if !strings.Contains(r.stderr, "400 Bad Request: 400 The plain HTTP request was sent to HTTPS port / 400 Bad Request / The plain HTTP request") ||
		strings.Contains(r.stderr, "<") || !strings.Contains(r.stderr, "try wss://") {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	// Go's own TLS server answering a plain request.
	ts := httptest.NewUnstartedServer(nil)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	defer ts.Close()
	r = runBin(t, "", strings.Replace(ts.URL, "https://", "ws://", 1))
	r.wantCode(t, exitHandshake)
	if !strings.Contains(r.stderr, "Client sent an HTTP request to an HTTPS server") || !strings.Contains(r.stderr, "try wss://") {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	// And the other way round: TLS to a plain HTTP port.
	plain := httptest.NewServer(nil)
	defer plain.Close()
	r = runBin(t, "", strings.Replace(plain.URL, "http://", "wss://", 1))
	r.wantCode(t, exitTLS)
	if !strings.Contains(r.stderr, "is this a ws:// port?") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestDemoInterrupted(t *testing.T) {
	r := startBin(t, "demo", "--delay", "30s")
	if line, err := r.stdout.ReadString('\n'); err != nil || !strings.Contains(line, "Started") {
		t.Fatalf("first line %q, %v", line, err)
	}
	for {
		line, err := r.stdout.ReadString('\n')
		if err != nil {
			t.Fatalf("no message before EOF: %v", err)
		}
		if strings.Contains(line, "Received msg") {
			break
		}
	}
	start := time.Now()
	r.cmd.Process.Signal(syscall.SIGINT)
	if code := r.wait(t); code != exitOK {
		t.Errorf("exit %d after Ctrl-C\nstderr:\n%s", code, r.stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Ctrl-C took %v", d)
	}
	if !strings.Contains(r.stderr.String(), "demo: interrupted") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// An error page that opens with the status (nginx's, Go's http.Error) does
// not make the refusal say the status twice.
func TestRefusalStatusSaidOnce(t *testing.T) {
	for body, want := range map[string]string{
		"<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n": "handshake refused: 403 Forbidden: nginx\n",
		"403 forbidden\n": "handshake refused: 403 Forbidden\n",
		"Forbidden\n":     "handshake refused: 403 Forbidden\n",
		"go away\n":       "handshake refused: 403 Forbidden: go away\n",
	} {
		srv := wstest.NewServer(nil, wstest.WithT(t), wstest.WithStatus(403, body))
		r := runBin(t, "", "-q", srv.URL)
		r.wantCode(t, exitHandshake)
		if r.stderr != "wsclient: "+want {
			t.Errorf("body %q: stderr %q, want %q", body, r.stderr, "wsclient: "+want)
		}
	}
}

func TestWithoutStatus(t *testing.T) {
	for _, tc := range []struct{ status, summary, want string }{
		{"403", "", ""}, // no reason phrase: nothing to drop, and no endless loop
		{"403", "x / y", "x / y"},
		{"403 Forbidden", "403 Forbidden / Forbidden / nginx", "nginx"},
		{"403 Forbidden", "nginx / 403 Forbidden", "nginx / 403 Forbidden"},
	} {
		he := &wsclient.HandshakeError{StatusCode: 403, Status: tc.status}
		if got := withoutStatus(tc.summary, he); got != tc.want {
			t.Errorf("withoutStatus(%q, %q) = %q, want %q", tc.summary, tc.status, got, tc.want)
		}
	}
}

// A server that closes the connection without answering the upgrade (a
// TLS port spoken to in plain text, a server that is not HTTP) is said in
// words, with the likely fix for a ws:// URL.
func TestUpgradeUnanswered(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 4096)) // the request
			c.Close()
		}
	}()
	r := runBin(t, "", "-q", "ws://"+ln.Addr().String())
	r.wantCode(t, exitHandshake)
	want := "wsclient: handshake failed: the server closed the connection without answering the upgrade request\n" +
		"  (is this a TLS port? try wss://)\n"
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	ln.Close()
	<-done
}
