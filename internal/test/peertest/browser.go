package peertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// WasmBrowserTestModule and WasmBrowserTestVersion name the runner that
// loads a js/wasm test binary into headless Chromium (through chromedp)
// and reports its result: CI installs it with
// `go install github.com/agnivade/wasmbrowsertest@v0.11.0`, pinned so that
// a new release cannot break CI overnight.
const (
	WasmBrowserTestModule  = "github.com/agnivade/wasmbrowsertest"
	WasmBrowserTestVersion = "v0.11.0"
)

// BrowserExec returns a program for `go test -exec` that runs a js/wasm
// test binary in headless Chromium: a script, in a directory of the
// test's, that puts a `chromium` of its own first in PATH (the real one
// with --no-sandbox, which Chromium needs when run as root, as in CI) and
// runs wasmbrowsertest. A missing Chromium or wasmbrowsertest skips the
// test (or fails it, with RequireEnv) saying how to install it.
func BrowserExec(tb testing.TB) string {
	tb.Helper()
	chromium, ok := "", false
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if chromium, ok = lookTool(name); ok {
			break
		}
	}
	if !ok || hidden("chromium") {
		missing(tb, noChromium, "no Chromium to run the js/wasm tests in (Debian: apt-get install chromium chromium-driver)")
		return ""
	}
	runner, ok := lookTool("wasmbrowsertest")
	if !ok {
		gobin := filepath.Join(os.Getenv("HOME"), "go", "bin")
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil && len(out) > 1 {
			gobin = filepath.Join(string(out[:len(out)-1]), "bin")
		}
		runner = filepath.Join(gobin, "wasmbrowsertest")
		_, err := os.Stat(runner)
		ok = err == nil
	}
	if !ok || hidden("wasmbrowsertest") {
		missing(tb, noWasmTest, "wasmbrowsertest is not installed (go install %s@%s)", WasmBrowserTestModule, WasmBrowserTestVersion)
		return ""
	}
	dir := tb.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		tb.Fatal(err)
	}
	script := func(path, body string) {
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	script(filepath.Join(bin, "chromium"), "exec "+quote(chromium)+` --no-sandbox --disable-dev-shm-usage "$@"`)
	exe := filepath.Join(dir, "wasmbrowsertest-chromium")
	script(exe, "PATH="+quote(bin)+`:"$PATH" exec `+quote(runner)+` "$@"`)
	return exe
}

// quote quotes s for sh.
func quote(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, `'\''`...)
		} else {
			out = append(out, s[i])
		}
	}
	return string(append(out, '\''))
}
