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
pong 1, \d+ms since connecting
pong 2, \d+ms since connecting
pong 3, \d+ms since connecting
terminated after 3 pongs: normal
$`)
	if !re.MatchString(out.String()) {
		t.Fatalf("output:\n%s", out.String())
	}
}
