package peertest

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// MissingEnv is the environment variable that makes peers count as not
// installed: a comma-separated list of peer names ("node-ws",
// "python-websockets", "tinyproxy", "microsocks", "nginx", "haproxy",
// "nghttpx", "toxiproxy", "chromium", "wasmbrowsertest") or "all". It exists to test what happens on a
// machine without them.
const MissingEnv = "WSCLIENT_MISSING_PEERS"

// hidden reports whether MissingEnv names the peer.
func hidden(peer string) bool {
	for _, name := range strings.Split(os.Getenv(MissingEnv), ",") {
		if name = strings.TrimSpace(name); name == "all" || name == peer {
			return true
		}
	}
	return false
}

// absence is a missing peer as the skip summary names it: what is missing
// and how to install it.
type absence struct {
	what, fix string
}

// The absences the starters report. docs/peers.md says more.
var (
	noNode       = absence{"node not installed", "run: sudo apt-get install nodejs npm && (cd testdata/peers/node && npm ci)"}
	noNodeWS     = absence{"node ws not installed", "run: (cd testdata/peers/node && npm ci)"}
	noPythonWS   = absence{"python websockets not installed", "run: sudo apt-get install python3-websockets (or set WSCLIENT_PYTHON)"}
	noTinyproxy  = absence{"tinyproxy not installed", "run: sudo apt-get install tinyproxy"}
	noMicrosocks = absence{"microsocks not installed", "run: sudo apt-get install microsocks"}
	noNginx      = absence{"nginx not installed", "run: sudo apt-get install nginx"}
	noHAProxy    = absence{"haproxy not installed", "run: sudo apt-get install haproxy"}
	noNghttpx    = absence{"nghttpx not installed", "run: sudo apt-get install nghttp2-proxy"}
	noToxiproxy  = absence{"toxiproxy not installed", "run: go install " + ToxiproxyModule + "/cmd/server@v2.5.0"}
	noChromium   = absence{"chromium not installed", "run: sudo apt-get install chromium chromium-driver"}
	noWasmTest   = absence{"wasmbrowsertest not installed", "run: go install " + WasmBrowserTestModule + "@" + WasmBrowserTestVersion}
	noPeersDir   = absence{"testdata/peers not found", "run the tests inside the wsclient repository"}
)

// skipLog counts, per absence, the tests skipped for it.
type skipLog struct {
	mu    sync.Mutex
	tests map[absence]map[string]bool
}

func (l *skipLog) add(a absence, test string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tests == nil {
		l.tests = make(map[absence]map[string]bool)
	}
	if l.tests[a] == nil {
		l.tests[a] = make(map[string]bool)
	}
	l.tests[a][test] = true
}

// summary returns one line per absence, the most skipped first, each
// starting with label.
func (l *skipLog) summary(label string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	type count struct {
		a absence
		n int
	}
	var counts []count
	for a, tests := range l.tests {
		counts = append(counts, count{a, len(tests)})
	}
	slices.SortFunc(counts, func(x, y count) int {
		return cmp.Or(y.n-x.n, strings.Compare(x.a.what, y.a.what))
	})
	lines := make([]string, 0, len(counts))
	for _, c := range counts {
		tests := "tests"
		if c.n == 1 {
			tests = "test"
		}
		lines = append(lines, fmt.Sprintf("%s: %d %s skipped: %s — %s", label, c.n, tests, c.a.what, c.a.fix))
	}
	return lines
}

// skips records the tests of this test binary that missing skipped.
var skips = &skipLog{}

var (
	stampOnce sync.Once
	stampPath string
)

// uncacheable keeps the go command from caching this test binary's result,
// so that the next `go test` runs the package again and shows its skip
// summary again (a cached result is replayed without it). The go command
// does not cache a result when the test opened a file in the module that
// was modified less than two seconds before it checks (right after the
// binary exits): so the test opens testdata/peers/.skipped (ignored by git)
// now, and Report touches it at the end of the run.
func uncacheable() {
	stampOnce.Do(func() {
		dir := peersDir()
		if dir == "" {
			return
		}
		path := filepath.Join(dir, ".skipped")
		if os.WriteFile(path, []byte(stampText), 0o644) != nil {
			return // a read-only module: go test may cache the result
		}
		if f, err := os.Open(path); err == nil {
			f.Close()
			stampPath = path
		}
	})
}

const stampText = "Touched by wsclient's tests when they skip for a missing peer, so that go test\ndoes not cache the result (see internal/test/peertest/skips.go).\n"

// label names the package under test in the skip summary: its import path
// without the "github.com/" prefix, such as "wsclient/interop".
func label() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Path != "" {
		return strings.TrimPrefix(strings.TrimSuffix(info.Path, ".test"), "github.com/wsclient/")
	}
	return "wsclient"
}

// Report writes a summary of the tests skipped because a peer is missing,
// one line per missing peer with how to install it, and nothing when no test
// was skipped. Call it from TestMain after m.Run with the exit code the test
// binary is about to exit with (VerifyTestMain does).
//
// The go command shows nothing of what a passing package writes unless run
// with -v (`go test ./...` prints only "ok"), so when the package passes
// without -v the summary goes to the go command's own standard error where
// that can be found (Linux: the go command is the parent process), else to
// the terminal (other Unix systems); failing packages and -v runs show the
// binary's standard error, which then carries the summary.
func Report(code int) {
	if stampPath != "" {
		now := time.Now()
		os.Chtimes(stampPath, now, now)
	}
	lines := skips.summary(label())
	if len(lines) == 0 {
		return
	}
	text := strings.Join(lines, "\n") + "\n"
	if code == 0 && !testing.Verbose() {
		if w := goTestStderr(); w != nil {
			_, err := w.WriteString(text)
			w.Close()
			if err == nil {
				return
			}
		}
	}
	os.Stderr.WriteString(text)
}

// VerifyTestMain is goleak.VerifyTestMain followed by Report: it runs the
// tests, fails a passing run that leaves goroutines behind, reports the
// skipped peer tests and exits.
func VerifyTestMain(m *testing.M, opts ...goleak.Option) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(opts...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: Errors on successful test run: %v\n", err)
			code = 1
		}
	}
	Report(code)
	os.Exit(code)
}
