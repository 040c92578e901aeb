package peertest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSkipSummary runs `go test` on testdata/skipsummary, whose tests need
// peers that MissingEnv hides, and checks that the skip summary shows up
// once where the user looks: on the go command's standard error in package
// list mode without -v (where go test shows nothing else of a passing
// package), also when run again (no cached result without it), in the
// output with -v and in package directory mode; and not at all when no test
// was skipped.
func TestSkipSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a test binary with go test")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	// Read the package so that a change to it reruns this test.
	if _, err := os.ReadFile(filepath.Join("testdata", "skipsummary", "skipsummary_test.go")); err != nil {
		t.Fatal(err)
	}
	const pkg = "wsclient/internal/test/peertest/testdata/skipsummary"
	summary := []string{
		pkg + ": 2 tests skipped: tinyproxy not installed — run: sudo apt-get install tinyproxy\n",
		pkg + ": 1 test skipped: microsocks not installed — run: sudo apt-get install microsocks\n",
	}
	run := func(t *testing.T, dir string, args ...string) (stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(goCmd, append([]string{"test"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), MissingEnv+"=all", RequireEnv+"=")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("go test %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, &out, &errb)
		}
		return out.String(), errb.String()
	}
	// shown checks that the summary appears exactly once in where (and in
	// both outputs together).
	shown := func(t *testing.T, stdout, stderr, where string) {
		t.Helper()
		for _, line := range summary {
			in := map[string]string{"stdout": stdout, "stderr": stderr}[where]
			if strings.Count(stdout+stderr, line) != 1 || !strings.Contains(in, line) {
				t.Errorf("want %q once, on %s\nstdout:\n%s\nstderr:\n%s", line, where, stdout, stderr)
			}
		}
	}

	t.Run("list", func(t *testing.T) {
		for range 2 {
			stdout, stderr := run(t, ".", "./testdata/skipsummary")
			if !strings.HasPrefix(stdout, "ok  \tgithub.com/wsclient/"+pkg+"\t") || strings.Contains(stdout, "(cached)") {
				t.Errorf("stdout is not one fresh ok line:\n%s", stdout)
			}
			shown(t, stdout, stderr, "stderr")
		}
	})
	t.Run("verbose", func(t *testing.T) {
		stdout, stderr := run(t, ".", "-v", "./testdata/skipsummary")
		shown(t, stdout, stderr, "stdout") // go test -v merges the binary's stderr into its stdout
	})
	t.Run("directory", func(t *testing.T) {
		stdout, stderr := run(t, filepath.Join("testdata", "skipsummary"))
		shown(t, stdout, stderr, "stdout")
	})
	t.Run("none skipped", func(t *testing.T) {
		stdout, stderr := run(t, ".", "-run", "^TestNoPeer$", "./testdata/skipsummary")
		if strings.Contains(stdout+stderr, "skipped") {
			t.Errorf("summary without skips:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
	})
}
