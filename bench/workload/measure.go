package workload

import (
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Hooks lets a caller bracket the measured section of a workload; the
// go test benchmarks use them to reset and stop the benchmark timer so that
// dialing and warm-up are not counted.
type Hooks struct {
	Start func()
	Stop  func()
}

func (h Hooks) start() {
	if h.Start != nil {
		h.Start()
	}
}

func (h Hooks) stop() {
	if h.Stop != nil {
		h.Stop()
	}
}

// cpuTime returns this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// meter measures wall time, process CPU time and heap allocations over the
// measured section of a workload.
type meter struct {
	hooks   Hooks
	t0      time.Time
	cpu0    time.Duration
	mallocs uint64
	sys0    int64

	Elapsed time.Duration
	CPU     time.Duration
	Allocs  uint64
	// Syscalls counts the process's read and write system calls (syscr +
	// syscw of /proc/self/io); -1 where that file is unavailable.
	Syscalls int64
}

// ioSyscalls returns syscr + syscw from /proc/self/io, or -1.
func ioSyscalls() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	var sum int64
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "syscr" && k != "syscw") {
			continue
		}
		x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return -1
		}
		sum += x
		found++
	}
	if found != 2 {
		return -1
	}
	return sum
}

func startMeter(h Hooks) *meter {
	runtime.GC()
	m := &meter{hooks: h}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.mallocs = ms.Mallocs
	h.start()
	m.sys0 = ioSyscalls()
	m.cpu0 = cpuTime()
	m.t0 = time.Now()
	return m
}

func (m *meter) stop() {
	m.Elapsed = time.Since(m.t0)
	m.CPU = cpuTime() - m.cpu0
	m.Syscalls = -1
	if s := ioSyscalls(); s >= 0 && m.sys0 >= 0 {
		m.Syscalls = s - m.sys0
	}
	m.hooks.stop()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.Allocs = ms.Mallocs - m.mallocs
}

// percentile returns the q-quantile (0..1) of d, sorting d in place.
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(q*float64(len(d)-1) + 0.5)
	return d[min(i, len(d)-1)]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
