//go:build !js

package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe builds the wasm app and checks that the page, Go's
// wasm_exec.js, the app and the WebSocket URL are served.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm app")
	}
	wasm := filepath.Join(t.TempDir(), "app.wasm")
	var buildLog bytes.Buffer
	if err := buildWasm(wasm, &buildLog); err != nil {
		t.Fatalf("build: %v\n%s", err, buildLog.String())
	}
	srv := httptest.NewServer(handler(wasm, "ws://127.0.0.1:1"))
	defer srv.Close()
	for path, want := range map[string]string{
		"/":             `src="wasm_exec.js"`,
		"/wasm_exec.js": "globalThis.Go = class",
		"/app.wasm":     "\x00asm",
		"/ws-url":       "ws://127.0.0.1:1",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, %d bytes; want %q in it", path, resp.StatusCode, len(b), want)
		}
	}
}
