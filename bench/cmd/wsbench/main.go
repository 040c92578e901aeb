// Command wsbench runs the side-by-side WebSocket client benchmarks.
//
// It builds and starts the common echo server (cmd/echoserver) as its own
// process on 127.0.0.1, then for each workload runs every contender in turn
// (A B C … A B C …) for -rounds rounds. Every single measurement runs in a
// fresh child process (this binary re-executed with -child), so that the
// CPU time, heap and goroutine counts of one contender never include another
// one's leftovers. It prints a Markdown table of the medians with each
// contender's ratio to the best, and writes all samples as JSON.
//
// Reproduce the published table (from the bench directory):
//
//	go run ./cmd/wsbench -rounds 5 -json results/results.json -md results/results.md
//	go run ./cmd/benchchart -in results/results.json -out results/chart.svg
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/wsclient/wsclient/bench/contenders"
	"github.com/wsclient/wsclient/bench/internal/rlimit"
	"github.com/wsclient/wsclient/bench/internal/serverproc"
	"github.com/wsclient/wsclient/bench/report"
	"github.com/wsclient/wsclient/bench/workload"
)

type flags struct {
	rounds     int
	quick      bool
	scale      float64
	workloads  string
	contenders string
	jsonOut    string
	mdOut      string
	server     string
	timeout    time.Duration
	list       bool
	child      bool
	heapProf   string
}

func main() {
	var f flags
	flag.IntVar(&f.rounds, "rounds", 3, "rounds; each round runs every contender once per workload")
	flag.BoolVar(&f.quick, "quick", false, "small counts: all workloads and contenders in well under a minute")
	flag.Float64Var(&f.scale, "scale", 1, "multiply every count by this factor")
	flag.StringVar(&f.workloads, "workloads", "all", "comma-separated workloads (see -list)")
	flag.StringVar(&f.contenders, "contenders", "all", "comma-separated contenders (see -list)")
	flag.StringVar(&f.jsonOut, "json", "", "write all results as JSON to this file")
	flag.StringVar(&f.mdOut, "md", "", "also write the Markdown table to this file")
	flag.StringVar(&f.server, "server", "", "use this running echo server (ws://127.0.0.1:PORT/) instead of building one")
	flag.DurationVar(&f.timeout, "timeout", 3*time.Minute, "limit for one measurement (one child process)")
	flag.BoolVar(&f.list, "list", false, "list workloads and contenders and exit")
	flag.StringVar(&f.heapProf, "heapprofile", "", "idle10k writes a heap profile per contender to this file name prefix (PREFIX.CONTENDER.pprof) while its connections are open")
	flag.BoolVar(&f.child, "child", false, "internal: run one workload for one contender and print its result as JSON")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("wsbench: ")

	if _, err := rlimit.RaiseNoFile(); err != nil {
		log.Printf("raise RLIMIT_NOFILE: %v", err)
	}
	scale := workload.Scale{Quick: f.quick, Factor: f.scale}
	if f.child {
		if err := runChild(f, scale); err != nil {
			log.Fatal(err)
		}
		return
	}
	ws, err := workload.Select(f.workloads)
	if err != nil {
		log.Fatal(err)
	}
	cs, err := contenders.Select(f.contenders)
	if err != nil {
		log.Fatal(err)
	}
	if f.list {
		for _, w := range ws {
			fmt.Printf("workload %-10s %s\n", w.Name, w.Describe(scale))
		}
		for _, c := range cs {
			fmt.Printf("contender %-9s %s\n", c.Name, c.Desc)
		}
		return
	}
	if f.rounds < 1 {
		log.Fatal("-rounds must be at least 1")
	}
	if err := run(f, scale, ws, cs); err != nil {
		log.Fatal(err)
	}
}

// childResult is what a child prints on its last stdout line.
type childResult struct {
	Result workload.Result `json:"result"`
	Error  string          `json:"error,omitempty"`
}

