// Command wsbench runs the side-by-side WebSocket client benchmarks.
//
// It builds and starts the common echo server (cmd/echoserver) as its own
// process on 127.0.0.1, then for each workload runs every contender once per
// round for -rounds rounds, rotating the starting contender each round
// (round 1: A B C, round 2: B C A, round 3: C A B, …) so that no contender
// always runs first, or right after the same neighbour. Every single
// measurement runs in a fresh child process (this binary re-executed with
// -child), so that the CPU time, system calls, heap and goroutine counts of
// one contender never include another one's leftovers. Ratios between
// contenders are taken within each round and summarised as their median and
// range over the rounds.
//
// With -out DIR it writes, from this one run, DIR/results.json (every
// sample), DIR/results.md (the table), DIR/chart.svg and DIR/profiles.txt
// (CPU and heap profiles from one extra, unscored pass per workload).
//
// The publishing run (from the bench directory, on a quiet machine):
//
//	go run ./cmd/wsbench -out results
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
	"path/filepath"
	"runtime"
	"runtime/pprof"
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
	out        string
	jsonOut    string
	mdOut      string
	chartOut   string
	profOut    string
	profWho    string
	server     string
	timeout    time.Duration
	list       bool
	child      bool
	heapProf   string
	cpuProf    string
	render     string
}

// syscallMethod is written into the results so that readers know what the
// system call columns count.
const syscallMethod = "read/write syscalls are the client process's syscr/syscw deltas from /proc/self/io " +
	"(read, readv, write, writev … of every thread; epoll_wait, futex and other calls are not counted there); " +
	"blocking waits are its voluntary context switches from getrusage(RUSAGE_SELF), i.e. how often a client thread " +
	"blocked (epoll_wait, futex, …) and was woken; the echo server runs in another process and is not counted"

