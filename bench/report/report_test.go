package report

import (
	"math"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, c := range cases {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
	in := []float64{3, 1, 2}
	Median(in)
	if in[0] != 3 {
		t.Error("Median reordered its input")
	}
}

func sample() *Results {
	r := &Results{Contenders: []Contender{{Name: "wsclient"}, {Name: "gorilla"}, {Name: "coder"}}}
	w := Workload{Name: "pipe64", Metrics: []Metric{
		{Key: "msg_per_s", Unit: "msg/s", HigherIsBetter: true},
		{Key: "cpu_us_per_msg", Unit: "µs CPU/msg"},
		{Key: "allocs_per_msg", Unit: "allocs/msg"},
	}}
	for _, s := range []struct {
		c           string
		rate, cpu   []float64
		allocs      float64
		skipAllocsZ bool
	}{
		{"wsclient", []float64{300, 100, 200}, []float64{2, 2, 2}, 0.001, false},
		{"gorilla", []float64{150, 150, 150}, []float64{4, 5, 3}, 2, false},
		{"coder", []float64{100, 90, 80}, []float64{1, 1, 1}, 0, false},
	} {
		for i := range s.rate {
			w.Add(s.c, i+1, map[string]float64{"msg_per_s": s.rate[i], "cpu_us_per_msg": s.cpu[i], "allocs_per_msg": s.allocs})
		}
	}
	r.Workloads = append(r.Workloads, w)
	return r
}

func TestBestAndRatio(t *testing.T) {
	r := sample()
	w := &r.Workloads[0]
	if got := w.Results["wsclient"]["msg_per_s"].Median; got != 200 {
		t.Fatalf("median = %v, want 200", got)
	}
	best, who, ok := w.Best(w.Metrics[0], r.Names())
	if !ok || who != "wsclient" || best != 200 {
		t.Errorf("best rate = %v %q %v, want 200 wsclient", best, who, ok)
	}
	best, who, _ = w.Best(w.Metrics[1], r.Names())
	if who != "coder" || best != 1 {
		t.Errorf("best cpu = %v %q, want 1 coder (lower is better)", best, who)
	}
	if got := Ratio(4, 1); got != 4 {
		t.Errorf("Ratio(4,1) = %v", got)
	}
	if got := Score(w.Metrics[1], 4, 1); got != 0.25 {
		t.Errorf("Score of a cost 4× the best = %v, want 0.25", got)
	}
	if got := Score(w.Metrics[0], 150, 200); got != 0.75 {
		t.Errorf("Score of a rate 0.75× the best = %v", got)
	}
	if !math.IsInf(Ratio(2, 0), 1) || Ratio(0, 0) != 1 {
		t.Error("ratios to a zero best are wrong")
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b strings.Builder
	if err := WriteMarkdown(&b, sample()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| workload | metric | wsclient | gorilla | coder | wsclient ÷ best peer |",
		// Ratios are taken within each round: coder's rates 100, 90, 80
		// against the round's best 300, 150, 200 give a median of 0.40,
		// not 90 ÷ 200; wsclient ÷ gorilla per round is 2.00, 0.67, 1.33.
		"| pipe64 | msg/s ↑ | **200 (1.00)** | 150 (0.75) | 90.0 (0.40) | 1.33 (0.67–2.00) |",
		"| pipe64 | µs CPU/msg ↓ | 2.00 (2.00) | 4.00 (4.00) | **1.00 (1.00)** | 2.00 |",
		// 0.001 allocations display as 0 and tie with coder's 0.
		"| pipe64 | allocs/msg ↓ | **0.00 (1.00)** | 2.00 (–) | **0 (1.00)** | 1.00 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteMarkdownClientColumn(t *testing.T) {
	r := sample()
	r.Contenders = append(r.Contenders, Contender{Name: OursClient})
	for i, rate := range []float64{180, 90, 180} {
		r.Workloads[0].Add(OursClient, i+1, map[string]float64{"msg_per_s": rate, "cpu_us_per_msg": 3, "allocs_per_msg": 0})
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| wsclient ÷ best peer | Client ÷ best peer | Client ÷ Conn |",
		// The Client is not a peer: wsclient ÷ best peer stays as above.
		// Client ÷ best peer per round: 180/150, 90/150, 180/150;
		// Client ÷ Conn per round: 180/300, 90/100, 180/200.
		"| pipe64 | msg/s ↑ | **200 (1.00)** | 150 (0.75) | 90.0 (0.40) | 180 (0.60) | 1.33 (0.67–2.00) | 1.20 (0.60–1.20) | 0.90 (0.60–0.90) |",
		"| pipe64 | µs CPU/msg ↓ | 2.00 (2.00) | 4.00 (4.00) | **1.00 (1.00)** | 3.00 (3.00) | 2.00 | 3.00 | 1.50 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestRatiosSkipMissingRounds checks that a round where one side has no
// sample (a failed measurement) is left out instead of pairing samples of
// different rounds.
func TestRatiosSkipMissingRounds(t *testing.T) {
	m := Metric{Key: "x", HigherIsBetter: true}
	w := Workload{Metrics: []Metric{m}}
	w.Add("a", 1, map[string]float64{"x": 10})
	w.Add("a", 3, map[string]float64{"x": 30})
	w.Add("b", 1, map[string]float64{"x": 5})
	w.Add("b", 2, map[string]float64{"x": 100})
	w.Add("b", 3, map[string]float64{"x": 10})
	s := w.ToOther(m, "a", "b")
	if s.N != 2 || s.Min != 2 || s.Max != 3 || s.Median != 2.5 {
		t.Errorf("a ÷ b = %+v, want rounds 1 and 3 only: 2 and 3", s)
	}
	if v := w.Results["a"]["x"]; v.Min != 10 || v.Max != 30 || v.Median != 20 {
		t.Errorf("value summary %+v", v)
	}
}

func TestSummarize(t *testing.T) {
	r := sample()
	r.Summarize()
	s := r.Workloads[0].Summaries
	if len(s) != 3 || s[0].Metric != "msg_per_s" {
		t.Fatalf("summaries %+v", s)
	}
	if o := s[0].OursToBestPeer; o == nil || o.N != 3 || o.Max != 2 {
		t.Errorf("wsclient ÷ best peer = %+v", o)
	}
	if s[0].ClientToConn != nil {
		t.Error("Client ÷ Conn without a Client")
	}
	if c := s[0].ToBest["coder"]; c.N != 3 || math.Abs(c.Median-0.4) > 1e-9 {
		t.Errorf("coder to best = %+v", c)
	}
}

func TestHeader(t *testing.T) {
	h := Header(Meta{CPU: "Test CPU", Cores: 2, OS: "linux", Arch: "amd64", Kernel: "6.1.0", GoVersion: "go1.26.8",
		Date: "2026-12-02T03:00:00Z", Rounds: 5, LoadBefore: "0.10 0.20 0.30", LoadAfter: "1.00 0.50 0.40",
		Interleave: "rotating", Syscalls: "syscr/syscw"})
	for _, want := range []string{"Test CPU, 2 cores", "Linux 6.1.0", "go1.26.8", "5 rounds",
		"before 0.10 0.20 0.30, after 1.00 0.50 0.40", "rotating", "syscr/syscw"} {
		if !strings.Contains(h, want) {
			t.Errorf("header lacks %q: %s", want, h)
		}
	}
	if strings.Contains(h, "QUICK") {
		t.Error("full run marked quick")
	}
	if !strings.Contains(Header(Meta{Quick: true}), "QUICK") {
		t.Error("quick run not marked")
	}
}

func TestFormat(t *testing.T) {
	for x, want := range map[float64]string{1234567: "1,234,567", 999.6: "1,000", 123.4: "123", 12.34: "12.3", 1.234: "1.23", 0: "0", -5000: "-5,000"} {
		if got := Format(x); got != want {
			t.Errorf("Format(%v) = %q, want %q", x, got, want)
		}
	}
}
