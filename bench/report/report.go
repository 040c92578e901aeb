// Package report holds benchmark results as JSON, computes medians and
// ratios to the best contender, and renders the Markdown table.
package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Meta describes the run.
type Meta struct {
	Date       string  `json:"date"`
	GoVersion  string  `json:"go"`
	OS         string  `json:"os"`
	Arch       string  `json:"arch"`
	CPU        string  `json:"cpu"`
	Cores      int     `json:"cores"`
	Rounds     int     `json:"rounds"`
	Quick      bool    `json:"quick"`
	Scale      float64 `json:"scale"`
	Server     string  `json:"server"`
	Command    string  `json:"command"`
	Interleave string  `json:"interleave"`
	LoadAvg    string  `json:"loadavg"` // /proc/loadavg at start and end: other work on the machine
}

// Contender names and describes one contender.
type Contender struct {
	Name string `json:"name"`
	Desc string `json:"desc"`
}

// Metric describes one measured quantity.
type Metric struct {
	Key            string `json:"key"`
	Unit           string `json:"unit"`
	HigherIsBetter bool   `json:"higher_is_better"`
}

// Value is the median of a metric's samples over the rounds.
type Value struct {
	Median  float64   `json:"median"`
	Samples []float64 `json:"samples"`
}

// Workload holds one workload's results per contender and metric.
type Workload struct {
	Name    string                      `json:"name"`
	Desc    string                      `json:"desc"`
	Metrics []Metric                    `json:"metrics"`
	Results map[string]map[string]Value `json:"results"` // contender → metric key → value
	Errors  map[string]string           `json:"errors,omitempty"`
}

// Results is the whole JSON document written by wsbench.
type Results struct {
	Meta       Meta        `json:"meta"`
	Contenders []Contender `json:"contenders"`
	Workloads  []Workload  `json:"workloads"`
}

// Median returns the median of xs (the mean of the middle two for an even
// count), or NaN for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Add records one sample and refreshes the median.
func (w *Workload) Add(contender string, r map[string]float64) {
	if w.Results == nil {
		w.Results = map[string]map[string]Value{}
	}
	m := w.Results[contender]
	if m == nil {
		m = map[string]Value{}
		w.Results[contender] = m
	}
	for k, x := range r {
		v := m[k]
		v.Samples = append(v.Samples, x)
		v.Median = Median(v.Samples)
		m[k] = v
	}
}

// Best returns the best median of metric m among the given contenders and
// which contender has it; ok is false when none has a value.
func (w *Workload) Best(m Metric, among []string) (best float64, who string, ok bool) {
	for _, c := range among {
		v, has := w.Results[c][m.Key]
		if !has || math.IsNaN(v.Median) {
			continue
		}
		if !ok || better(m, v.Median, best) {
			best, who, ok = v.Median, c, true
		}
	}
	return best, who, ok
}

func better(m Metric, a, b float64) bool {
	if m.HigherIsBetter {
		return a > b
	}
	return a < b
}

// Ratio is value ÷ best: 1.00 for the best; below 1 is worse for
// higher-is-better metrics, above 1 is worse for costs. A zero best (for
// example 0 allocations) gives 1 for a zero value and +Inf otherwise.
func Ratio(value, best float64) float64 {
	if best == 0 {
		if value == 0 {
			return 1
		}
		return math.Inf(1)
	}
	return value / best
}

// Score turns a value into "relative performance" in (0, 1], 1 for the
// best, whatever the metric's direction; the chart draws it.
func Score(m Metric, value, best float64) float64 {
	r := Ratio(value, best)
	if m.HigherIsBetter {
		return r
	}
	if math.IsInf(r, 1) {
		return 0
	}
	if r == 0 {
		return 1
	}
	return 1 / r
}

// Names returns the contender names in order.
func (r *Results) Names() []string {
	var s []string
	for _, c := range r.Contenders {
		s = append(s, c.Name)
	}
	return s
}

// Ours is the name of the contender the last column compares with the best
// peer.
const Ours = "wsclient"

