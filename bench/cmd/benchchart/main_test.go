package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/bench/report"
)

// TestRun reads a results file and writes the chart, as the README's
// command does.
func TestRun(t *testing.T) {
	r := &report.Results{
		Meta:       report.Meta{CPU: "test cpu", Cores: 2, Rounds: 2},
		Contenders: []report.Contender{{Name: "wsclient"}, {Name: "gorilla"}},
	}
	w := report.Workload{Name: "pipe64", Metrics: []report.Metric{{Key: "msg_per_s", Unit: "msg/s", HigherIsBetter: true}}}
	for round := 1; round <= 2; round++ {
		w.Add("wsclient", round, map[string]float64{"msg_per_s": 200})
		w.Add("gorilla", round, map[string]float64{"msg_per_s": 100})
	}
	r.Workloads = append(r.Workloads, w)
	dir := t.TempDir()
	in := filepath.Join(dir, "r.json")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "c.svg")
	if err := run(in, out, "headline", nil); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(string(svg), "gorilla: 100  (0.50)") {
		t.Errorf("unexpected chart:\n%s", svg)
	}
	var stdout strings.Builder
	if err := run(in, "-", "headline", &stdout); err != nil || !strings.HasPrefix(stdout.String(), "<svg") {
		t.Errorf("-out - wrote %q, %v", stdout.String(), err)
	}
	if err := run(filepath.Join(dir, "missing.json"), out, "headline", nil); err == nil {
		t.Error("no error for a missing input")
	}
}
