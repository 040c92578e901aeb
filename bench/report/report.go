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

// Meta describes the run and the machine it ran on.
type Meta struct {
	Date      string  `json:"date"`
	GoVersion string  `json:"go"`
	OS        string  `json:"os"`
	Arch      string  `json:"arch"`
	Kernel    string  `json:"kernel"`
	CPU       string  `json:"cpu"`
	Cores     int     `json:"cores"`
	Rounds    int     `json:"rounds"`
	Quick     bool    `json:"quick"`
	Scale     float64 `json:"scale"`
	Server    string  `json:"server"`
	Command   string  `json:"command"`
	// Commit is the wsclient commit measured ("git describe"), when known.
	Commit     string `json:"commit,omitempty"`
	Interleave string `json:"interleave"`
	// Syscalls says how system calls and context switches are counted.
	Syscalls string `json:"syscalls"`
	// LoadBefore and LoadAfter are /proc/loadavg (1, 5, 15 minutes) when
	// the run started and ended: other work on the machine.
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	// Duration is the wall time of the whole run.
	Duration string `json:"duration,omitempty"`
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

// Value holds one contender's samples of one metric, one per round.
type Value struct {
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Samples []float64 `json:"samples"`
	// Rounds is the round (from 1) each sample was taken in, so that
	// ratios can be taken between samples of the same round.
	Rounds []int `json:"rounds"`
}

// at returns the sample taken in round r.
func (v Value) at(r int) (float64, bool) {
	for i, x := range v.Rounds {
		if x == r && i < len(v.Samples) {
			return v.Samples[i], true
		}
	}
	return 0, false
}

// Spread summarises ratios taken within each round: their median, minimum
// and maximum over the rounds where both sides had a value. N is 0 when no
// round had both.
type Spread struct {
	Median   float64   `json:"median"`
	Min      float64   `json:"min"`
	Max      float64   `json:"max"`
	N        int       `json:"n"`
	PerRound []float64 `json:"per_round"`
}

func spreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := Spread{Median: Median(xs), Min: xs[0], Max: xs[0], N: len(xs), PerRound: xs}
	for _, x := range xs {
		s.Min = min(s.Min, x)
		s.Max = max(s.Max, x)
	}
	return s
}

// Summary is one table row's ratios, as written to the JSON.
type Summary struct {
	Metric string `json:"metric"`
	// ToBest is each contender's value ÷ the best value of the same round
	// (among all contenders), over the rounds.
	ToBest map[string]Spread `json:"to_best"`
	// OursToBestPeer is wsclient's Conn ÷ the best peer of the same round.
	OursToBestPeer *Spread `json:"wsclient_to_best_peer,omitempty"`
	// ClientToBestPeer is wsclient's Client ÷ the best peer of the same
	// round.
	ClientToBestPeer *Spread `json:"client_to_best_peer,omitempty"`
	// ClientToConn is wsclient's Client ÷ its Conn in the same round.
	ClientToConn *Spread `json:"client_to_conn,omitempty"`
}

// Workload holds one workload's results per contender and metric.
type Workload struct {
	Name    string                      `json:"name"`
	Desc    string                      `json:"desc"`
	Metrics []Metric                    `json:"metrics"`
	Results map[string]map[string]Value `json:"results"` // contender → metric key → value
	Errors  map[string]string           `json:"errors,omitempty"`
	// LoadAvg is /proc/loadavg when the workload started.
	LoadAvg string `json:"loadavg,omitempty"`
	// Summaries are the ratios of each metric, filled by Results.Summarize.
	Summaries []Summary `json:"summaries,omitempty"`
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

// Add records the samples of one round (from 1) and refreshes the medians.
func (w *Workload) Add(contender string, round int, r map[string]float64) {
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
		v.Rounds = append(v.Rounds, round)
		v.Median = Median(v.Samples)
		v.Min, v.Max = x, x
		for _, s := range v.Samples {
			v.Min = min(v.Min, s)
			v.Max = max(v.Max, s)
		}
		m[k] = v
	}
}

