package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/wstest"
)

// -v prints the dial's phases with their times and the statistics at exit;
// --trace is the same flag.
func TestTraceFlag(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) // a name: DNS phases
	for _, flag := range []string{"-v", "--trace"} {
		r := runBin(t, "a\n", "--wait", "300ms", flag, url)
		r.wantCode(t, exitOK)
		for _, re := range []string{
			`\* +\S+s  resolving localhost\n`,
			`\* +\S+s  resolved: .*127\.0\.0\.1.* \(\S+s\)\n`,
			`\* +\S+s  connected to 127\.0\.0\.1:\d+ \(\S+s\)\n`,
			`\* +\S+s  upgrade request written \(\S+s\)\n`,
			`\* +\S+s  response 101 \(HTTP/1\.1\) \(\S+s\)\n`,
			`\* +\S+s  close sent: 1000 ""\n`,
			`\* stats: 1 messages \(1 bytes\) sent, 1 \(1 bytes\) received; 1 connects`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stderr) {
				t.Errorf("%s: stderr lacks %s:\n%s", flag, re, r.stderr)
			}
		}
	}
	r := runBin(t, "a\n", "--wait", "300ms", srv.URL)
	if strings.Contains(r.stderr, "* ") {
		t.Errorf("without -v, stderr has trace lines:\n%s", r.stderr)
	}
}
