package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// row is one group of bars.
type row struct {
	label string
	bars  []bar
}

type bar struct {
	contender string
	score     float64 // 0..1, 1 = best
	text      string
	missing   bool
}

// palette gives each contender a fixed colour; wsclient's stands out.
var palette = map[string]string{
	"wsclient":         "#d62728",
	"wsclient-client":  "#ff7f0e",
	"wsclient-confirm": "#bcbd22",
	"gorilla":          "#1f77b4",
	"coder":            "#2ca02c",
	"gws":              "#9467bd",
	"gobwas":           "#8c564b",
}

var spare = []string{"#17becf", "#bcbd22", "#7f7f7f", "#e377c2"}

func colour(name string, i int) string {
	if c, ok := palette[name]; ok {
		return c
	}
	return spare[i%len(spare)]
}

func selected(keys []string, wl Workload, i int, m Metric) bool {
	for _, k := range keys {
		switch strings.TrimSpace(k) {
		case "all":
			return true
		case "headline":
			if i == 0 {
				return true
			}
		case m.Key:
			return true
		}
	}
	return false
}

func rows(res *Results, keys []string) []row {
	names := res.Names()
	var out []row
	for _, wl := range res.Workloads {
		for i, m := range wl.Metrics {
			if !selected(keys, wl, i, m) {
				continue
			}
			if _, _, ok := wl.Best(m, names); !ok {
				continue
			}
			dir := "lower is better"
			if m.HigherIsBetter {
				dir = "higher is better"
			}
			r := row{label: fmt.Sprintf("%s: %s (%s)", wl.Name, m.Unit, dir)}
			for _, n := range names {
				v, has := wl.Results[n][m.Key]
				if !has {
					r.bars = append(r.bars, bar{contender: n, missing: true, text: "no result"})
					continue
				}
				sp := wl.ToBest(m, n, names)
				s := 0.0
				if sp.N > 0 {
					s = scoreOfRatio(m, sp.Median)
				}
				r.bars = append(r.bars, bar{contender: n, score: s,
					text: fmt.Sprintf("%s  (%.2f)", Format(v.Median), s)})
			}
			out = append(out, r)
		}
	}
	return out
}

// DefaultChartMetrics are the rows drawn unless asked otherwise: each
// workload's headline metric and the client CPU per message.
const DefaultChartMetrics = "headline,cpu_us_per_msg"

// scoreOfRatio turns a ratio to the best (value ÷ best) into relative
// performance in [0, 1], 1 for the best, whatever the metric's direction.
func scoreOfRatio(m Metric, ratio float64) float64 {
	if m.HigherIsBetter {
		return ratio
	}
	if ratio == 0 {
		return 1
	}
	return 1 / ratio
}

// Layout constants, in SVG user units (pixels).
const (
	width    = 980
	left     = 20
	barX     = 120
	barW     = 600
	barH     = 13
	barGap   = 3
	groupGap = 30
	top      = 92
)

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Chart writes an SVG bar chart of r: one group of bars per selected
// workload metric (keys: "headline" for each workload's first metric, "all",
// or metric keys), one bar per contender, each the median over the rounds of
// its score relative to the best of the same round (1.00 = best; for costs,
// best ÷ value). The SVG is written by hand; no plotting library is needed.
func Chart(w io.Writer, res *Results, keys []string) error {
	rs := rows(res, keys)
	if len(rs) == 0 {
		return fmt.Errorf("no results to draw")
	}
	names := res.Names()
	groupH := len(names)*(barH+barGap) + groupGap
	height := top + len(rs)*groupH + 40

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", left,
		esc("WebSocket clients: performance relative to the best per row (1.00 = best; for costs, best ÷ value)"))
	m := res.Meta
	sub := fmt.Sprintf("%s, %d cores, %s, %s/%s; median of %d rounds (scores taken within each round); load %s → %s; echo server in its own process on 127.0.0.1", m.CPU, m.Cores, m.GoVersion, m.OS, m.Arch, m.Rounds, m.LoadBefore, m.LoadAfter)
	if m.Quick {
		sub += "; QUICK mode (small counts)"
	}
	fmt.Fprintf(&b, `<text x="%d" y="42" fill="#444">%s</text>`+"\n", left, esc(sub))
	// Legend.
	lx := left
	for i, n := range names {
		fmt.Fprintf(&b, `<rect x="%d" y="54" width="12" height="12" fill="%s"/><text x="%d" y="64">%s</text>`+"\n", lx, colour(n, i), lx+16, esc(n))
		lx += 24 + 7*len(n) + 20
	}
	// Grid lines at 0, 0.25 … 1.
	gridBottom := top + len(rs)*groupH - groupGap + 6
	for q := 0; q <= 4; q++ {
		x := barX + barW*q/4
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/>`+"\n", x, top-6, x, gridBottom)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#666" text-anchor="middle">%.2f</text>`+"\n", x, gridBottom+14, float64(q)/4)
	}
	y := top
	for _, r := range rs {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", left, y-4, esc(r.label))
		for i, br := range r.bars {
			by := y + 2 + i*(barH+barGap)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", barX-6, by+barH-3, esc(br.contender))
			if br.missing {
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#999">%s</text>`+"\n", barX+4, by+barH-3, esc(br.text))
				continue
			}
			bw := int(float64(barW)*min(max(br.score, 0), 1) + 0.5)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				barX, by, bw, barH, colour(br.contender, i), esc(br.contender+": "+br.text))
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", barX+bw+4, by+barH-3, esc(br.text))
		}
		y += groupH
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
