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
			w.Add(s.c, map[string]float64{"msg_per_s": s.rate[i], "cpu_us_per_msg": s.cpu[i], "allocs_per_msg": s.allocs})
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
		"| pipe64 | msg/s ↑ | **200 (1.00)** | 150 (0.75) | 90.0 (0.45) | 1.33 |",
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
	r.Workloads[0].Add(OursClient, map[string]float64{"msg_per_s": 180, "cpu_us_per_msg": 3, "allocs_per_msg": 0})
	var b strings.Builder
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| wsclient ÷ best peer | Client ÷ Conn |",
		// The Client is not a peer: wsclient ÷ best peer stays 200/150.
		"| pipe64 | msg/s ↑ | **200 (1.00)** | 150 (0.75) | 90.0 (0.45) | 180 (0.90) | 1.33 | 0.90 |",
		"| pipe64 | µs CPU/msg ↓ | 2.00 (2.00) | 4.00 (4.00) | **1.00 (1.00)** | 3.00 (3.00) | 2.00 | 1.50 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestFormat(t *testing.T) {
	for x, want := range map[float64]string{1234567: "1,234,567", 999.6: "1,000", 123.4: "123", 12.34: "12.3", 1.234: "1.23", 0: "0", -5000: "-5,000"} {
		if got := Format(x); got != want {
			t.Errorf("Format(%v) = %q, want %q", x, got, want)
		}
	}
}
