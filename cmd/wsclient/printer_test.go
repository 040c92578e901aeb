package main

import (
	"bytes"
	"strings"
	"testing"
)

// What a server sends cannot drive the user's terminal: control characters
// (ESC sequences that retitle the window, clear the screen or rewrite what
// was shown, a lone CR that overwrites a line) in a text message shown on a
// terminal, and in close reasons and errors on stderr, are shown escaped.
// Piped output stays byte for byte.
func TestPrinterEscapesControlsForTerminals(t *testing.T) {
	hostile := "hi\x1b]0;pwned\x07\x1b[2J\rspoof\u009b1m\ttab"
	const shown = `hi\x1b]0;pwned\x07\x1b[2J\rspoof\u009b1m` + "\ttab"

	var out, errb bytes.Buffer
	p := newPrinter(&out, &errb)
	p.marks = true
	p.message(false, []byte(hostile))
	p.closed(4000, hostile, "server", true)
	p.errorf("closed by server with code %d: %s", 4000, hostile)
	if want := "< " + shown + "\n"; out.String() != want {
		t.Errorf("terminal stdout %q, want %q", out.String(), want)
	}
	if want := "wsclient: closed by server: 4000 " + shown + "\nwsclient: closed by server with code 4000: " + shown + "\n"; errb.String() != want {
		t.Errorf("stderr %q, want %q", errb.String(), want)
	}

	out.Reset()
	p = newPrinter(&out, &errb)
	p.message(false, []byte(hostile))
	if out.String() != hostile+"\n" {
		t.Errorf("piped stdout %q, want the message as is", out.String())
	}
	// Multi-line messages of the command itself keep their lines.
	errb.Reset()
	p.errorf("first\n  (hint)")
	if !strings.Contains(errb.String(), "first\n  (hint)\n") {
		t.Errorf("stderr %q", errb.String())
	}
}
