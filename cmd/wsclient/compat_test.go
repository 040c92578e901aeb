package main

import (
	"flag"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// compatRow is one row of README.md's wscat/websocat comparison table:
// the spellings in each tool's cell ("—" gives none).
type compatRow struct {
	wsclient, wscat, websocat []string
	line                      string
}

var spellingRE = regexp.MustCompile("`([^`]*)`")

func readCompatTable(t *testing.T) []compatRow {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "<!-- compat table: checked by TestCompatTable -->\n")
	if !ok {
		t.Fatal("README.md has no comparison table marker")
	}
	var rows []compatRow
	for i, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		if i < 2 { // header and separator
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 4 {
			t.Fatalf("row %q: %d cells, want 4", line, len(cells))
		}
		cell := func(c string) []string {
			var out []string
			for _, m := range spellingRE.FindAllStringSubmatch(c, -1) {
				out = append(out, m[1])
			}
			return out
		}
		rows = append(rows, compatRow{cell(cells[0]), cell(cells[1]), cell(cells[2]), line})
	}
	if len(rows) < 30 {
		t.Fatalf("only %d rows in the comparison table", len(rows))
	}
	return rows
}

// shellWords splits a spelling as a shell would ('single quotes' only).
func shellWords(s string) []string {
	var words []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '\'' {
			end := strings.IndexByte(s[1:], '\'')
			words = append(words, s[1:end+1])
			s = s[end+2:]
			continue
		}
		w, rest, _ := strings.Cut(s, " ")
		words = append(words, w)
		s = rest
	}
	return words
}

// parseSpelling parses a spelling with a URL added when it has none.
func parseSpelling(spelling string) (*clientOptions, error) {
	args := shellWords(spelling)
	if !strings.Contains(spelling, "ws://") {
		args = append(args, "ws://h/")
	}
	o, err := parseClientArgs(args)
	if o != nil {
		// How it was spelled, not what it does.
		o.insecureFlag, o.waitSet, o.slashSet, o.connect = "", false, false, ""
	}
	return o, err
}

// TestCompatTable runs every spelling of README.md's comparison table
// through the parser: the spellings of a row must all do what the first
// wsclient one does, a row without a wsclient spelling lists flags that are
// refused with a hint, and every flag of the command is in the table.
func TestCompatTable(t *testing.T) {
	listed := map[string]bool{}
	for _, r := range readCompatTable(t) {
		all := append(append(append([]string{}, r.wsclient...), r.wscat...), r.websocat...)
		if len(r.wsclient) == 0 {
			for _, sp := range all {
				_, err := parseSpelling(sp)
				if err == nil || !strings.Contains(err.Error(), "unknown flag") || !strings.Contains(err.Error(), "; ") {
					t.Errorf("%s: %q: %v, want an unknown flag with a hint", r.line, sp, err)
				}
			}
			continue
		}
		want, err := parseSpelling(r.wsclient[0])
		if err != nil {
			t.Errorf("%s: %q: %v", r.line, r.wsclient[0], err)
			continue
		}
		for _, sp := range all {
			got, err := parseSpelling(sp)
			if err != nil {
				t.Errorf("%s: %q: %v", r.line, sp, err)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %q parses to\n%+v\nwant (as %q)\n%+v", r.line, sp, *got, r.wsclient[0], *want)
			}
		}
		if reflect.DeepEqual(want, mustParse(t, "ws://h/")) && r.wsclient[0] != "ws://h/" &&
			r.wsclient[0] != "--binary=false" && r.wsclient[0] != "--no-color" {
			t.Errorf("%s: %q changes nothing", r.line, r.wsclient[0])
		}
		for _, sp := range r.wsclient {
			for _, w := range shellWords(sp) {
				if strings.HasPrefix(w, "-") {
					name, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
					listed[name] = true
				}
			}
		}
	}
	clientFlagSet(&clientOptions{}).VisitAll(func(f *flag.Flag) {
		if !listed[f.Name] {
			t.Errorf("the comparison table has no wsclient spelling %s", dashed(f.Name))
		}
	})
}

func mustParse(t *testing.T, args ...string) *clientOptions {
	t.Helper()
	o, err := parseClientArgs(args)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return o
}

