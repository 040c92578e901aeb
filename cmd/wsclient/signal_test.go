package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

func TestInterruptSendsClose(t *testing.T) {
	got := make(chan int, 1)
	srv := wstest.NewServer(readyThenClose(got, 0), wstest.WithT(t))
	r := startBin(t, srv.URL) // stdin stays open: the session is interactive
	if line, err := r.stdout.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t); code != exitOK {
		t.Fatalf("after SIGINT: exit %d\nstderr:\n%s", code, r.stderr)
	}
	select {
	case code := <-got:
		if code != 1001 {
			t.Errorf("close code %d, want 1001", code)
		}
	default:
		t.Error("the server got no close frame")
	}
}

// interrupt sends SIGINT to cmd and returns its exit code.
func interrupt(cmd *exec.Cmd, cancel func()) int {
	{
		defer cancel()
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			return -1
		}
		return 0
	}
}

// One Ctrl-C can arrive as two signals at once: `timeout -s INT` signals
// the process and then its process group, and so do some process managers.
// That is one interrupt: the close handshake is done, not cut short.
func TestInterruptDeliveredTwice(t *testing.T) {
	got := make(chan int, 1)
	// A server that takes its time: the repeat arrives before the answer.
	srv := wstest.NewServer(readyThenClose(got, 300*time.Millisecond), wstest.WithT(t))
	for i := range 3 {
		r := startBin(t, srv.URL)
		if line, err := r.stdout.ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("first line %q, %v", line, err)
		}
		r.cmd.Process.Signal(syscall.SIGINT)
		// A few milliseconds apart, so that the kernel does not merge them
		// (the pace of the signals, not synchronisation).
		time.Sleep(5 * time.Millisecond)
		r.cmd.Process.Signal(syscall.SIGINT)
		if code := r.wait(t); code != exitOK {
			t.Fatalf("run %d: exit %d, want 0 (one interrupt, close completed)\nstderr:\n%s", i, code, r.stderr)
		}
		if code := <-got; code != 1001 {
			t.Fatalf("run %d: close code %d, want 1001", i, code)
		}
		if strings.Contains(r.stderr.String(), "interrupted again") {
			t.Fatalf("run %d: stderr:\n%s", i, r.stderr)
		}
	}
}

func TestSecondInterruptExitsAtOnce(t *testing.T) {
	gotClose := make(chan int, 1)
	srv := wstest.NewServer(readyThenClose(gotClose, -1), wstest.WithT(t)) // never answers the close
	r := startBin(t, srv.URL)
	if line, err := r.stdout.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	start := time.Now()
	r.cmd.Process.Signal(syscall.SIGINT)
	// The close frame is out (the first interrupt has been handled); its
	// answer never comes.
	select {
	case <-gotClose:
	case <-time.After(10 * time.Second):
		t.Fatal("no close frame after the first interrupt")
	}
	// Not synchronisation: a repeat within interruptRepeat of the first
	// is the same Ctrl-C (see TestInterruptDeliveredTwice); this one must
	// count as a second.
	time.Sleep(2 * interruptRepeat)
	r.cmd.Process.Signal(syscall.SIGINT)
	if code := r.wait(t); code != exitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitInterrupted, r.stderr)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v: the second interrupt did not cut the close handshake short", d)
	}
}

// readyThenClose is a server script: it sends "ready", waits for the
// client's close frame, sends its code on got (unless got is nil) and
// answers it after delay, or never if delay is negative.
func readyThenClose(got chan<- int, delay time.Duration) func(*wstest.Conn) error {
	return func(c *wstest.Conn) error {
		if err := c.WriteMessage(wstest.OpText, []byte("ready")); err != nil {
			return err
		}
		code, reason, err := c.ExpectClose()
		if got != nil {
			got <- code
		}
		if err != nil {
			return err
		}
		if delay < 0 {
			<-c.Context().Done()
			return nil
		}
		time.Sleep(delay) // not synchronisation: a server that takes its time to answer
		return c.Close(code, reason)
	}
}

