package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestPing(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"-interval", "20ms", "-n", "3"}, &out); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^connected to ws://127\.0\.0\.1:\d+, pinging every 20ms
pong 1 after \d+ms
pong 2 after \d+ms
pong 3 after \d+ms
terminated after 3 pongs: normal
$`)
	if !re.MatchString(out.String()) {
		t.Fatalf("output:\n%s", out.String())
	}
}