// rounds returns every round any contender has a sample of m in, in order.
func (w *Workload) rounds(m Metric) []int {
	seen := map[int]bool{}
	var out []int
	for _, byMetric := range w.Results {
		for _, r := range byMetric[m.Key].Rounds {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	sort.Ints(out)
	return out
}

// bestIn returns the best value of m among the contenders in round r.
func (w *Workload) bestIn(m Metric, among []string, r int) (float64, bool) {
	var best float64
	ok := false
	for _, c := range among {
		x, has := w.Results[c][m.Key].at(r)
		if !has {
			continue
		}
		if !ok || better(m, x, best) {
			best, ok = x, true
		}
	}
	return best, ok
}

// RoundRatios returns, for every round where both exist, the value of
// contender num ÷ den(round), both rounded as the table shows them. Rounds
// whose ratio is undefined (a cost of 0 as denominator with a non-zero
// numerator) are left out.
func (w *Workload) RoundRatios(m Metric, num string, den func(round int) (float64, bool)) Spread {
	var xs []float64
	for _, r := range w.rounds(m) {
		x, ok := w.Results[num][m.Key].at(r)
		if !ok {
			continue
		}
		d, ok := den(r)
		if !ok {
			continue
		}
		q := Ratio(Displayed(x), Displayed(d))
		if math.IsInf(q, 0) || math.IsNaN(q) {
			continue
		}
		xs = append(xs, q)
	}
	return spreadOf(xs)
}

// ToBest is contender c's value ÷ the best value of the same round among
// all contenders, over the rounds.
func (w *Workload) ToBest(m Metric, c string, all []string) Spread {
	return w.RoundRatios(m, c, func(r int) (float64, bool) { return w.bestIn(m, all, r) })
}

// ToBestPeer is contender c's value ÷ the best of peers in the same round.
func (w *Workload) ToBestPeer(m Metric, c string, peers []string) Spread {
	return w.RoundRatios(m, c, func(r int) (float64, bool) { return w.bestIn(m, peers, r) })
}

// ToOther is contender c's value ÷ contender d's in the same round.
func (w *Workload) ToOther(m Metric, c, d string) Spread {
	return w.RoundRatios(m, c, func(r int) (float64, bool) { return w.Results[d][m.Key].at(r) })
}

// roles splits the contender names into wsclient's Conn, its Client and
// the peers.
func (r *Results) roles() (hasOurs, hasClient bool, peers []string) {
	for _, n := range r.Names() {
		switch {
		case n == Ours:
			hasOurs = true
		case n == OursClient:
			hasClient = true
		case !strings.HasPrefix(n, Ours):
			peers = append(peers, n)
		}
	}
	return hasOurs, hasClient && hasOurs, peers
}

// Summarize fills every workload's Summaries from its samples.
func (r *Results) Summarize() {
	names := r.Names()
	hasOurs, hasClient, peers := r.roles()
	for i := range r.Workloads {
		w := &r.Workloads[i]
		w.Summaries = nil
		for _, m := range w.Metrics {
			s := Summary{Metric: m.Key, ToBest: map[string]Spread{}}
			for _, n := range names {
				if sp := w.ToBest(m, n, names); sp.N > 0 {
					s.ToBest[n] = sp
				}
			}
			if hasOurs && len(peers) > 0 {
				if sp := w.ToBestPeer(m, Ours, peers); sp.N > 0 {
					s.OursToBestPeer = &sp
				}
			}
			if hasClient && len(peers) > 0 {
				if sp := w.ToBestPeer(m, OursClient, peers); sp.N > 0 {
					s.ClientToBestPeer = &sp
				}
			}
			if hasClient {
				if sp := w.ToOther(m, OursClient, Ours); sp.N > 0 {
					s.ClientToConn = &sp
				}
			}
			w.Summaries = append(w.Summaries, s)
		}
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

// Ours is the name of the contender the "÷ best peer" column compares with
// the best peer.
const Ours = "wsclient"

// OursClient is wsclient's callback Client, compared with Ours in its own
// column.
const OursClient = "wsclient-client"

// Header returns the Markdown lines that name the machine, the load and the
// method above the table.
func Header(m Meta) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s/%s, Linux %s, %s.", m.CPU, m.Cores, m.OS, m.Arch, m.Kernel, m.GoVersion)
	if m.Commit != "" {
		fmt.Fprintf(&b, " wsclient %s.", m.Commit)
	}
	fmt.Fprintf(&b, " Run %s, %d rounds", m.Date, m.Rounds)
	if m.Quick {
		b.WriteString(", QUICK mode (small counts, not for publication)")
	} else if m.Scale != 0 && m.Scale != 1 {
		fmt.Fprintf(&b, ", counts × %g", m.Scale)
	}
	if m.Duration != "" {
		fmt.Fprintf(&b, ", took %s", m.Duration)
	}
	fmt.Fprintf(&b, ".\nLoad average (1/5/15 min): before %s, after %s.\n\n", m.LoadBefore, m.LoadAfter)
	b.WriteString("Each cell: the median over the rounds and, in parentheses, the median of the contender's ratio to the best value of its round. ")
	b.WriteString("The ÷ columns are ratios taken within each round: median (min–max over the rounds). ")
	fmt.Fprintf(&b, "Order: %s. ", m.Interleave)
	if m.Syscalls != "" {
		fmt.Fprintf(&b, "System calls: %s.", m.Syscalls)
	}
	b.WriteString("\n")
	return b.String()
}

// WriteMarkdown renders one table: a row per workload metric, a column per
// contender with "median (ratio to best)", the best median in bold, and,
// when wsclient ran, a column with wsclient's ratio to the best peer
// (contenders whose names start with "wsclient" are not peers), and when
// wsclient's Client ran too, columns with Client ÷ best peer and Client ÷
// Conn. Ratios are
// taken within each round; the two ratio columns show their median and, in
// parentheses, their range over the rounds.
func WriteMarkdown(w io.Writer, r *Results) error {
	names := r.Names()
	hasOurs, hasClient, peers := r.roles()
	hasOurs = hasOurs && len(peers) > 0
	var b strings.Builder
	b.WriteString("| workload | metric |")
	for _, n := range names {
		b.WriteString(" " + n + " |")
	}
	clientPeer := hasClient && len(peers) > 0
	if hasOurs {
		b.WriteString(" wsclient ÷ best peer |")
	}
	if clientPeer {
		b.WriteString(" Client ÷ best peer |")
	}
	if hasClient {
		b.WriteString(" Client ÷ Conn |")
	}
	b.WriteString("\n|---|---|")
	for range names {
		b.WriteString("---:|")
	}
	for _, on := range []bool{hasOurs, clientPeer, hasClient} {
		if on {
			b.WriteString("---:|")
		}
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
					cell := fmt.Sprintf("%s (%s)", Format(v.Median), spreadMedian(wl.ToBest(m, n, names)))
					if n == who || Displayed(v.Median) == Displayed(best) {
						cell = "**" + cell + "**"
					}
					b.WriteString(" " + cell + " |")
				}
			}
			if hasOurs {
				b.WriteString(" " + spreadCell(wl.ToBestPeer(m, Ours, peers)) + " |")
			}
			if clientPeer {
				b.WriteString(" " + spreadCell(wl.ToBestPeer(m, OursClient, peers)) + " |")
			}
			if hasClient {
				b.WriteString(" " + spreadCell(wl.ToOther(m, OursClient, Ours)) + " |")
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// spreadMedian shows a spread's median ratio, or "–" when undefined.
func spreadMedian(s Spread) string {
	if s.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", s.Median)
}

// spreadCell shows "median (min–max)", or just the median for one round.
func spreadCell(s Spread) string {
	switch {
	case s.N == 0:
		return "–"
	case s.N == 1 || s.Min == s.Max:
		return fmt.Sprintf("%.2f", s.Median)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", s.Median, s.Min, s.Max)
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
