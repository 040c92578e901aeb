package main

import (
	"flag"
	"fmt"
	"strings"
)

// The spellings of wscat and websocat that wsclient also accepts, and the
// hints for those it does not. README.md has the comparison table; a test
// parses it and runs every spelling it lists.

// unsupportedHints answers flags of wscat and websocat that wsclient does
// not take, with what to use instead (keyed by the name without dashes).
var unsupportedHints = map[string]string{
	"l":               "wscat's -l/--listen: run wsclient serve --addr 127.0.0.1:PORT (an echo server)",
	"listen":          "wscat's -l/--listen: run wsclient serve --addr 127.0.0.1:PORT (an echo server)",
	"p":               "wscat's -p/--protocol VERSION: wsclient speaks WebSocket version 13 only; for a subprotocol use -s/--subprotocol",
	"passphrase":      "wsclient reads unencrypted keys only: decrypt it first (openssl pkey -in enc.pem -out key.pem)",
	"max-redirects":   "-L follows at most 10 redirects",
	"server-mode":     "websocat's -s/--server-mode: run wsclient serve --addr 127.0.0.1:PORT; wsclient's -s is wscat's --subprotocol",
	"no-close":        "websocat's -n/--no-close is not supported (wsclient always ends with a close handshake); wsclient's -n is wscat's --no-check",
	"ping-timeout":    "--keepalive N (or --ping-interval N) counts the connection as lost after 3 unanswered pings",
	"basic-auth":      "use --auth user:password (or user:password@ in the URL)",
	"ua":              "use -H 'User-Agent: NAME'",
	"print-ping-rtts": "use --show-ping-pong (-P) with --json for timestamps",
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// dashed is a flag name as typed: -x for one letter, --name otherwise.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// suggestFlag returns the hint for an unknown flag name (without dashes):
// what to use for a known wscat/websocat flag wsclient does not take, or
// the closest flag of fs ("" when none is close).
func suggestFlag(fs *flag.FlagSet, name string) string {
	if h, ok := unsupportedHints[name]; ok {
		return h
	}
	if len(name) < 2 {
		return ""
	}
	best, bestD := "", 0
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) < 2 {
			return
		}
		d := editDistance(strings.ToLower(name), f.Name)
		if len(name) >= 4 && len(name) < len(f.Name) {
			// An abbreviation, possibly mistyped: --folow for
			// --follow-redirects.
			d = min(d, editDistance(strings.ToLower(name), f.Name[:len(name)]))
		}
		if best == "" || d < bestD || (d == bestD && f.Name < best) {
			best, bestD = f.Name, d
		}
	})
	if best == "" || bestD > max(1, (len(name)+1)/3) {
		return ""
	}
	return "did you mean " + dashed(best) + "?"
}

// isBoolFlag reports whether f takes no value.
func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// expandShort splits combined one-letter flags, as getopt does: -qV is -q
// -V, and -qw 5 (or -qw5) is -q -w 5; only the last letter may take a
// value. An argument whose first letter is not a one-letter flag is left
// for the flag package (which reports it as unknown, with a suggestion),
// and so is everything after "--" and every flag's value.
func expandShort(fs *flag.FlagSet, args []string) ([]string, error) {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...), nil
		}
		if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") || len(a) < 2 {
			out = append(out, a)
			continue
		}
		name, _, hasValue := strings.Cut(a[1:], "=")
		if f := fs.Lookup(name); f != nil {
			out = append(out, a)
			if !hasValue && !isBoolFlag(f) && i+1 < len(args) {
				i++
				out = append(out, args[i]) // its value, even if it starts with "-"
			}
			continue
		}
		if f := fs.Lookup(a[1:2]); f == nil || hasValue {
			out = append(out, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			f := fs.Lookup(a[j : j+1])
			if f == nil {
				return nil, fmt.Errorf("unknown flag -%c in %s", a[j], a)
			}
			out = append(out, "-"+f.Name)
			if !isBoolFlag(f) {
				if rest := a[j+1:]; rest != "" {
					out = append(out, rest) // -w5
				} else if i+1 < len(args) {
					i++
					out = append(out, args[i])
				}
				break
			}
		}
	}
	return out, nil
}
