package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
)

// TestServeClosesWithGoingAway: Ctrl-C on wsclient serve closes each
// client's connection with a close frame 1001 (going away), not by
// dropping it.
func TestServeClosesWithGoingAway(t *testing.T) {
	url, stop := startServe(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// An echo proves the server has the connection.
	if err := c.WriteMessage(ctx, wsclient.TextMessage, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadMessage(ctx); err != nil {
		t.Fatal(err)
	}
	code := make(chan int, 1)
	go func() { code <- stop() }()
	_, _, err = c.ReadMessage(ctx)
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != wsclient.CloseGoingAway {
		t.Fatalf("after Ctrl-C on serve: %v, want a close error 1001", err)
	}
	if got := <-code; got != exitOK {
		t.Errorf("serve exited with %d", got)
	}
}

// startServe runs "wsclient serve" with args and returns its URL and a
// function that interrupts it and returns its exit code.
func startServe(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	cmd := exec.CommandContext(ctx, binPath, append([]string{"serve"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	code := -1
	stop := func() int {
		once.Do(func() { code = interrupt(cmd, cancel) })
		return code
	}
	t.Cleanup(func() { stop() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no URL: %v\nstderr:\n%s", err, errb.String())
	}
	go io.Copy(io.Discard, stdout)
	return strings.TrimSpace(line), stop
}

func TestServe(t *testing.T) {
	url, stop := startServe(t)
	if !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Fatalf("serve printed %q", url)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(ctx, wsclient.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	typ, p, err := c.ReadMessage(ctx)
	if err != nil || typ != wsclient.BinaryMessage || !bytes.Equal(p, []byte{1, 2, 3}) {
		t.Fatalf("echo: %v %v %v", typ, p, err)
	}
	if err := c.Close(wsclient.CloseNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	// The binary talks to it too.
	r := runBin(t, "via cli\n", "--wait", "300ms", url)
	r.wantCode(t, exitOK)
	if r.stdout != "via cli\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exited with %d after SIGINT", code)
	}
}

func TestServeTLS(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	url, _ := startServe(t, "--tls", "--cacert-out", ca)
	if !strings.HasPrefix(url, "wss://127.0.0.1:") {
		t.Fatalf("serve --tls printed %q", url)
	}
	r := runBin(t, "over tls\n", "--cacert", ca, "--wait", "300ms", url)
	r.wantCode(t, exitOK)
	if r.stdout != "over tls\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	runBin(t, "", url).wantCode(t, exitTLS)
}
