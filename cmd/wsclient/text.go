package main

import (
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
