package main

import (
	"flag"
	"testing"
	"time"
)

type flagT = flag.Flag

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "65536": 65536, "64KiB": 64 << 10, "64k": 64 << 10, "16MiB": 16 << 20, "2m": 2 << 20, "1G": 1 << 30, "-1": -1, "10b": 10} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "1.5MiB", "99999999999999G"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

func TestParseClientArgsInterleaved(t *testing.T) {
	o, err := parseClientArgs([]string{"--json", "ws://h/p", "-H", "A: 1", "--wait", "2", "--subprotocol", "x,y", "--", "-not-a-flag"})
	if err == nil {
		t.Fatalf("two positionals accepted: %+v", o)
	}
	o, err = parseClientArgs([]string{"--json", "ws://h/p", "-H", "A: 1", "--wait", "2", "--subprotocol", "x,y"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.json || o.url != "ws://h/p" || o.headers.h.Get("A") != "1" || time.Duration(o.wait) != 2*time.Second || len(o.subprotocols) != 2 {
		t.Errorf("parsed %+v", o)
	}
	o, err = parseClientArgs([]string{"--wait=-1", "--", "ws://h"})
	if err != nil || o.url != "ws://h" || o.wait >= 0 {
		t.Errorf("parsed %+v, %v", o, err)
	}
}

// Durations in seconds, as Go durations, and nothing that would overflow
// into a negative (or nonsense) time.Duration.
func TestDurationFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{"20": 20 * time.Second, "0.5": 500 * time.Millisecond, "-1": -time.Second, "500ms": 500 * time.Millisecond, "1m": time.Minute, "0": 0} {
		var f durationFlag
		if err := f.Set(in); err != nil || time.Duration(f) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, time.Duration(f), err, want)
		}
	}
	for _, in := range []string{"", "x", "NaN", "inf", "-Inf", "1e10", "-1e10", "9999999999s"} {
		var f durationFlag
		if err := f.Set(in); err == nil {
			t.Errorf("Set(%q) = %v, want an error", in, time.Duration(f))
		}
	}
}