// running is a started wsclient process with its stdin held open.
type running struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *screen
}

func startBin(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binPath, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &running{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout), stderr: newScreen()}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// wait waits for the process and returns its exit code.
func (r *running) wait(t *testing.T) int {
	t.Helper()
	io.Copy(io.Discard, r.stdout)
	err := r.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("wsclient: %v", err)
	return -1
}

func TestInterruptWhileReconnecting(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if err := c.WriteMessage(wstest.OpText, []byte("hi")); err != nil {
			return err
		}
		return c.Drop()
	}, wstest.WithT(t))
	r := startBin(t, "--reconnect", srv.URL)
	if line, err := r.stdout.ReadString('\n'); err != nil || line != "hi\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	srv.Close() // every reconnect attempt now fails
	// A failed attempt (only possible now) is followed by "attempt 2": the
	// client is disconnected for good.
	r.stderr.await(t, "(attempt 2)")
	io.WriteString(r.stdin, "stuck in the outbox\n")
	// Not synchronisation: nothing outside the process tells when the line
	// waits in the outbox, and the report below holds either way (a line
	// still in the input is counted too); the pause makes the outbox the
	// usual case.
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	r.cmd.Process.Signal(syscall.SIGINT)
	code := r.wait(t)
	if code != exitOK {
		t.Errorf("exit %d after Ctrl-C\nstderr:\n%s", code, r.stderr)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Ctrl-C while reconnecting took %v", d)
	}
	// The line that never went out is reported, not dropped in silence.
	if !strings.Contains(r.stderr.String(), "1 line from stdin was not sent") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr.String(), "reconnecting in") {
		t.Errorf("no reconnect status on stderr:\n%s", r.stderr)
	}
}

func TestInterruptWhileConnecting(t *testing.T) {
	// The server holds the upgrade request for 15 s (or until the test
	// ends) without answering.
	requested, done := make(chan struct{}, 1), make(chan struct{})
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithSubprotocolFunc(func([]string) string {
		select {
		case requested <- struct{}{}:
		default:
		}
		select {
		case <-done:
		case <-time.After(15 * time.Second):
		}
		return ""
	}))
	t.Cleanup(func() { close(done) }) // before the server's own cleanup
	r := startBin(t, srv.URL)
	select {
	case <-requested: // the process is connecting
	case <-time.After(10 * time.Second):
		t.Fatal("no upgrade request")
	}
	start := time.Now()
	r.cmd.Process.Signal(syscall.SIGINT)
	if code := r.wait(t); code != 130 {
		t.Errorf("exit %d, want 130\nstderr:\n%s", code, r.stderr)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Ctrl-C while connecting took %v", d)
	}
}

func TestSIGTERM(t *testing.T) {
	got := make(chan int, 1)
	srv := wstest.NewServer(readyThenClose(got, 0), wstest.WithT(t))
	r := startBin(t, "--json", srv.URL)
	if line, err := r.stdout.ReadString('\n'); err != nil || !strings.Contains(line, `"connect"`) {
		t.Fatalf("first line %q, %v", line, err)
	}
	if line, err := r.stdout.ReadString('\n'); err != nil || !strings.Contains(line, `"ready"`) {
		t.Fatalf("second line %q, %v", line, err)
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(r.stdout)
	if code := r.wait(t); code != exitOK {
		t.Errorf("exit %d\nstderr:\n%s", code, r.stderr)
	}
	evs := jsonEvents(t, string(rest))
	if len(evs) != 1 || evs[0]["event"] != "close" || evs[0]["by"] != "client" || evs[0]["code"] != 1001.0 {
		t.Errorf("after SIGTERM: %s", rest)
	}
	if code := <-got; code != 1001 {
		t.Errorf("server got close %d", code)
	}
}
