// Package workload defines the benchmark workloads and runs one of them
// against one contender, returning its metrics. The same code serves the
// wsbench runner (one workload per child process) and the go test
// benchmarks.
package workload

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wsclient/wsclient/bench/contenders"
)

// Metric describes one measured quantity of a workload.
type Metric struct {
	// Key names the metric in results.
	Key string
	// Unit is shown in tables, e.g. "msg/s".
	Unit string
	// HigherIsBetter orders contenders: true for rates, false for costs.
	HigherIsBetter bool
}

// Result maps metric keys to values for one run.
type Result map[string]float64

// Scale sets the sizes of a run.
type Scale struct {
	// Quick selects small counts so that all workloads of all contenders
	// finish in well under a minute.
	Quick bool
	// Factor multiplies every count (0 means 1).
	Factor float64
}

func (s Scale) n(full, quick int) int {
	n := full
	if s.Quick {
		n = quick
	}
	f := s.Factor
	if f <= 0 {
		f = 1
	}
	return max(1, int(math.Round(float64(n)*f)))
}

// Env is what a workload run needs.
type Env struct {
	// URL of the echo server.
	URL string
	// Contender under test.
	Contender contenders.Contender
	// Hooks bracket the measured section (optional).
	Hooks Hooks
	// HeapProfile, if set, is a file the idle workload writes a heap
	// profile to while all its connections are open (go tool pprof
	// -sample_index=inuse_space shows what each idle connection holds).
	HeapProfile string
}

// Workload is one benchmark workload.
type Workload struct {
	// Name is the short name used in flags and tables.
	Name string
	// Metrics lists what Run reports; the first is the headline metric.
	Metrics []Metric
	// Describe says what the run does at scale s.
	Describe func(s Scale) string
	// Run measures the workload; n overrides the scaled count when > 0
	// (the go test benchmarks pass b.N).
	Run func(ctx context.Context, env Env, s Scale, n int) (Result, error)
	// Extra workloads run only when named (or with "all"); the default set
	// is what the published table shows and what fits the time budget.
	Extra bool
}

const maxMessage = 64 << 20

// costs returns the cost metrics every measured workload reports, per unit
// ("msg", "round trip", "handshake").
func costs(unit string) []Metric {
	return []Metric{
		{"cpu_us_per_msg", "µs CPU/" + unit, false},
		{"allocs_per_msg", "allocs/" + unit, false},
		{"reads_per_msg", "read syscalls/" + unit, false},
		{"writes_per_msg", "write syscalls/" + unit, false},
		{"waits_per_msg", "blocking waits/" + unit, false},
	}
}

func metrics(head []Metric, unit string) []Metric { return append(head, costs(unit)...) }

