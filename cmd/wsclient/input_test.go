package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"testing"
)

// TestReadLineLimit checks the line limit at its edges: the line ending is
// not counted, a line one byte over is dropped but fully consumed (the next
// line is intact), and no limit keeps everything.
func TestReadLineLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		limit int64
		want  []string // "!N" for a dropped line of N bytes
	}{
		{"at the limit", "abcd\nefghi\n", 4, []string{"abcd", "!6"}},
		{"crlf not counted", "abcd\r\nxy\r\n", 4, []string{"abcd", "xy"}},
		{"last line without newline", "ab\nabcde", 4, []string{"ab", "!5"}},
		{"zero limit", "\na\n", 0, []string{"", "!2"}},
		{"no limit", "abcdefgh\n", -1, []string{"abcdefgh"}},
		{"longer than the buffer", strings.Repeat("y", 70) + "\nz\n", 40, []string{"!71", "z"}},
		{"long but allowed", strings.Repeat("y", 70) + "\n", 70, []string{strings.Repeat("y", 70)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
			var got []string
			for {
				line, n, err := readLine(br, tc.limit)
				switch {
				case n > 0 && line == nil:
					got = append(got, "!"+strconv.FormatInt(n, 10))
				case n > 0:
					got = append(got, string(trimEOL(line)))
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzReadLine compares readLine with a plain split of the input: the same
// lines, in order, each either kept whole or dropped with its exact length.
func FuzzReadLine(f *testing.F) {
	f.Add("a\r\nbb\n\nccc", int64(2), 16)
	f.Add(strings.Repeat("z", 100)+"\n", int64(99), 17)
	f.Fuzz(func(t *testing.T, in string, limit int64, size int) {
		limit %= 64
		size = 16 + (size&63+64)%64
		br := bufio.NewReaderSize(strings.NewReader(in), size)
		rest := in
		for {
			line, n, err := readLine(br, limit)
			i := strings.IndexByte(rest, '\n') + 1
			if i == 0 {
				i = len(rest)
			}
			want := rest[:i]
			rest = rest[i:]
			if n != int64(len(want)) {
				t.Fatalf("length %d, want %d (%q)", n, len(want), want)
			}
			body := string(trimEOL([]byte(want)))
			if limit >= 0 && int64(len(body)) > limit {
				if line != nil {
					t.Fatalf("line %q over the limit %d kept", line, limit)
				}
			} else if string(line) != want {
				t.Fatalf("line %q, want %q", line, want)
			}
			if err != nil {
				if err != io.EOF || rest != "" {
					t.Fatalf("err %v with %q left", err, rest)
				}
				return
			}
		}
	})
}