func main() {
	var f flags
	flag.IntVar(&f.rounds, "rounds", 5, "rounds; each round runs every contender once per workload, starting with a different contender each round")
	flag.BoolVar(&f.quick, "quick", false, "small counts: every workload and contender in about a minute (not for publication)")
	flag.Float64Var(&f.scale, "scale", 1, "multiply every count by this factor")
	flag.StringVar(&f.workloads, "workloads", "default", "comma-separated workloads, default (the published set) or all (see -list)")
	flag.StringVar(&f.contenders, "contenders", "all", "comma-separated contenders (see -list)")
	flag.StringVar(&f.out, "out", "", "write results.json, results.md, chart.svg and profiles.txt into this directory")
	flag.StringVar(&f.jsonOut, "json", "", "write all results as JSON to this file")
	flag.StringVar(&f.mdOut, "md", "", "write the Markdown table to this file")
	flag.StringVar(&f.chartOut, "chart", "", "write the SVG chart to this file")
	flag.StringVar(&f.profOut, "profiles", "", "after the rounds, profile one more (unscored) run per workload for the -profile contenders and write the pprof tops to this file")
	flag.StringVar(&f.profWho, "profile", "wsclient,wsclient-client,best", "contenders profiled for -profiles; \"best\" is the workload's best peer by its headline median")
	flag.StringVar(&f.server, "server", "", "use this running echo server (ws://127.0.0.1:PORT/) instead of building one")
	flag.DurationVar(&f.timeout, "timeout", 3*time.Minute, "limit for one measurement (one child process)")
	flag.BoolVar(&f.list, "list", false, "list workloads and contenders and exit")
	flag.StringVar(&f.heapProf, "heapprofile", "", "idle10k writes a heap profile per contender to this file name prefix (PREFIX.CONTENDER.pprof) while its connections are open")
	flag.StringVar(&f.render, "render", "", "measure nothing: re-render the table (and chart) from this results JSON of an earlier run into -md/-chart (or -out)")
	flag.BoolVar(&f.child, "child", false, "internal: run one workload for one contender and print its result as JSON")
	flag.StringVar(&f.cpuProf, "cpuprofile", "", "internal, with -child: write a CPU profile of the measured section to this file")
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
		for _, w := range workload.All() {
			extra := ""
			if w.Extra {
				extra = " (extra: only when named or with -workloads all)"
			}
			fmt.Printf("workload %-10s %s%s\n", w.Name, w.Describe(scale), extra)
		}
		for _, c := range cs {
			fmt.Printf("contender %-16s %s\n", c.Name, c.Desc)
		}
		return
	}
	if f.rounds < 1 {
		log.Fatal("-rounds must be at least 1")
	}
	if f.out != "" {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			log.Fatal(err)
		}
		set := func(p *string, name string) {
			if *p == "" {
				*p = filepath.Join(f.out, name)
			}
		}
		set(&f.mdOut, "results.md")
		set(&f.chartOut, "chart.svg")
		if f.render == "" {
			set(&f.jsonOut, "results.json")
			set(&f.profOut, "profiles.txt")
		}
	}
	if f.render != "" {
		if err := render(f); err != nil {
			log.Fatal(err)
		}
		return
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
	if f.cpuProf != "" {
		pf, err := os.Create(f.cpuProf)
		if err != nil {
			return err
		}
		defer pf.Close()
		env.Hooks = workload.Hooks{
			Start: func() { _ = pprof.StartCPUProfile(pf) },
			Stop:  pprof.StopCPUProfile,
		}
	}
	res, err := ws[0].Run(ctx, env, scale, 0)
	out := childResult{Result: res}
	if err != nil {
		out.Error = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// rotation returns the contenders in the order of round r (from 1): the
// list rotated left by r-1, so that each contender starts one round in n.
func rotation(cs []contenders.Contender, r int) []contenders.Contender {
	n := len(cs)
	out := make([]contenders.Contender, 0, n)
	for i := range n {
		out = append(out, cs[(i+r-1)%n])
	}
	return out
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
	log.Printf("%s, %d cores, Linux %s, %s; load average %s", res.Meta.CPU, res.Meta.Cores, res.Meta.Kernel, res.Meta.GoVersion, res.Meta.LoadBefore)
	for _, c := range cs {
		res.Contenders = append(res.Contenders, report.Contender{Name: c.Name, Desc: c.Desc})
	}
	start := time.Now()
	for _, w := range ws {
		wstart := time.Now()
		wl := report.Workload{Name: w.Name, Desc: w.Describe(scale), Errors: map[string]string{}, LoadAvg: loadAvg()}
		for _, m := range w.Metrics {
			wl.Metrics = append(wl.Metrics, report.Metric{Key: m.Key, Unit: m.Unit, HigherIsBetter: m.HigherIsBetter})
		}
		head := w.Metrics[0]
		for r := 1; r <= f.rounds; r++ {
			for _, c := range rotation(cs, r) {
				t0 := time.Now()
				out, err := runOne(self, f, url, w.Name, c.Name, "")
				took := time.Since(t0).Round(10 * time.Millisecond)
				if err != nil {
					log.Printf("%-9s round %d/%d %-15s ERROR %v", w.Name, r, f.rounds, c.Name, err)
					wl.Errors[c.Name] = err.Error()
					continue
				}
				wl.Add(c.Name, r, out)
				log.Printf("%-9s round %d/%d %-15s %s %s (%s)", w.Name, r, f.rounds, c.Name, report.Format(out[head.Key]), head.Unit, took)
			}
		}
		if len(wl.Errors) == 0 {
			wl.Errors = nil
		}
		res.Workloads = append(res.Workloads, wl)
		log.Printf("%s took %s (load average %s)", w.Name, time.Since(wstart).Round(time.Second), loadAvg())
	}
	res.Meta.LoadAfter = loadAvg()
	rounds := time.Since(start).Round(time.Second)
	res.Meta.Duration = rounds.String()
	res.Summarize()

	var profiles bytes.Buffer
	if f.profOut != "" {
		pstart := time.Now()
		if err := profileAll(&profiles, self, f, url, res, ws, cs); err != nil {
			return err
		}
		took := time.Since(pstart).Round(time.Second)
		log.Printf("profiles took %s", took)
		res.Meta.Duration = fmt.Sprintf("%s (rounds) + %s (profiles)", rounds, took)
	}
	log.Printf("done in %s", time.Since(start).Round(time.Second))

	if err := writeOutputs(f, res); err != nil {
		return err
	}
	if f.profOut != "" {
		return os.WriteFile(f.profOut, profiles.Bytes(), 0o644)
	}
	return nil
}

// render re-renders the table and chart of an earlier run's JSON.
func render(f flags) error {
	b, err := os.ReadFile(f.render)
	if err != nil {
		return err
	}
	var res report.Results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %v", f.render, err)
	}
	res.Summarize()
	f.jsonOut = ""
	return writeOutputs(f, &res)
}

// writeOutputs prints the table and writes it, the JSON and the chart to
// the files the flags name.
func writeOutputs(f flags, res *report.Results) error {
	var md bytes.Buffer
	md.WriteString(report.Header(res.Meta))
	md.WriteString("\n")
	if err := report.WriteMarkdown(&md, res); err != nil {
		return err
	}
	os.Stdout.Write(md.Bytes())
	write := func(path string, b []byte) error {
		if path == "" {
			return nil
		}
		return os.WriteFile(path, b, 0o644)
	}
	if err := write(f.mdOut, md.Bytes()); err != nil {
		return err
	}
	if f.jsonOut != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := write(f.jsonOut, append(b, '\n')); err != nil {
			return err
		}
	}
	if f.chartOut != "" {
		var svg bytes.Buffer
		if err := report.Chart(&svg, res, strings.Split(report.DefaultChartMetrics, ",")); err != nil {
			return err
		}
		return write(f.chartOut, svg.Bytes())
	}
	return nil
}

