package workload

import (
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
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

// usage returns this process's user+system CPU time and its voluntary
// context switches so far (getrusage(RUSAGE_SELF): every thread, including
// threads that have exited).
func usage() (cpu time.Duration, vcsw int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Nvcsw
}

// meter measures wall time, process CPU time, heap allocations, read and
// write system calls and voluntary context switches over the measured
// section of a workload. The process is the client alone: the echo server
// runs in another one.
type meter struct {
	hooks   Hooks
	t0      time.Time
	cpu0    time.Duration
	vcsw0   int64
	mallocs uint64
	io0     ioCount

	Elapsed time.Duration
	CPU     time.Duration
	Allocs  uint64
	// Reads and Writes count the process's read- and write-family system
	// calls (syscr and syscw of /proc/self/io, less what reading that file
	// costs); -1 where the file is unavailable.
	Reads, Writes int64
	// Waits counts voluntary context switches: how often a thread of the
	// process blocked (in epoll_wait, futex, a blocking read …) and had to
	// be woken; -1 if unavailable.
	Waits int64
}

// ioCount is syscr and syscw of /proc/self/io.
type ioCount struct {
	r, w int64
	ok   bool
}

// readIO reads /proc/self/io.
func readIO() ioCount {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return ioCount{}
	}
	var c ioCount
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "syscr" && k != "syscw") {
			continue
		}
		x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return ioCount{}
		}
		if k == "syscr" {
			c.r = x
		} else {
			c.w = x
		}
		found++
	}
	c.ok = found == 2
	return c
}

// ioOverhead is what one readIO call itself adds to syscr and syscw (the
// read calls of os.ReadFile), measured once and subtracted from deltas.
var ioOverhead = sync.OnceValue(func() ioCount {
	a := readIO()
	b := readIO()
	return ioCount{r: b.r - a.r, w: b.w - a.w, ok: a.ok && b.ok}
})

func startMeter(h Hooks) *meter {
	runtime.GC()
	m := &meter{hooks: h}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.mallocs = ms.Mallocs
	ioOverhead()
	h.start()
	m.io0 = readIO()
	m.cpu0, m.vcsw0 = usage()
	m.t0 = time.Now()
	return m
}

func (m *meter) stop() {
	m.Elapsed = time.Since(m.t0)
	cpu, vcsw := usage()
	io1 := readIO()
	m.CPU = cpu - m.cpu0
	m.Waits = -1
	if vcsw >= 0 && m.vcsw0 >= 0 {
		m.Waits = vcsw - m.vcsw0
	}
	m.Reads, m.Writes = -1, -1
	if ov := ioOverhead(); m.io0.ok && io1.ok && ov.ok {
		m.Reads = max(0, io1.r-m.io0.r-ov.r)
		m.Writes = max(0, io1.w-m.io0.w-ov.w)
	}
	m.hooks.stop()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.Allocs = ms.Mallocs - m.mallocs
}

// costs returns the per-unit costs every measured workload reports: CPU,
// allocations, read and write system calls and blocking waits per message
// (or round trip, or handshake) for n units.
func (m *meter) costs(n int) Result {
	return Result{
		"cpu_us_per_msg": micros(m.CPU) / float64(n),
		"allocs_per_msg": float64(m.Allocs) / float64(n),
		"reads_per_msg":  perMsg(m.Reads, n),
		"writes_per_msg": perMsg(m.Writes, n),
		"waits_per_msg":  perMsg(m.Waits, n),
	}
}

// perMsg divides a count by n; a count of -1 (unavailable) gives -1.
func perMsg(count int64, n int) float64 {
	if count < 0 {
		return -1
	}
	return float64(count) / float64(n)
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
