package main

import (
	"strings"
	"testing"
)

func TestSample(t *testing.T) {
	var out strings.Builder
	if err := run(nil, &out); err != nil {
		t.Fatal(err)
	}
	want := `Received msg "message 1"
Received msg "hello, this is message #2"
Received msg "hello, this is message #3"
Received msg "hello, this is message #4"
Websocket closed in state 5 with reason normal
`
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestSampleDelay(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"-delay", "10ms"}, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "Received msg"); n != 4 {
		t.Fatalf("%d messages:\n%s", n, out.String())
	}
}