// OursClient is wsclient's callback Client, compared with Ours in its own
// column.
const OursClient = "wsclient-client"

// WriteMarkdown renders one table: a row per workload metric, a column per
// contender with "median (ratio to best)", the best in bold, and, when
// wsclient ran, a column with wsclient's ratio to the best peer (contenders
// whose names start with "wsclient" are not peers), and when wsclient's
// Client ran too, a last column with Client ÷ Conn.
func WriteMarkdown(w io.Writer, r *Results) error {
	names := r.Names()
	var peers []string
	hasOurs, hasClient := false, false
	for _, n := range names {
		switch {
		case n == Ours:
			hasOurs = true
		case n == OursClient:
			hasClient = true
		case !strings.HasPrefix(n, Ours):
			peers = append(peers, n)
		}
	}
	hasClient = hasClient && hasOurs
	var b strings.Builder
	b.WriteString("| workload | metric |")
	for _, n := range names {
		b.WriteString(" " + n + " |")
	}
	if hasOurs {
		b.WriteString(" wsclient ÷ best peer |")
	}
	if hasClient {
		b.WriteString(" Client ÷ Conn |")
	}
	b.WriteString("\n|---|---|")
	for range names {
		b.WriteString("---:|")
	}
	if hasOurs {
		b.WriteString("---:|")
	}
	if hasClient {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, wl := range r.Workloads {
		for _, m := range wl.Metrics {
			arrow := "↓"
			if m.HigherIsBetter {
				arrow = "↑"
			}
			fmt.Fprintf(&b, "| %s | %s %s |", wl.Name, m.Unit, arrow)
			best, who, ok := wl.Best(m, names)
			for _, n := range names {
				v, has := wl.Results[n][m.Key]
				switch {
				case wl.Errors[n] != "" && !has:
					b.WriteString(" error |")
				case !has || !ok:
					b.WriteString(" – |")
				default:
					cell := fmt.Sprintf("%s (%s)", Format(v.Median), ratioCell(v.Median, best))
					if n == who || Displayed(v.Median) == Displayed(best) {
						cell = "**" + cell + "**"
					}
					b.WriteString(" " + cell + " |")
				}
			}
			if hasOurs {
				ov, has := wl.Results[Ours][m.Key]
				pb, _, pok := wl.Best(m, peers)
				if has && pok {
					fmt.Fprintf(&b, " %s |", ratioCell(ov.Median, pb))
				} else {
					b.WriteString(" – |")
				}
			}
			if hasClient {
				cv, hasC := wl.Results[OursClient][m.Key]
				ov, hasO := wl.Results[Ours][m.Key]
				if hasC && hasO {
					fmt.Fprintf(&b, " %s |", ratioCell(cv.Median, ov.Median))
				} else {
					b.WriteString(" – |")
				}
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ratioCell formats value ÷ best as shown: both are first rounded to the
// table's precision, so that 0.001 allocations per message count as 0 and do
// not make 2 allocations look 2,000 times worse. A ratio to a best of 0 is
// shown as "–".
func ratioCell(value, best float64) string {
	v, b := Displayed(value), Displayed(best)
	if b == 0 && v != 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", Ratio(v, b))
}

// Displayed returns x rounded as Format prints it.
func Displayed(x float64) float64 {
	var y float64
	if _, err := fmt.Sscan(strings.ReplaceAll(Format(x), ",", ""), &y); err != nil {
		return x
	}
	return y
}

// Format prints a metric value with a precision suited to its size, and
// thousands separators for large numbers.
func Format(x float64) string {
	ax := math.Abs(x)
	switch {
	case math.IsNaN(x):
		return "–"
	case ax >= 999.5:
		return thousands(int64(math.Round(x)))
	case ax >= 99.95:
		return fmt.Sprintf("%.0f", x)
	case ax >= 9.995:
		return fmt.Sprintf("%.1f", x)
	case ax == 0:
		return "0"
	}
	return fmt.Sprintf("%.2f", x)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