func runChild(f flags, scale workload.Scale) error {
	ws, err := workload.Select(f.workloads)
	if err != nil {
		return err
	}
	cs, err := contenders.Select(f.contenders)
	if err != nil {
		return err
	}
	if len(ws) != 1 || len(cs) != 1 || f.server == "" {
		return errors.New("-child needs one -workloads, one -contenders and -server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	env := workload.Env{URL: f.server, Contender: cs[0]}
	if f.heapProf != "" {
		env.HeapProfile = f.heapProf + "." + cs[0].Name + ".pprof"
	}
	res, err := ws[0].Run(ctx, env, scale, 0)
	out := childResult{Result: res}
	if err != nil {
		out.Error = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func run(f flags, scale workload.Scale, ws []workload.Workload, cs []contenders.Contender) error {
	ctx := context.Background()
	url := f.server
	if url == "" {
		log.Printf("building and starting the echo server")
		srv, stop, err := serverproc.BuildAndStart(ctx)
		if err != nil {
			return err
		}
		defer stop()
		url = srv.URL
	}
	if !strings.HasPrefix(url, "ws://127.0.0.1:") {
		return fmt.Errorf("server %q is not on 127.0.0.1", url)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	res := &report.Results{Meta: meta(f)}
	for _, c := range cs {
		res.Contenders = append(res.Contenders, report.Contender{Name: c.Name, Desc: c.Desc})
	}
	start := time.Now()
	for _, w := range ws {
		wl := report.Workload{Name: w.Name, Desc: w.Describe(scale), Errors: map[string]string{}}
		for _, m := range w.Metrics {
			wl.Metrics = append(wl.Metrics, report.Metric{Key: m.Key, Unit: m.Unit, HigherIsBetter: m.HigherIsBetter})
		}
		for r := 1; r <= f.rounds; r++ {
			for _, c := range cs {
				out, err := runOne(self, f, url, w.Name, c.Name)
				head := w.Metrics[0]
				if err != nil {
					log.Printf("%-9s round %d/%d %-8s ERROR %v", w.Name, r, f.rounds, c.Name, err)
					wl.Errors[c.Name] = err.Error()
					continue
				}
				wl.Add(c.Name, out)
				log.Printf("%-9s round %d/%d %-8s %s %s", w.Name, r, f.rounds, c.Name, report.Format(out[head.Key]), head.Unit)
			}
		}
		if len(wl.Errors) == 0 {
			wl.Errors = nil
		}
		res.Workloads = append(res.Workloads, wl)
	}
	log.Printf("done in %s", time.Since(start).Round(time.Second))
	res.Meta.LoadAvg = "start " + res.Meta.LoadAvg + "; end " + loadAvg()

	var md bytes.Buffer
	fmt.Fprintf(&md, "%s, %s/%s, %d cores, %s; %d rounds, medians, (ratio to the best in the row); load average %s\n\n",
		res.Meta.CPU, res.Meta.OS, res.Meta.Arch, res.Meta.Cores, res.Meta.GoVersion, f.rounds, res.Meta.LoadAvg)
	if err := report.WriteMarkdown(&md, res); err != nil {
		return err
	}
	os.Stdout.Write(md.Bytes())
	if f.mdOut != "" {
		if err := os.WriteFile(f.mdOut, md.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if f.jsonOut != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runOne measures one workload for one contender in a child process.
func runOne(self string, f flags, url, w, c string) (workload.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout+30*time.Second)
	defer cancel()
	args := []string{"-child", "-server", url, "-workloads", w, "-contenders", c,
		"-timeout", f.timeout.String(), fmt.Sprintf("-scale=%g", f.scale)}
	if f.quick {
		args = append(args, "-quick")
	}
	if f.heapProf != "" {
		args = append(args, "-heapprofile", f.heapProf)
	}
	cmd := exec.CommandContext(ctx, self, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			last = sc.Text()
		}
	}
	var cr childResult
	if err := json.Unmarshal([]byte(last), &cr); err != nil {
		return nil, fmt.Errorf("child output %q: %v", last, err)
	}
	if cr.Error != "" {
		return nil, errors.New(cr.Error)
	}
	return cr.Result, nil
}

func meta(f flags) report.Meta {
	return report.Meta{
		Date:       time.Now().UTC().Format(time.RFC3339),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		Rounds:     f.rounds,
		Quick:      f.quick,
		Scale:      f.scale,
		Server:     "cmd/echoserver (github.com/lxzan/gws server), separate process on 127.0.0.1",
		Command:    "go run ./cmd/wsbench " + strings.Join(os.Args[1:], " "),
		LoadAvg:    loadAvg(),
		Interleave: "per workload: round 1 A B C …, round 2 A B C …; one child process per measurement",
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	fh, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer fh.Close()
	sc := bufio.NewScanner(io.LimitReader(fh, 1<<20))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