// All returns every workload, default and extra, in table order.
func All() []Workload {
	return []Workload{
		{
			Name: "seq64",
			Metrics: metrics([]Metric{{"rt_per_s", "round trips/s", true}, {"p50_us", "p50 µs", false},
				{"p99_us", "p99 µs", false}}, "round trip"),
			Describe: func(s Scale) string {
				return fmt.Sprintf("one connection, %d sequential round trips of 64 B binary (request/response)", s.n(50000, 3000))
			},
			Run: func(ctx context.Context, env Env, s Scale, n int) (Result, error) {
				return sequential(ctx, env, 64, pick(n, s.n(50000, 3000)))
			},
		},
		pipelined("pipe64", 64, 260000, 20000, 256, "msg_per_s", "msg/s"),
		pipelined("pipe4k", 4096, 95000, 8000, 64, "msg_per_s", "msg/s"),
		{
			Name:    "pipe64x4",
			Metrics: metrics([]Metric{{"msg_per_s", "msg/s", true}}, "msg"),
			Describe: func(s Scale) string {
				return fmt.Sprintf("one connection, four writer goroutines sending %d binary 64 B messages in all, concurrently, while the reader takes the echoes", s.n(400000, 20000))
			},
			Run: func(ctx context.Context, env Env, s Scale, n int) (Result, error) {
				return pipelineConcurrent(ctx, env, 64, 4, pick(n, s.n(400000, 20000)))
			},
			Extra: true,
		},
		{
			Name:    "pipe64x64",
			Metrics: metrics([]Metric{{"msg_per_s", "msg/s", true}}, "msg"),
			Describe: func(s Scale) string {
				return fmt.Sprintf("one connection, 64 writer goroutines sending %d binary 64 B messages in all, concurrently (many producers, one connection), while the reader takes the echoes", s.n(256000, 12800))
			},
			Run: func(ctx context.Context, env Env, s Scale, n int) (Result, error) {
				return pipelineConcurrent(ctx, env, 64, 64, pick(n, s.n(256000, 12800)))
			},
		},
		extra(pipelinedBatch("pipe64batch", 64, 400000, 20000, 64, 256, "msg_per_s", "msg/s")),
		extra(pipelined("msg1m", 1<<20, 300, 20, 0, "mb_per_s", "MB/s")),
		pipelined("msg16m", 16<<20, 20, 3, 0, "mb_per_s", "MB/s"),
		{
			Name: "conc1000",
			Metrics: metrics([]Metric{{"rt_per_s", "round trips/s", true}, {"p50_us", "p50 µs", false},
				{"p99_us", "p99 µs", false}}, "round trip"),
			Describe: func(s Scale) string {
				return fmt.Sprintf("%d connections at once, each doing %d sequential 64 B round trips", s.n(1000, 200), 100)
			},
			Run: func(ctx context.Context, env Env, s Scale, n int) (Result, error) {
				return concurrent(ctx, env, s.n(1000, 200), pick(n, 100))
			},
		},
		{
			Name: "idle10k",
			Metrics: []Metric{{"bytes_per_conn", "heap+stack B/conn", false},
				{"heap_bytes_per_conn", "heap B/conn", false}, {"stack_bytes_per_conn", "stack B/conn", false},
				{"goroutines_per_conn", "goroutines/conn", false}},
			Describe: func(s Scale) string {
				return fmt.Sprintf("%d open idle connections (then one echo on each to prove them alive)", s.n(10000, 1000))
			},
			Run: func(ctx context.Context, env Env, s Scale, n int) (Result, error) {
				return idle(ctx, env, pick(n, s.n(10000, 1000)))
			},
		},
		{
			Name:    "handshake",
			Metrics: metrics([]Metric{{"hs_per_s", "handshakes/s", true}}, "handshake"),
			Describe: func(s Scale) string {
				return fmt.Sprintf("%d sequential dials (TCP + upgrade), each closed at once", s.n(3000, 300))
			},
			Run: func(ctx context.Context, env Env, s Scale, n int) (Result, error) {
				return handshakes(ctx, env, pick(n, s.n(3000, 300)))
			},
		},
		{
			Name:    "deflate4k",
			Metrics: metrics([]Metric{{"msg_per_s", "msg/s", true}}, "msg"),
			Describe: func(s Scale) string {
				return fmt.Sprintf("one connection, %d pipelined 4 KiB JSON text messages, at most %d in flight, permessage-deflate (no context takeover) both ways", s.n(20000, 3000), deflateWindow)
			},
			Run: func(ctx context.Context, env Env, s Scale, n int) (Result, error) {
				return compressed(ctx, env, pick(n, s.n(20000, 3000)), deflateWindow)
			},
		},
	}
}

// deflateWindow bounds deflate4k's messages in flight as pipe4k's are
// bounded: without it the queue regime made its samples bimodal too
// (one contender 12,000-19,000 msg/s within a run).
const deflateWindow = 64

func extra(w Workload) Workload { w.Extra = true; return w }