// profileAll runs each workload once more per profiled contender with a
// CPU profile of the measured section (a heap profile for idle10k, taken
// while the connections are open) and writes `go tool pprof -top` of each.
// These runs are not part of the results: profiling costs a few percent.
func profileAll(w io.Writer, self string, f flags, url string, res *report.Results, ws []workload.Workload, cs []contenders.Contender) error {
	dir, err := os.MkdirTemp("", "wsbench-prof-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	m := res.Meta
	fmt.Fprintf(w, "# Profiles of the client process (the echo server is a separate process)\n\n")
	fmt.Fprintf(w, "From the same run as results.json: %s, %d cores, Linux %s, %s, %s; load average after the rounds %s.\n",
		m.CPU, m.Cores, m.Kernel, m.GoVersion, m.Date, m.LoadAfter)
	fmt.Fprintf(w, "One extra, unscored run per workload and contender, after the measured rounds, with `-cpuprofile` over the measured section only\n")
	fmt.Fprintf(w, "(idle10k: a heap profile, inuse_space, while the connections are open). Rendered with `go tool pprof -top -nodecount=25`.\n")
	for i, wk := range ws {
		for _, name := range profiled(f.profWho, &res.Workloads[i], cs) {
			var file, prefix string
			if wk.Name == "idle10k" {
				prefix = filepath.Join(dir, wk.Name)
				file = prefix + "." + name + ".pprof"
			} else {
				file = filepath.Join(dir, wk.Name+"."+name+".pprof")
			}
			fo := f
			fo.heapProf = prefix
			cpu := file
			if prefix != "" {
				cpu = "" // the heap profile is written by the workload itself
			}
			if _, err := runOne(self, fo, url, wk.Name, name, cpu); err != nil {
				fmt.Fprintf(w, "\n## %s · %s\n\nprofile run failed: %v\n", wk.Name, name, err)
				continue
			}
			args := []string{"tool", "pprof", "-top", "-nodecount=25"}
			kind := "CPU, measured section"
			if prefix != "" {
				args = append(args, "-sample_index=inuse_space")
				kind = "heap in use with all connections open"
			}
			out, err := exec.Command("go", append(args, file)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("go tool pprof: %v\n%s", err, out)
			}
			fmt.Fprintf(w, "\n## %s · %s (%s)\n\n```\n%s```\n", wk.Name, name, kind, pprofBody(out))
			log.Printf("profiled %s %s", wk.Name, name)
		}
	}
	return nil
}

// pprofBody drops the lines of a pprof report that differ between runs
// without saying anything about the code (file, build ID, time).
func pprofBody(out []byte) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(out), "\n") {
		if strings.HasPrefix(line, "File: ") || strings.HasPrefix(line, "Build ID: ") || strings.HasPrefix(line, "Time: ") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// profiled resolves the -profile list for one workload: names of contenders
// that ran, with "best" replaced by the best peer by the headline median.
func profiled(list string, wl *report.Workload, cs []contenders.Contender) []string {
	ran := map[string]bool{}
	var peers []string
	for _, c := range cs {
		ran[c.Name] = true
		if !strings.HasPrefix(c.Name, report.Ours) {
			peers = append(peers, c.Name)
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "best" {
			if len(wl.Metrics) == 0 {
				continue
			}
			_, who, ok := wl.Best(wl.Metrics[0], peers)
			if !ok {
				continue
			}
			n = who
		}
		if ran[n] && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// runOne measures one workload for one contender in a child process,
// with a CPU profile written to cpuProf when it is not empty.
func runOne(self string, f flags, url, w, c, cpuProf string) (workload.Result, error) {
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
	if cpuProf != "" {
		args = append(args, "-cpuprofile", cpuProf)
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
		Kernel:     kernel(),
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		Rounds:     f.rounds,
		Quick:      f.quick,
		Scale:      f.scale,
		Server:     "cmd/echoserver (github.com/lxzan/gws server), separate process on 127.0.0.1",
		Command:    "go run ./cmd/wsbench " + strings.Join(os.Args[1:], " "),
		Commit:     commit(),
		Interleave: "per workload, round r runs every contender once, starting with the r-th (A B C, B C A, C A B, …); one child process per measurement",
		Syscalls:   syscallMethod,
		LoadBefore: loadAvg(),
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

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// commit describes the wsclient source measured: `git describe` of the
// repository the bench module's replace directive points at.
func commit() string {
	out, err := exec.Command("git", "-C", filepath.Join(serverproc.ModuleDir(), ".."), "describe", "--always", "--dirty", "--abbrev=12").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// cpuModel names the CPU from the first processor of /proc/cpuinfo: the
// model name plus family, model, stepping and clock, because virtual
// machines often report only a generic name ("AMD EPYC").
func cpuModel() string {
	fh, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer fh.Close()
	return parseCPUInfo(io.LimitReader(fh, 1<<20))
}

func parseCPUInfo(r io.Reader) string {
	fields := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" && len(fields) > 0 {
			break // end of the first processor
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	name := fields["model name"]
	if name == "" {
		return "unknown CPU"
	}
	var extra []string
	for _, k := range []string{"cpu family", "model", "stepping"} {
		if v := fields[k]; v != "" {
			extra = append(extra, strings.TrimPrefix(k, "cpu ")+" "+v)
		}
	}
	if mhz := fields["cpu MHz"]; mhz != "" {
		if i := strings.IndexByte(mhz, '.'); i > 0 {
			mhz = mhz[:i]
		}
		extra = append(extra, mhz+" MHz")
	}
	if len(extra) == 0 {
		return name
	}
	return name + " (" + strings.Join(extra, ", ") + ")"
}
