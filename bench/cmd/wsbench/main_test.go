package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/bench/contenders"
	"github.com/wsclient/wsclient/bench/report"
)

// TestRotation checks that each round starts with a different contender
// and that every contender runs once per round.
func TestRotation(t *testing.T) {
	cs := []contenders.Contender{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	want := []string{"a b c", "b c a", "c a b", "a b c"}
	for r := 1; r <= 4; r++ {
		var got []string
		for _, c := range rotation(cs, r) {
			got = append(got, c.Name)
		}
		if s := strings.Join(got, " "); s != want[r-1] {
			t.Errorf("round %d order %q, want %q", r, s, want[r-1])
		}
	}
}

func TestParseCPUInfo(t *testing.T) {
	in := "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\nstepping\t: 1\ncpu MHz\t\t: 2445.406\n\nprocessor\t: 1\nmodel name\t: other\n"
	if got, want := parseCPUInfo(strings.NewReader(in)), "AMD EPYC (family 25, model 1, stepping 1, 2445 MHz)"; got != want {
		t.Errorf("parseCPUInfo = %q, want %q", got, want)
	}
	if got := parseCPUInfo(strings.NewReader("processor\t: 0\n")); got != "unknown CPU" {
		t.Errorf("no model name: %q", got)
	}
}

// TestRunnerEndToEnd builds wsbench and runs it the way the README says,
// at a tiny scale: it must build and start the echo server, run each
// measurement in a child process, and write the table, the JSON, the chart
// and the profiles from that one run.
func TestRunnerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wsbench")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	outDir := filepath.Join(dir, "results")
	cmd := exec.CommandContext(t.Context(), bin, "-quick", "-scale", "0.1", "-rounds", "2",
		"-workloads", "seq64,idle10k", "-contenders", "gorilla,gobwas", "-out", outDir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wsbench: %v\n%s", err, out)
	}
	table := string(out)
	for _, want := range []string{"| workload | metric | gorilla | gobwas |", "| seq64 | round trips/s ↑ |",
		"| seq64 | read syscalls/round trip ↓ |", "| seq64 | blocking waits/round trip ↓ |",
		"| idle10k | heap+stack B/conn ↓ |", "2 rounds", "Load average", "QUICK"} {
		if !strings.Contains(table, want) {
			t.Errorf("output lacks %q:\n%s", want, table)
		}
	}
	md, err := os.ReadFile(filepath.Join(outDir, "results.md"))
	if err != nil || string(md) != table {
		t.Errorf("results.md differs from the printed table (%v)", err)
	}
	b, err := os.ReadFile(filepath.Join(outDir, "results.json"))
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
	if res.Meta.CPU == "" || res.Meta.Kernel == "" || res.Meta.LoadBefore == "" || res.Meta.LoadAfter == "" || res.Meta.Syscalls == "" {
		t.Errorf("machine description incomplete: %+v", res.Meta)
	}
	for _, w := range res.Workloads {
		if len(w.Errors) > 0 {
			t.Errorf("%s errors: %v", w.Name, w.Errors)
		}
		for _, c := range []string{"gorilla", "gobwas"} {
			v := w.Results[c][w.Metrics[0].Key]
			if len(v.Samples) != 2 || v.Median <= 0 || len(v.Rounds) != 2 || v.Rounds[0] == v.Rounds[1] {
				t.Errorf("%s/%s: samples %v rounds %v median %v, want 2 positive samples from rounds 1 and 2", w.Name, c, v.Samples, v.Rounds, v.Median)
			}
		}
		if len(w.Summaries) != len(w.Metrics) || w.Summaries[0].ToBest["gobwas"].N != 2 {
			t.Errorf("%s: summaries %+v", w.Name, w.Summaries)
		}
	}
	// -render redraws the same table from the JSON alone.
	again := filepath.Join(dir, "again.md")
	if out, err := exec.CommandContext(t.Context(), bin, "-render", filepath.Join(outDir, "results.json"), "-md", again).CombinedOutput(); err != nil {
		t.Fatalf("wsbench -render: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(again); err != nil || string(b) != table {
		t.Errorf("-render gave a different table (%v):\n%s", err, b)
	}
	svg, err := os.ReadFile(filepath.Join(outDir, "chart.svg"))
	if err != nil || !strings.HasPrefix(string(svg), "<svg") {
		t.Errorf("chart.svg: %v", err)
	}
	prof, err := os.ReadFile(filepath.Join(outDir, "profiles.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## seq64 · ", "(CPU, measured section)", "## idle10k · ", "(heap in use", "flat%"} {
		if !strings.Contains(string(prof), want) {
			t.Errorf("profiles.txt lacks %q:\n%s", want, prof)
		}
	}
}
