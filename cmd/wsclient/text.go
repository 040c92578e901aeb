package main

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
)

// userinfoRE matches the user:password@ part of URLs in text.
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s"']*@`)

// redact hides the user:password@ part of every URL in s (a whole user
// name can be a token too), for everything the command prints about a
// connection: status lines, JSON events and errors.
func redact(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return userinfoRE.ReplaceAllString(s, "${1}***@")
}

// terminalSafe returns s with the control characters a terminal would act
// on (ESC sequences, CR, BEL, C1 controls, ...) written as Go escapes, so
// that what a server sends cannot retitle, clear or rewrite the user's
// terminal. Newlines and tabs stay.
func terminalSafe(s string) string {
	isControl := func(r rune) bool {
		return r != '\n' && r != '\t' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0))
	}
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !isControl(r):
			b.WriteRune(r)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// errText is err's message without the library's "wsclient: " prefixes
// (the command adds its own, once).
func errText(err error) string {
	return strings.ReplaceAll(err.Error(), "wsclient: ", "")
}

var (
	tagRE     = regexp.MustCompile(`(?s)<!--.*?-->|<(script|style)\b.*?</(script|style)\s*>|<[^>]*>`)
	markupRE  = regexp.MustCompile(`(?i)^\s*(<!doctype|<html|<\?xml|<head|<body|<h1|<title|<center|<p>)`)
	maxBodyIn = 240
)

// bodySummary returns the readable start of a refused handshake's response
// body: an HTML page (a proxy's or web server's error page, such as nginx's
// "400 The plain HTTP request was sent to HTTPS port") without its tags,
// its non-empty lines joined with " / ", cut to a readable length; "" when
// the body is empty or not text.
func bodySummary(b []byte) string {
	s := string(b)
	for _, r := range s {
		if r == unicode.ReplacementChar || (!unicode.IsPrint(r) && !unicode.IsSpace(r)) {
			return ""
		}
	}
	if markupRE.MatchString(s) {
		s = html.UnescapeString(tagRE.ReplaceAllString(s, "\n"))
	}
	var lines []string
	n := 0
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" || (len(lines) > 0 && lines[len(lines)-1] == line) {
			continue
		}
		lines = append(lines, line)
		if n += len(line); n >= maxBodyIn || len(lines) == 4 {
			break
		}
	}
	out := strings.Join(lines, " / ")
	if len(out) > maxBodyIn {
		cut := maxBodyIn
		for cut > 0 && !isRuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "..."
	}
	return out
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
