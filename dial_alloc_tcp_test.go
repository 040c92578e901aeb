//go:build linux && !race

package wsclient

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// A whole connection's life over a real TCP socket, as the bench module's
// handshake workload runs it (issue 11: at most 40 per handshake there),
// stays pinned: a Conn's Dial to an IP address, a reading goroutine,
// CloseNow, the reader's end; and a Client's Start, OnConnect, Stop. The
// echo server runs in another process (this test binary again, see
// TestHelperEchoServer), so the counts are the client's alone, net's
// connect included; the least of three measurements is taken (see
// minAllocsPerRun), so the bounds are exact. Raise them only with a
// reason; the bench module's `go test -bench Handshake -memprofile …
// -memprofilerate 1` shows where they go.
func TestDialAllocsTCP(t *testing.T) {
	url := helperEchoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Run("Conn", func(t *testing.T) {
		// 28 of wsclient's and net's, plus the test's goroutine and its
		// done channel, plus 2 for asking the Proxy function (NoProxy):
		// its request with its URL, and the request's header, plus 1 for
		// parsing the URL (each Dial parses its own), plus 1 for the
		// stream's raw read state (internal/sock), made by the first
		// buffered read.
		const want = 34
		d := &Dialer{Proxy: NoProxy}
		allocs := minAllocsPerRun(func() {
			cn, done, err := dialConnReadingURL(ctx, d, url)
			if err != nil {
				t.Fatal(err)
			}
			cn.CloseNow()
			<-done
		})
		if allocs > want {
			t.Errorf("Conn dial, read, CloseNow: %v allocations, want at most %d", allocs, want)
		}
		t.Logf("Conn dial, read, CloseNow: %v allocations", allocs)
	})
	t.Run("Client", func(t *testing.T) {
		// 37, plus 2 for asking the Proxy function (see Conn), plus the
		// Client's own configuration, its parsed URL and the record of it
		// (New parses the URL once for all the client's attempts), plus
		// the attempt's own goroutine (no dialling goroutine lingers to be
		// reused), plus the Conn's raw read state (see Conn), the reading
		// goroutine of its own (its stack stays small while idle), and
		// the control handler installed through the exported
		// SetControlHandler (its function boxed once per connection).
		const want = 46
		d := &Dialer{Proxy: NoProxy}
		h := &connectHandler{connected: make(chan struct{}, 1)}
		ended, cancelEnded := context.WithCancel(ctx)
		cancelEnded()
		allocs := minAllocsPerRun(func() {
			// A Client started with a context that never ends (as the
			// bench module's is) dials with no cancelable context.
			c, err := Start(context.Background(), url, h, &Options{Dialer: d})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-h.connected:
			case <-clientDone(c):
				t.Fatal(c.Wait())
			}
			_ = c.Stop(ended)
			<-clientDone(c)
		})
		if allocs > want {
			t.Errorf("Client start, connect, stop: %v allocations, want at most %d", allocs, want)
		}
		t.Logf("Client start, connect, stop: %v allocations", allocs)
	})
}

// minAllocsPerRun is the least of three testing.AllocsPerRun(50, f): the
// counts are process-wide, and what another goroutine allocates meanwhile
// (one a test before this one left ending) only ever adds.
func minAllocsPerRun(f func()) float64 {
	least := testing.AllocsPerRun(50, f)
	for range 2 {
		least = min(least, testing.AllocsPerRun(50, f))
	}
	return least
}

// dialConnReadingURL is dialConnReading for url.
func dialConnReadingURL(ctx context.Context, d *Dialer, url string) (*Conn, chan struct{}, error) {
	cn, err := Dial(ctx, url, d)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf []byte
		for {
			var err error
			if _, buf, err = cn.appendMessage(ctx, buf[:0], false); err != nil {
				return
			}
		}
	}()
	return cn, done, nil
}

// helperEchoServer starts this test binary as an echo server in another
// process and returns its ws:// URL (on 127.0.0.1). The server ends when
// the test does.
func helperEchoServer(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no test binary to run:", err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperEchoServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WSCLIENT_HELPER_ECHO_SERVER=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the server ends when its stdin does
		if err := cmd.Wait(); err != nil {
			t.Errorf("echo server process: %v", err)
		}
	})
	urls := make(chan string, 1)
	go func() {
		defer close(urls)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "URL ") {
				urls <- strings.TrimPrefix(line, "URL ")
				break
			}
		}
		for sc.Scan() { // drain the rest (the test's PASS)
		}
	}()
	select {
	case url, ok := <-urls:
		if !ok {
			t.Fatal("echo server process printed no URL")
		}
		return url
	case <-time.After(30 * time.Second):
		t.Fatal("echo server process: no URL within 30 s")
	}
	return ""
}

// TestHelperEchoServer is the echo server process of helperEchoServer; run
// otherwise, it does nothing.
func TestHelperEchoServer(t *testing.T) {
	if os.Getenv("WSCLIENT_HELPER_ECHO_SERVER") != "1" {
		t.Skip("the echo server process of helperEchoServer")
	}
	srv := wstest.NewEchoServer(wstest.WithT(t))
	fmt.Printf("URL %s\n", srv.URL)
	var b [1]byte
	for {
		if _, err := os.Stdin.Read(b[:]); err != nil {
			break
		}
	}
	srv.Close()
}
