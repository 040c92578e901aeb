package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/bench/report"
)

// TestRunnerEndToEnd builds wsbench and runs it the way the README says,
// at a tiny scale: it must build and start the echo server, run each
// measurement in a child process, print the table and write the JSON.
func TestRunnerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wsbench")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	jsonPath := filepath.Join(dir, "r.json")
	cmd := exec.CommandContext(t.Context(), bin, "-quick", "-scale", "0.1", "-rounds", "2",
		"-workloads", "seq64,idle10k", "-contenders", "gorilla,gobwas", "-json", jsonPath)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wsbench: %v\n%s", err, out)
	}
	table := string(out)
	for _, want := range []string{"| workload | metric | gorilla | gobwas |", "| seq64 | round trips/s ↑ |", "| idle10k | heap+stack B/conn ↓ |"} {
		if !strings.Contains(table, want) {
			t.Errorf("output lacks %q:\n%s", want, table)
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res report.Results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Workloads) != 2 || res.Meta.Rounds != 2 || !res.Meta.Quick {
		t.Fatalf("unexpected results: %+v", res.Meta)
	}
	for _, w := range res.Workloads {
		if len(w.Errors) > 0 {
			t.Errorf("%s errors: %v", w.Name, w.Errors)
		}
		for _, c := range []string{"gorilla", "gobwas"} {
			v := w.Results[c][w.Metrics[0].Key]
			if len(v.Samples) != 2 || v.Median <= 0 {
				t.Errorf("%s/%s: samples %v median %v, want 2 positive samples", w.Name, c, v.Samples, v.Median)
			}
		}
	}
}
