package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"ws://u:p@h:1/x":                       "ws://***@h:1/x",
		"connected to wss://tok@h/feed?a=b@":   "connected to wss://***@h/feed?a=b@",
		"ws://u:p@ss@h/":                       "ws://***@h/",
		`URL "ftp://a:b@h" and socks5://c:d@p`: `URL "ftp://***@h" and socks5://***@p`,
		"ws://h/path@x":                        "ws://h/path@x",
		"no url, mail@example.com":             "no url, mail@example.com",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBodySummary(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"no entry for you\n":     "no entry for you",
		"line 1\r\n\r\nline 2\n": "line 1 / line 2",
		nginxPlainToTLS:          "400 The plain HTTP request was sent to HTTPS port / 400 Bad Request / The plain HTTP request was sent to HTTPS port / nginx",
		"<!DOCTYPE html><html><head><style>p{x}</style><script>var a=1;</script></head><body><p>Forbidden &amp; gone</p></body></html>": "Forbidden & gone",
		"\x00\x01binary":             "",
		strings.Repeat("long ", 100): strings.Repeat("long ", 48) + "...",
	} {
		if got := bodySummary([]byte(in)); got != want {
			t.Errorf("bodySummary(%.40q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzBodySummary(f *testing.F) {
	f.Add([]byte(nginxPlainToTLS))
	f.Add([]byte("<html><body>é<!-- x --></body>"))
	f.Add([]byte("plain\ntext"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := bodySummary(b)
		if !utf8.ValidString(s) && utf8.Valid(b) {
			t.Errorf("invalid UTF-8 %q", s)
		}
		if len(s) > maxBodyIn+3 || strings.ContainsAny(s, "\r\n") {
			t.Errorf("summary %q", s)
		}
	})
}

func FuzzRedact(f *testing.F) {
	f.Add("ws://u:p@h/", "p")
	f.Add("x wss://user:pass@host:1/a@b y", "pass")
	f.Fuzz(func(t *testing.T, prefix, secret string) {
		if secret == "" || strings.ContainsAny(secret, "/?#@ \t\r\n\"'\v\f\u0085\u00a0") || !utf8.ValidString(secret) {
			return
		}
		s := prefix + " ws://user:" + secret + "@host/"
		if got := redact(s); !strings.HasSuffix(got, " ws://***@host/") {
			t.Errorf("redact(%q) = %q", s, got)
		}
	})
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:9001":    "ws://127.0.0.1:9001",
		"localhost:9001":    "ws://localhost:9001",
		"localhost":         "ws://localhost",
		"example.com/feed":  "ws://example.com/feed",
		"[::1]:9001":        "ws://[::1]:9001",
		"http://h/x":        "ws://h/x",
		"HTTPS://h/x":       "wss://h/x",
		"wss://u:p@h:1/x?y": "wss://u:p@h:1/x?y",
	} {
		got, note, err := normalizeURL(in)
		if err != nil || got != want {
			t.Errorf("normalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
		if (note != "") == strings.Contains(in, "://") {
			t.Errorf("normalizeURL(%q): note %q", in, note)
		}
	}
	for _, in := range []string{"", "serv", "ftp://h", "ws://", "ws://:1"} {
		if got, _, err := normalizeURL(in); err == nil {
			t.Errorf("normalizeURL(%q) = %q, want an error", in, got)
		}
	}
}