func TestCombinedShortFlags(t *testing.T) {
	o := mustParse(t, "-qPkb1E", "ws://h/")
	if !o.quiet || !o.showPingPong || !o.insecure || !o.binary || !o.oneMessage || o.wait != 0 {
		t.Errorf("-qPkb1E parsed to %+v", o)
	}
	o = mustParse(t, "-qw", "5", "ws://h/", "-Ps", "chat")
	if !o.quiet || o.wait != durationFlag(5e9) || !o.showPingPong || len(o.subprotocols) != 1 || o.subprotocols[0] != "chat" {
		t.Errorf("-qw 5 -Ps chat parsed to %+v", o)
	}
	o = mustParse(t, "-qw5", "ws://h/")
	if !o.quiet || o.wait != durationFlag(5e9) {
		t.Errorf("-qw5 parsed to %+v", o)
	}
	// A flag's value is never split, even when it looks like flags.
	o = mustParse(t, "--wait", "-1", "-x", "-qV", "ws://h/")
	if o.wait >= 0 || len(o.execute) != 1 || o.execute[0] != "-qV" || o.version || o.quiet {
		t.Errorf("values parsed as flags: %+v", o)
	}
	if _, err := parseClientArgs([]string{"-qz", "ws://h/"}); err == nil || err.Error() != "unknown flag -z in -qz" {
		t.Errorf("-qz: %v", err)
	}
}

func TestUnknownFlagSuggestion(t *testing.T) {
	for args, want := range map[string]string{
		"--jsn":         "unknown flag --jsn; did you mean --json?",
		"-jsn":          "unknown flag -jsn; did you mean --json?",
		"--folow":       "unknown flag --folow; did you mean --follow-redirects?",
		"--show-ping":   "unknown flag --show-ping; did you mean --show-ping-pong?",
		"--reconect":    "unknown flag --reconect; did you mean --reconnect?",
		"--frobnicate":  "unknown flag --frobnicate",
		"-l":            "unknown flag -l; wscat's -l/--listen: run wsclient serve --addr 127.0.0.1:PORT (an echo server)",
		"--no-close":    "unknown flag --no-close; websocat's -n/--no-close is not supported (wsclient always ends with a close handshake); wsclient's -n is wscat's --no-check",
		"--basic-auth=": "unknown flag --basic-auth; use --auth user:password (or user:password@ in the URL)",
	} {
		_, err := parseClientArgs([]string{args, "ws://h/"})
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v\nwant %s", args, err, want)
		}
	}
}

func TestSubprotocolMustBeToken(t *testing.T) {
	for _, bad := range []string{"bad token", "a,b c", "x;y", "é", "\"q\""} {
		if _, err := parseClientArgs([]string{"--subprotocol", bad, "ws://h/"}); err == nil {
			t.Errorf("--subprotocol %q accepted", bad)
		}
	}
	o := mustParse(t, "-s", "chat.v1, v2", "--subprotocol", "a~b", "ws://h/")
	if strings.Join(o.subprotocols, " ") != "chat.v1 v2 a~b" {
		t.Errorf("subprotocols %q", o.subprotocols)
	}
	r := runBin(t, "", "--subprotocol", "bad token", "ws://127.0.0.1:1")
	r.wantCode(t, exitUsage)
	if !strings.Contains(r.stderr, "not a valid subprotocol name") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestConnectAuthHost(t *testing.T) {
	o := mustParse(t, "-c", "ws://h/", "--auth", "u:p", "--host", "other")
	if o.url != "ws://h/" || o.headers.h.Get("Authorization") != "Basic dTpw" || o.headers.h.Get("Host") != "other" {
		t.Errorf("parsed %+v", o)
	}
	for _, args := range [][]string{
		{"-c", "ws://h/", "ws://h/"},
		{"--auth", "nopassword", "ws://h/"},
		{"--auth", "u:p", "-H", "Authorization: Bearer x", "ws://h/"},
	} {
		if _, err := parseClientArgs(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestParseSlash(t *testing.T) {
	for line, want := range map[string]slashCmd{
		"/ping":                {name: "ping", data: []byte{}},
		"/ping hello there":    {name: "ping", data: []byte("hello there")},
		"/pong x":              {name: "pong", data: []byte("x")},
		"/close":               {name: "close", code: 1000},
		"/close 4000":          {name: "close", code: 4000},
		"/close 1001 going on": {name: "close", code: 1001, reason: "going on"},
		"/help":                {name: "help"},
	} {
		cmd, _, ok, err := parseSlash([]byte(line))
		if !ok || err != nil || !reflect.DeepEqual(cmd, want) {
			t.Errorf("%q: %+v %v %v, want %+v", line, cmd, ok, err, want)
		}
	}
	for line, msg := range map[string]string{"hello": "hello", "//x": "/x", "///": "//", "": ""} {
		_, m, ok, err := parseSlash([]byte(line))
		if ok || err != nil || string(m) != msg {
			t.Errorf("%q: message %q %v %v, want %q", line, m, ok, err, msg)
		}
	}
	for _, bad := range []string{"/bogus", "/", "/close 1005", "/close 999", "/close x", "/ping " + strings.Repeat("p", 126), "/close 1000 " + strings.Repeat("r", 124)} {
		if _, _, ok, err := parseSlash([]byte(bad)); !ok || err == nil {
			t.Errorf("%q: ok %v err %v, want an error", bad, ok, err)
		}
	}
}
