//go:build !js

package wsclient_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/test/peertest"
	"github.com/wsclient/wsclient/wstest"
)

// The js/wasm tests (conn_js_test.go, client_js_test.go) run in a
// browser, which cannot start servers: TestWasmBrowser and TestWasmNode
// start them here (a wstest server in a process of its own, and Node ws),
// then run `go test` for GOOS=js GOARCH=wasm with the servers' URLs in the
// environment, in headless Chromium or in Node's WebSocket.

func TestWasmBrowser(t *testing.T) {
	exe := peertest.BrowserExec(t)
	runWasmTests(t, exe, nil)
}

// TestWasmNode runs the same tests in Node 20's WebSocket
// (--experimental-websocket) with Go's own go_js_wasm_exec.
func TestWasmNode(t *testing.T) {
	_, goroot := goCommand(t)
	exe := filepath.Join(goroot, "lib", "wasm", "go_js_wasm_exec")
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("go_js_wasm_exec not found in GOROOT: %v", err)
	}
	// Node before 22 has WebSocket only behind this flag.
	runWasmTests(t, exe, []string{"NODE_OPTIONS=--experimental-websocket"})
}

// runWasmTests starts the servers and runs the js/wasm tests with exe.
func runWasmTests(t *testing.T, exe string, env []string) {
	if testing.Short() {
		t.Skip("builds and runs the js/wasm tests: not in -short")
	}
	node := peertest.NodeWS(t, peertest.NodeOptions{Protocols: []string{"chat"}})
	echoURL, refuseURL := startWasmServer(t)
	goBin, _ := goCommand(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "test", "-exec", exe, "-run", "JS", "-count=1", "-v", ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0",
		"WSCLIENT_WASM_WSTEST="+echoURL, "WSCLIENT_WASM_REFUSE="+refuseURL,
		"WSCLIENT_WASM_NODEWS="+node.URL)
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("js/wasm tests (%s): %v\n%s", filepath.Base(exe), err, out)
	}
	passed := regexp.MustCompile(`(?m)^\s*--- PASS: TestJS`).FindAll(out, -1)
	if skipped := regexp.MustCompile(`(?m)^\s*--- SKIP: TestJS.*`).Find(out); skipped != nil || len(passed) < 10 {
		t.Fatalf("js/wasm tests: %d passed, a skip: %q\n%s", len(passed), skipped, out)
	}
	t.Logf("%d js/wasm tests passed under %s:\n%s", len(passed), filepath.Base(exe), out)
}

// goCommand returns the go command and its GOROOT.
func goCommand(t *testing.T) (goBin, goroot string) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the js/wasm tests: %v", err)
	}
	out, err := exec.Command(goBin, "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return goBin, strings.TrimSpace(string(out))
}

// wasmServerEnv marks the process TestWasmServer serves in.
const wasmServerEnv = "WSCLIENT_WASM_SERVER"

// startWasmServer runs TestWasmServer in a process of its own (this test
// binary again) and returns the URLs of its two servers; the process ends
// when its stdin closes (the cleanup, or this process's end).
func startWasmServer(t *testing.T) (echo, refuse string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestWasmServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), wasmServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, err := fmt.Sscanf(lines.Text(), "LISTENING %s %s", &echo, &refuse); err == nil {
			go io.Copy(io.Discard, stdout)
			return echo, refuse
		}
	}
	t.Fatalf("the wasm tests' server process ended without listening: %v", lines.Err())
	return "", ""
}

// TestWasmServer is the server process of the js/wasm tests, started by
// startWasmServer; run otherwise it skips. Its server's scripts, by path:
// /echo echoes, /drop drops the connection after the handshake, /stall
// reads nothing until the connection ends. The second server refuses
// every handshake with 403.
func TestWasmServer(t *testing.T) {
	if os.Getenv(wasmServerEnv) != "1" {
		t.Skip("the js/wasm tests' server process, started by TestWasmBrowser and TestWasmNode")
	}
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		switch c.Request().URL.Path {
		case "/drop":
			return c.Drop()
		case "/stall":
			<-c.Context().Done()
			return nil
		default:
			return c.Echo()
		}
	}, wstest.WithRecordLimit(0))
	defer srv.Close()
	refuse := wstest.NewServer(nil, wstest.WithStatus(403, "no"))
	defer refuse.Close()
	fmt.Printf("LISTENING %s %s\n", srv.URL, refuse.URL)
	io.Copy(io.Discard, os.Stdin)
	if !strings.HasPrefix(srv.URL, "ws://") {
		t.Fatal(srv.URL)
	}
}
