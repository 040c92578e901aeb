//go:build !js

// Command browser serves a page that runs a wsclient Client compiled to
// WebAssembly (./app, GOOS=js GOARCH=wasm) in the browser, talking to an
// echo server: one embedded in this program (wstest), or the one -ws
// names, such as `wsclient serve`.
//
//	go run ./examples/browser              # then open the URL it prints
//	go run ./examples/browser -ws ws://127.0.0.1:9000   # another server
//
// It builds the wasm binary with the go command that runs it, so the page
// always runs the current source.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/wsclient/wsclient/wstest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("browser", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP address for the page")
	wsURL := fs.String("ws", "", "WebSocket server (default: an echo server embedded here)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir, err := os.MkdirTemp("", "wsclient-browser")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	wasm := filepath.Join(dir, "app.wasm")
	if err := buildWasm(wasm, stderr); err != nil {
		fmt.Fprintln(stderr, "browser: building the wasm app:", err)
		return 1
	}
	if *wsURL == "" {
		echo := wstest.NewEchoServer()
		defer echo.Close()
		*wsURL = echo.URL
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	srv := &http.Server{Handler: handler(wasm, *wsURL)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(stdout, "open http://%s/ (the page talks to %s); Ctrl-C ends\n", ln.Addr(), *wsURL)
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// buildWasm builds ./app (beside this file) for GOOS=js GOARCH=wasm.
func buildWasm(out string, stderr io.Writer) error {
	cmd := exec.Command("go", "build", "-o", out, "./app")
	cmd.Dir = sourceDir()
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	return cmd.Run()
}

// sourceDir returns this example's directory.
func sourceDir() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		if _, err := os.Stat(filepath.Join(filepath.Dir(file), "app")); err == nil {
			return filepath.Dir(file)
		}
	}
	return filepath.Join("examples", "browser")
}

// goroot returns the go command's GOROOT, where wasm_exec.js is.
func goroot() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// handler serves the page, Go's wasm_exec.js, the wasm app and the
// WebSocket URL the page is to use.
func handler(wasm, wsURL string) http.Handler {
	wasmExec := filepath.Join(goroot(), "lib", "wasm", "wasm_exec.js")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(sourceDir(), "index.html"))
	})
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, wasmExec)
	})
	mux.HandleFunc("GET /app.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, wasm)
	})
	mux.HandleFunc("GET /ws-url", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, wsURL)
	})
	return mux
}
