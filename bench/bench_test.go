package bench_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/bench/contenders"
	"github.com/wsclient/wsclient/bench/internal/rlimit"
	"github.com/wsclient/wsclient/bench/internal/serverproc"
	"github.com/wsclient/wsclient/bench/workload"
	"go.uber.org/goleak"
)

// serverURL is the echo server that TestMain builds and starts.
var serverURL string

func TestMain(m *testing.M) {
	if _, err := rlimit.RaiseNoFile(); err != nil {
		fmt.Fprintln(os.Stderr, "raise RLIMIT_NOFILE:", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	srv, stop, err := serverproc.BuildAndStart(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverURL = srv.URL
	code := m.Run()
	stop()
	if code == 0 {
		// Every adapter's Close must end its goroutines, and no workload
		// may leave one behind.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func workloadByName(t testing.TB, name string) workload.Workload {
	ws, err := workload.Select(name)
	if err != nil {
		t.Fatal(err)
	}
	return ws[0]
}

// TestWorkloadsPerContender runs every workload (default and extra) at a
// tiny scale for every
// contender. The workloads check each echo (length, sequence number or full
// content), that compression was negotiated where asked, and that every idle
// connection still echoes; here we also check the reported metrics.
func TestWorkloadsPerContender(t *testing.T) {
	scale := workload.Scale{Quick: true, Factor: 0.25}
	for _, c := range contenders.All() {
		t.Run(c.Name, func(t *testing.T) {
			for _, w := range workload.All() {
				if w.Name == "msg16m" && testing.Short() {
					continue
				}
				t.Run(w.Name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
					defer cancel()
					res, err := w.Run(ctx, workload.Env{URL: serverURL, Contender: c}, scale, 0)
					if err != nil {
						t.Fatal(err)
					}
					for _, m := range w.Metrics {
						v, ok := res[m.Key]
						// The heap/stack split of idle memory can dip below
						// zero at this tiny scale (spans freed meanwhile);
						// their sum is checked below.
						split := m.Key == "heap_bytes_per_conn" || m.Key == "stack_bytes_per_conn"
						if !ok || math.IsNaN(v) || math.IsInf(v, 0) || (v < 0 && !split) {
							t.Errorf("metric %s = %v (present %v)", m.Key, v, ok)
						}
						if m.HigherIsBetter && v <= 0 {
							t.Errorf("rate %s = %v, want > 0", m.Key, v)
						}
					}
					// The peer adapters write a 16 MiB message with one Write, not
					// in 64 KiB (or 4 KiB) pieces; the kernel may still take it
					// in a few partial writes. coder has no knob (its writes go
					// through a 4 KiB bufio.Writer), and wsclient's own
					// behaviour is what the benchmark measures, not a test.
					if w.Name == "msg16m" && (c.Name == "gorilla" || c.Name == "gws" || c.Name == "gobwas") {
						if wr := res["writes_per_msg"]; wr > 64 {
							t.Errorf("%.0f write syscalls per 16 MiB message, want one Write (a few partial writes at most)", wr)
						}
					}
					// A batch API sends a batch of 64 small messages in
					// one write (or a few).
					if w.Name == "pipe64batch" && (c.Name == "wsclient" || c.Name == "gobwas") {
						if wr := res["writes_per_msg"]; wr > 0.25 {
							t.Errorf("%.2f write syscalls per message through the batch API, want a few per batch of 64", wr)
						}
					}
					if w.Name == "idle10k" {
						if res["bytes_per_conn"] <= 0 {
							t.Errorf("bytes per idle connection = %v, want > 0", res["bytes_per_conn"])
						}
						if g := res["goroutines_per_conn"]; g < 0.9 {
							t.Errorf("goroutines per connection = %v, want ≥ 1 (someone must read)", g)
						}
					}
				})
			}
		})
	}
}

// TestCloseLeavesNoGoroutines checks that each adapter's Close really waits
// for its reading goroutine, which the idle-connection numbers rely on.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	for _, c := range contenders.All() {
		t.Run(c.Name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var conns []contenders.Conn
			for range 20 {
				conn, err := c.Dial(ctx, serverURL, contenders.Options{}, contenders.Handler{Message: func([]byte) {}})
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, conn)
			}
			open := runtime.NumGoroutine()
			for _, conn := range conns {
				_ = conn.Close()
			}
			// Wait for the readers to end: down to before, or lower
			// when a goroutine counted in before (the previous subtest's
			// runner, still finishing) has ended meanwhile, so that one
			// reader still on its way out is not taken for a missing one.
			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > min(before, open-len(conns)) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond) // a bounded poll: nothing signals a goroutine's exit
			}
			g := runtime.NumGoroutine()
			if g > before {
				buf := make([]byte, 1<<16)
				t.Errorf("%d goroutines after Close, had %d before:\n%s", g, before, buf[:runtime.Stack(buf, true)])
			}
			if open-g < 20 {
				t.Errorf("%d goroutines with 20 connections open, %d after closing them: want at least one reader per connection", open, g)
			}
		})
	}
}