// Select returns the workloads named in the comma-separated list; "" or
// "default" is the default set, "all" adds the extra workloads.
func Select(list string) ([]Workload, error) {
	all := All()
	switch list {
	case "all":
		return all, nil
	case "", "default":
		var out []Workload
		for _, w := range all {
			if !w.Extra {
				out = append(out, w)
			}
		}
		return out, nil
	}
	var out []Workload
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		var found bool
		for _, w := range all {
			if w.Name == name {
				out = append(out, w)
				found = true
			}
		}
		if !found {
			var have []string
			for _, w := range all {
				have = append(have, w.Name)
			}
			return nil, fmt.Errorf("unknown workload %q (have %s)", name, strings.Join(have, ", "))
		}
	}
	return out, nil
}

func pick(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// pipelined is one writer goroutine sending size-byte messages with at
// most win in flight (0: no bound) while the reader takes the echoes.
func pipelined(name string, size, full, quick, win int, rateKey, rateUnit string) Workload {
	return pipelinedBatch(name, size, full, quick, 0, win, rateKey, rateUnit)
}

// pipelinedBatch is pipelined with the writer handing batch messages at a
// time to the contender's batch API (batch > 1); a window holds at least
// two batches.
func pipelinedBatch(name string, size, full, quick, batch, win int, rateKey, rateUnit string) Workload {
	how := "sending"
	if batch > 1 {
		how = fmt.Sprintf("handing %d at a time to the library's batch API,", batch)
		if win > 0 {
			win = max(win, 2*batch)
		}
	}
	bound := ""
	if win > 0 {
		bound = fmt.Sprintf(", at most %d in flight,", win)
	}
	return Workload{
		Name:    name,
		Metrics: metrics([]Metric{{rateKey, rateUnit, true}}, "msg"),
		Describe: func(s Scale) string {
			return fmt.Sprintf("one connection, one writer goroutine %s %d binary messages of %s%s while the reader takes the echoes", how, s.n(full, quick), sizeName(size), bound)
		},
		Run: func(ctx context.Context, env Env, s Scale, n int) (Result, error) {
			n = pick(n, s.n(full, quick))
			r, err := pipeline(ctx, env, size, n, batch, win)
			if err != nil {
				return nil, err
			}
			if rateKey == "mb_per_s" {
				r["mb_per_s"] = r["msg_per_s"] * float64(size) / 1e6
				delete(r, "msg_per_s")
			}
			return r, nil
		},
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// failer records the first error of a run.
type failer struct {
	once sync.Once
	ch   chan struct{}
	err  error
}

func newFailer() *failer { return &failer{ch: make(chan struct{})} }

func (f *failer) fail(err error) {
	f.once.Do(func() { f.err = err; close(f.ch) })
}

// closedHandler returns a Closed callback that fails the run unless the run
// is over (ending is set) when the connection goes away.
func closedHandler(f *failer, ending *atomic.Bool) func(error) {
	return func(err error) {
		if !ending.Load() {
			f.fail(fmt.Errorf("connection lost: %w", err))
		}
	}
}

// wait blocks until done is closed, the run fails or ctx ends.
func wait(ctx context.Context, f *failer, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-f.ch:
		return f.err
	case <-ctx.Done():
		return fmt.Errorf("timed out: %w", ctx.Err())
	}
}

// dialMany opens n connections with at most par dials in flight.
func dialMany(ctx context.Context, env Env, opt contenders.Options, h func(i int) contenders.Handler, n, par int) ([]contenders.Conn, error) {
	conns := make([]contenders.Conn, n)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     atomic.Int64
	)
	for range min(par, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := env.Contender.Dial(ctx, env.URL, opt, h(i))
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("dial %d: %w", i, err)
					}
					mu.Unlock()
					next.Store(int64(n))
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		closeAll(conns)
		return nil, firstErr
	}
	return conns, nil
}

// closeAll closes every non-nil connection, a few at a time.
func closeAll(conns []contenders.Conn) {
	var wg sync.WaitGroup
	ch := make(chan contenders.Conn)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range ch {
				_ = c.Close()
			}
		}()
	}
	for _, c := range conns {
		if c != nil {
			ch <- c
		}
	}
	close(ch)
	wg.Wait()
}

var errShort = errors.New("echo has the wrong length")
