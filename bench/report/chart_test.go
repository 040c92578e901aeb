package report

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func chartSample() *Results {
	r := &Results{
		Meta:       Meta{CPU: "test cpu", Cores: 2, Rounds: 3},
		Contenders: []Contender{{Name: "wsclient"}, {Name: "gorilla"}, {Name: "gws"}},
	}
	w := Workload{Name: "pipe64", Metrics: []Metric{
		{Key: "msg_per_s", Unit: "msg/s", HigherIsBetter: true},
		{Key: "cpu_us_per_msg", Unit: "µs CPU/msg"},
		{Key: "allocs_per_msg", Unit: "allocs/msg"},
	}}
	w.Add("wsclient", 1, map[string]float64{"msg_per_s": 200, "cpu_us_per_msg": 2, "allocs_per_msg": 0})
	w.Add("gorilla", 1, map[string]float64{"msg_per_s": 100, "cpu_us_per_msg": 4, "allocs_per_msg": 2})
	r.Workloads = append(r.Workloads, w)
	return r
}

// parse checks the SVG is well-formed XML and returns the rect widths by
// their <title>, plus all text content.
func parse(t *testing.T, svg string) (map[string]string, string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	bars := map[string]string{}
	var text strings.Builder
	var width string
	inTitle := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "rect":
				width = ""
				for _, a := range el.Attr {
					if a.Name.Local == "width" {
						width = a.Value
					}
				}
			case "title":
				inTitle = true
			}
		case xml.EndElement:
			if el.Name.Local == "title" {
				inTitle = false
			}
		case xml.CharData:
			if inTitle {
				bars[string(el)] = width
			}
			text.Write(el)
		}
	}
	return bars, text.String()
}

func TestRenderDrawsRelativeBars(t *testing.T) {
	var b strings.Builder
	if err := Chart(&b, chartSample(), []string{"headline", "cpu_us_per_msg"}); err != nil {
		t.Fatal(err)
	}
	bars, text := parse(t, b.String())
	full, half := "600", "300" // barW and barW/2
	want := map[string]string{
		"wsclient: 200  (1.00)":  full,
		"gorilla: 100  (0.50)":   half,
		"wsclient: 2.00  (1.00)": full,
		"gorilla: 4.00  (0.50)":  half, // a cost twice the best scores 0.5
	}
	for title, w := range want {
		if bars[title] != w {
			t.Errorf("bar %q width = %q, want %q (bars: %v)", title, bars[title], w, bars)
		}
	}
	if len(bars) != 4 {
		t.Errorf("%d bars, want 4 (allocs row not selected; gws has no result)", len(bars))
	}
	for _, s := range []string{"pipe64: msg/s (higher is better)", "pipe64: µs CPU/msg (lower is better)", "no result", "gws"} {
		if !strings.Contains(text, s) {
			t.Errorf("chart text lacks %q", s)
		}
	}
	if strings.Contains(text, "allocs/msg") {
		t.Error("allocs row drawn though not selected")
	}
}

func TestRenderEscapes(t *testing.T) {
	r := chartSample()
	r.Meta.CPU = `A<B & "C"`
	var b strings.Builder
	if err := Chart(&b, r, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	_, text := parse(t, b.String())
	if !strings.Contains(text, `A<B & "C"`) {
		t.Error("CPU name not escaped and restored")
	}
}

func TestRenderNothing(t *testing.T) {
	if err := Chart(io.Discard, &Results{}, []string{"headline"}); err == nil {
		t.Error("no error for empty results")
	}
}
