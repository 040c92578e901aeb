// Command benchchart draws the wsbench results as an SVG bar chart: one
// group of bars per workload metric, one bar per contender, each bar the
// contender's performance relative to the best in the same round (1.0 =
// best; for costs such as CPU per message or bytes per connection, best ÷
// value), median over the rounds. The drawing is report.Chart, which
// wsbench -out also uses, so a run can write its chart itself.
//
//	go run ./cmd/benchchart -in results/results.json -out results/chart.svg
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/wsclient/wsclient/bench/report"
)

func main() {
	in := flag.String("in", "results/results.json", "results JSON written by wsbench -json")
	out := flag.String("out", "results/chart.svg", "SVG file to write (- for stdout)")
	metrics := flag.String("metrics", report.DefaultChartMetrics, "rows to draw: headline (each workload's first metric), all, or metric keys, comma-separated")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchchart: ")
	if err := run(*in, *out, *metrics, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run reads the results JSON at in and writes the chart to out ("-" for
// stdout).
func run(in, out, metrics string, stdout io.Writer) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var res report.Results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %v", in, err)
	}
	var buf bytes.Buffer
	if err := report.Chart(&buf, &res, strings.Split(metrics, ",")); err != nil {
		return err
	}
	if out == "-" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