func unit(key string) string { return strings.ReplaceAll(key, "_per_", "/") }

// benchWorkload runs one workload with b.N as its count for every
// contender, timing only the measured section.
func benchWorkload(b *testing.B, name string, fixedN int) {
	w := workloadByName(b, name)
	for _, c := range contenders.All() {
		b.Run(c.Name, func(b *testing.B) {
			b.ReportAllocs()
			n := b.N
			if fixedN > 0 {
				n = fixedN
			}
			ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
			defer cancel()
			env := workload.Env{URL: serverURL, Contender: c, Hooks: workload.Hooks{Start: b.ResetTimer, Stop: b.StopTimer}}
			res, err := w.Run(ctx, env, workload.Scale{}, n)
			if err != nil {
				b.Fatal(err)
			}
			for _, m := range w.Metrics {
				if m.Key == "allocs_per_msg" {
					continue // b.ReportAllocs reports allocs/op
				}
				b.ReportMetric(res[m.Key], unit(m.Key))
			}
		})
	}
}

// BenchmarkSeq64 is sequential 64 B round trips; one op is one round trip.
func BenchmarkSeq64(b *testing.B) { benchWorkload(b, "seq64", 0) }

// BenchmarkPipe64 is pipelined 64 B messages; one op is one echoed message.
func BenchmarkPipe64(b *testing.B) { benchWorkload(b, "pipe64", 0) }

// BenchmarkPipe4K is pipelined 4 KiB messages.
func BenchmarkPipe4K(b *testing.B) { benchWorkload(b, "pipe4k", 0) }

// BenchmarkPipe64x4 is pipelined 64 B messages from four concurrent
// writers on one connection; one op is one echoed message.
func BenchmarkPipe64x4(b *testing.B) { benchWorkload(b, "pipe64x4", 0) }

// BenchmarkPipe64x64 is pipelined 64 B messages from 64 concurrent
// writers on one connection (many producers); one op is one echoed message.
func BenchmarkPipe64x64(b *testing.B) { benchWorkload(b, "pipe64x64", 0) }

// BenchmarkPipe64Batch is pipelined 64 B messages handed 64 at a time to
// each library's batch API; one op is one echoed message.
func BenchmarkPipe64Batch(b *testing.B) { benchWorkload(b, "pipe64batch", 0) }

// BenchmarkMsg16M is pipelined 16 MiB messages.
func BenchmarkMsg16M(b *testing.B) { benchWorkload(b, "msg16m", 0) }

// BenchmarkConc1000 is 1,000 connections each doing b.N round trips.
func BenchmarkConc1000(b *testing.B) { benchWorkload(b, "conc1000", 0) }

// BenchmarkDeflate4K is pipelined 4 KiB JSON text with permessage-deflate.
func BenchmarkDeflate4K(b *testing.B) { benchWorkload(b, "deflate4k", 0) }

// BenchmarkHandshake is dial + close; one op is one handshake.
func BenchmarkHandshake(b *testing.B) { benchWorkload(b, "handshake", 0) }

// BenchmarkIdle1000 holds 1,000 idle connections per op and reports heap +
// stack bytes and goroutines per connection.
func BenchmarkIdle1000(b *testing.B) { benchWorkload(b, "idle10k", 1000) }
