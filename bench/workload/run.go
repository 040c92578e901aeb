package workload

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsclient/wsclient/bench/contenders"
)

// pinger drives sequential round trips on one connection from its reading
// goroutine: each echo triggers the next write, so no goroutine hand-off is
// measured, only the client library and the loopback.
type pinger struct {
	conn    contenders.Conn
	payload []byte
	f       *failer
	// gen publishes the fields below from begin to the reading goroutine
	// (an atomic store/load pair, so the race detector sees the order).
	gen       atomic.Int64
	remaining int
	record    bool
	first     bool          // the next echo is the first of a phase
	wrote     chan struct{} // closed when begin's own write has returned
	sent      time.Time
	lat       []time.Duration
	done      chan struct{}
}

func (p *pinger) begin(k int, record bool) <-chan struct{} {
	p.remaining = k
	p.record = record
	p.lat = p.lat[:0]
	p.done = make(chan struct{})
	p.first = true
	p.wrote = make(chan struct{})
	wrote := p.wrote
	p.sent = time.Now()
	done := p.done
	p.gen.Add(1)
	if err := p.conn.Write(p.payload); err != nil {
		p.f.fail(fmt.Errorf("write: %w", err))
	}
	close(wrote)
	return done
}

func (p *pinger) onMessage(b []byte) {
	p.gen.Load()
	now := time.Now()
	if p.first {
		// Writes must not overlap: the echo can arrive before begin's
		// Write has returned (gorilla panics on that, rightly).
		<-p.wrote
		p.first = false
	}
	if len(b) != len(p.payload) {
		p.f.fail(errShort)
		return
	}
	if p.record {
		p.lat = append(p.lat, now.Sub(p.sent))
	}
	p.remaining--
	if p.remaining == 0 {
		close(p.done)
		return
	}
	p.sent = now
	if err := p.conn.Write(p.payload); err != nil {
		p.f.fail(fmt.Errorf("write: %w", err))
	}
}

func newPinger(f *failer, size, k int) *pinger {
	return &pinger{payload: bytes.Repeat([]byte{'p'}, size), f: f, lat: make([]time.Duration, 0, k)}
}

func sequential(ctx context.Context, env Env, size, n int) (Result, error) {
	f := newFailer()
	var ending atomic.Bool
	p := newPinger(f, size, n)
	c, err := env.Contender.Dial(ctx, env.URL, contenders.Options{MaxMessageSize: maxMessage},
		contenders.Handler{Message: p.onMessage, Closed: closedHandler(f, &ending)})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	defer func() { ending.Store(true); _ = c.Close() }()
	p.conn = c
	if err := wait(ctx, f, p.begin(max(100, n/20), false)); err != nil {
		return nil, err
	}
	m := startMeter(env.Hooks)
	done := p.begin(n, true)
	if err := wait(ctx, f, done); err != nil {
		return nil, err
	}
	m.stop()
	res := m.costs(n)
	res["rt_per_s"] = float64(n) / m.Elapsed.Seconds()
	res["p50_us"] = micros(percentile(p.lat, 0.50))
	res["p99_us"] = micros(percentile(p.lat, 0.99))
	return res, nil
}

// sink checks and counts echoes of a pipelined run on the reading goroutine.
type sink struct {
	f      *failer
	check  func(seq uint64, b []byte) bool
	gen    atomic.Int64 // publishes target and done, as in pinger
	expect uint64
	target uint64
	done   chan struct{}
	win    window
}

// window bounds the messages in flight of a pipelined run (size 0: no
// bound). The writer waits before a message that would put more than size
// echoes outstanding, until half the window has come back, so it waits (and
// is woken) at most once per size/2 messages. Without a bound, the writer
// fills the socket buffers (megabytes on loopback) and the kernel's queue
// regime decides the rate: how many writes it coalesces into one segment,
// zero windows and queue pruning flip between runs (see README, How it
// measures).
type window struct {
	size int
	got  atomic.Uint64 // echoes received (the sink's expect)
	want atomic.Uint64 // the writer waits until got reaches it; 0: not waiting
	wake chan struct{} // the reader's signal to a waiting writer
}

func newWindow(size int) window {
	return window{size: size, wake: make(chan struct{}, 1)}
}

// received records that n echoes have come back, waking the writer when it
// waits for them.
func (w *window) received(n uint64) {
	if w.size == 0 {
		return
	}
	w.got.Store(n)
	if x := w.want.Load(); x != 0 && n >= x && w.want.CompareAndSwap(x, 0) {
		w.wake <- struct{}{}
	}
}

// admit waits until message seq (counted from 0) may be sent, reporting
// false if the run failed meanwhile.
func (w *window) admit(seq uint64, f *failer) bool {
	if w.size == 0 || seq < w.got.Load()+uint64(w.size) {
		return true
	}
	x := seq - uint64(w.size)/2 + 1
	w.want.Store(x)
	if w.got.Load() >= x && w.want.CompareAndSwap(x, 0) {
		return true // it came back meanwhile; the reader will not signal
	}
	select {
	case <-w.wake:
		return true
	case <-f.ch:
		return false
	}
}

func (s *sink) until(target uint64) <-chan struct{} {
	s.target = target
	s.done = make(chan struct{})
	done := s.done
	s.gen.Add(1)
	return done
}

func (s *sink) onMessage(b []byte) {
	s.gen.Load()
	if !s.check(s.expect, b) {
		s.f.fail(fmt.Errorf("echo %d: wrong length or content (got %d bytes)", s.expect, len(b)))
		return
	}
	s.expect++
	s.win.received(s.expect)
	if s.expect == s.target {
		close(s.done)
	}
}

// pipelineRun writes n messages from one writer goroutine while the reading
// goroutine checks the echoes, after a warm-up of warm messages, with at
// most win messages in flight (0: no bound).
func pipelineRun(ctx context.Context, env Env, opt contenders.Options, n, warm, batch, win int,
	payload func(seq uint64) []byte, check func(seq uint64, b []byte) bool) (Result, error) {
	f := newFailer()
	var ending atomic.Bool
	s := &sink{f: f, check: check, win: newWindow(win)}
	c, err := env.Contender.Dial(ctx, env.URL, opt, contenders.Handler{Message: s.onMessage, Closed: closedHandler(f, &ending)})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	defer func() { ending.Store(true); _ = c.Close() }()
	if opt.Compression && !c.Compressed() {
		return nil, errors.New("permessage-deflate was not negotiated")
	}
	var seq uint64
	prev := make(chan struct{})
	close(prev)
	send := func(k int) <-chan struct{} {
		done := s.until(seq + uint64(k))
		start := seq
		seq += uint64(k)
		after, finished := prev, make(chan struct{})
		prev = finished
		go func() {
			defer close(finished)
			<-after // one writer at a time, in order, as the adapters require
			end := start + uint64(k)
			if batch > 1 {
				ps := make([][]byte, 0, batch)
				for i := start; i < end; i += uint64(batch) {
					ps = ps[:0]
					if !s.win.admit(min(i+uint64(batch), end)-1, f) {
						return
					}
					for j := i; j < min(i+uint64(batch), end); j++ {
						ps = append(ps, payload(j))
					}
					if err := contenders.WriteBatch(c, ps); err != nil {
						f.fail(fmt.Errorf("write batch from %d: %w", i, err))
						return
					}
				}
				return
			}
			for i := start; i < end; i++ {
				if !s.win.admit(i, f) {
					return
				}
				if err := c.Write(payload(i)); err != nil {
					f.fail(fmt.Errorf("write %d: %w", i, err))
					return
				}
			}
		}()
		return done
	}
	if err := wait(ctx, f, send(warm)); err != nil {
		return nil, err
	}
	m := startMeter(env.Hooks)
	done := send(n)
	if err := wait(ctx, f, done); err != nil {
		return nil, err
	}
	m.stop()
	res := m.costs(n)
	res["msg_per_s"] = float64(n) / m.Elapsed.Seconds()
	return res, nil
}

// pipeline sends n messages of size bytes from one writer goroutine, with
// at most win in flight (0: no bound); with batch > 1 the writer hands
// batch messages at a time to the contender's batch API
// (contenders.WriteBatch).
func pipeline(ctx context.Context, env Env, size, n, batch, win int) (Result, error) {
	bufs := make([][]byte, max(batch, 1)) // a batch's messages are in flight together
	for i := range bufs {
		bufs[i] = bytes.Repeat([]byte{'b'}, size)
	}
	warm := min(n/10+1, 1000)
	if size >= 1<<20 {
		warm = 2
	}
	return pipelineRun(ctx, env, contenders.Options{MaxMessageSize: maxMessage, MessageSize: size}, n, warm, batch, win,
		func(seq uint64) []byte {
			buf := bufs[seq%uint64(len(bufs))]
			binary.LittleEndian.PutUint64(buf, seq)
			return buf
		},
		func(seq uint64, b []byte) bool {
			return len(b) == size && binary.LittleEndian.Uint64(b) == seq
		})
}

// jsonSet is the set of distinct documents the compression workload cycles
// through.
var jsonSet = JSONMessages(16, 4096)

func compressed(ctx context.Context, env Env, n, win int) (Result, error) {
	k := uint64(len(jsonSet))
	return pipelineRun(ctx, env, contenders.Options{Text: true, Compression: true, MaxMessageSize: maxMessage, MessageSize: 4096},
		n, min(n/10+1, 500), 0, win,
		func(seq uint64) []byte { return jsonSet[seq%k] },
		func(seq uint64, b []byte) bool { return bytes.Equal(b, jsonSet[seq%k]) })
}

func concurrent(ctx context.Context, env Env, conns, k int) (Result, error) {
	f := newFailer()
	var ending atomic.Bool
	ps := make([]*pinger, conns)
	for i := range ps {
		ps[i] = newPinger(f, 64, k)
	}
	cs, err := dialMany(ctx, env, contenders.Options{MaxMessageSize: maxMessage, ManyConns: true},
		func(i int) contenders.Handler {
			return contenders.Handler{Message: ps[i].onMessage, Closed: closedHandler(f, &ending)}
		}, conns, 32)
	if err != nil {
		return nil, err
	}
	defer func() { ending.Store(true); closeAll(cs) }()
	for i, c := range cs {
		ps[i].conn = c
	}
	round := func(k int, record bool) error {
		dones := make([]<-chan struct{}, len(ps))
		for i, p := range ps {
			dones[i] = p.begin(k, record)
		}
		for _, d := range dones {
			if err := wait(ctx, f, d); err != nil {
				return err
			}
		}
		return nil
	}
	if err := round(2, false); err != nil {
		return nil, err
	}
	m := startMeter(env.Hooks)
	if err := round(k, true); err != nil {
		return nil, err
	}
	m.stop()
	var lat []time.Duration
	for _, p := range ps {
		lat = append(lat, p.lat...)
	}
	total := conns * k
	res := m.costs(total)
	res["rt_per_s"] = float64(total) / m.Elapsed.Seconds()
	res["p50_us"] = micros(percentile(lat, 0.50))
	res["p99_us"] = micros(percentile(lat, 0.99))
	return res, nil
}

// memNow returns heap-in-use and stack-in-use bytes after two collections,
// and the number of goroutines.
func memNow() (heap, stack uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
}

func idle(ctx context.Context, env Env, n int) (Result, error) {
	f := newFailer()
	var ending atomic.Bool
	var got atomic.Int64
	done := make(chan struct{})
	h := contenders.Handler{
		Message: func(p []byte) {
			if len(p) != 16 {
				f.fail(errShort)
			}
			if got.Add(1) == int64(n) {
				close(done)
			}
		},
		Closed: closedHandler(f, &ending),
	}
	env.Hooks.start()
	heap0, stack0, g0 := memNow()
	cs, err := dialMany(ctx, env, contenders.Options{MaxMessageSize: maxMessage, ManyConns: true},
		func(int) contenders.Handler { return h }, n, 32)
	if err != nil {
		return nil, err
	}
	defer func() { ending.Store(true); closeAll(cs) }()
	time.Sleep(300 * time.Millisecond) // let reading goroutines park
	heap1, stack1, g1 := memNow()
	env.Hooks.stop()
	if env.HeapProfile != "" {
		if err := writeHeapProfile(env.HeapProfile); err != nil {
			return nil, err
		}
	}
	// Prove every connection is alive: one echo on each.
	msg := make([]byte, 16)
	for _, c := range cs {
		if err := c.Write(msg); err != nil {
			return nil, fmt.Errorf("write on idle connection: %w", err)
		}
	}
	if err := wait(ctx, f, done); err != nil {
		return nil, err
	}
	return Result{
		"bytes_per_conn":       (float64(heap1+stack1) - float64(heap0+stack0)) / float64(n),
		"heap_bytes_per_conn":  (float64(heap1) - float64(heap0)) / float64(n),
		"stack_bytes_per_conn": (float64(stack1) - float64(stack0)) / float64(n),
		"goroutines_per_conn":  float64(g1-g0) / float64(n),
	}, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func handshakes(ctx context.Context, env Env, n int) (Result, error) {
	h := contenders.Handler{Message: func([]byte) {}, Closed: func(error) {}}
	opt := contenders.Options{MaxMessageSize: maxMessage}
	one := func() error {
		c, err := env.Contender.Dial(ctx, env.URL, opt, h)
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		_ = c.Close() // a close error after a completed dial is not a handshake failure
		return nil
	}
	for range 20 {
		if err := one(); err != nil {
			return nil, err
		}
	}
	m := startMeter(env.Hooks)
	for range n {
		if err := one(); err != nil {
			return nil, err
		}
	}
	m.stop()
	res := m.costs(n)
	res["hs_per_s"] = float64(n) / m.Elapsed.Seconds()
	return res, nil
}

// multiSink checks the echoes of several concurrent writers: each message
// carries its writer in the top byte of its first eight bytes and that
// writer's sequence number below, and each writer's echoes must arrive in
// order (WebSocket keeps the order of one writer's messages; writers
// interleave freely).
type multiSink struct {
	f      *failer
	size   int
	next   []uint64
	gen    atomic.Int64 // publishes target and done, as in pinger
	got    uint64
	target uint64
	done   chan struct{}
}

func (s *multiSink) until(target uint64) <-chan struct{} {
	s.target = target
	s.done = make(chan struct{})
	done := s.done
	s.gen.Add(1)
	return done
}

func (s *multiSink) onMessage(b []byte) {
	s.gen.Load()
	if len(b) != s.size {
		s.f.fail(fmt.Errorf("echo %d: %d bytes, want %d", s.got, len(b), s.size))
		return
	}
	tag := binary.LittleEndian.Uint64(b)
	w, seq := int(tag>>56), tag&(1<<56-1)
	if w >= len(s.next) || seq != s.next[w] {
		s.f.fail(fmt.Errorf("echo %d: writer %d message %d out of order", s.got, w, seq))
		return
	}
	s.next[w]++
	s.got++
	if s.got == s.target {
		close(s.done)
	}
}

// pipelineConcurrent is pipelined size-byte messages from several writer
// goroutines sharing one connection: n messages in all, n/writers each,
// after a warm-up. A library that lets a writer hand its frame to the one
// holding the write lock, so that one write carries several frames, shows
// it here in write syscalls per message.
func pipelineConcurrent(ctx context.Context, env Env, size, writers, n int) (Result, error) {
	f := newFailer()
	var ending atomic.Bool
	s := &multiSink{f: f, size: size, next: make([]uint64, writers)}
	opt := contenders.Options{MaxMessageSize: maxMessage, MessageSize: size, ConcurrentWrites: true}
	c, err := env.Contender.Dial(ctx, env.URL, opt, contenders.Handler{Message: s.onMessage, Closed: closedHandler(f, &ending)})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	defer func() { ending.Store(true); _ = c.Close() }()
	bufs := make([][]byte, writers)
	sent := make([]uint64, writers)
	for w := range bufs {
		bufs[w] = bytes.Repeat([]byte{'c'}, size)
	}
	var total uint64
	// send has every writer send k messages concurrently and returns when
	// all echoes are in (or the run failed).
	send := func(k int) error {
		total += uint64(k * writers)
		done := s.until(total)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range k {
					binary.LittleEndian.PutUint64(bufs[w], uint64(w)<<56|sent[w])
					sent[w]++
					if err := c.Write(bufs[w]); err != nil {
						f.fail(fmt.Errorf("writer %d: %w", w, err))
						return
					}
				}
			}()
		}
		err := wait(ctx, f, done)
		if err != nil {
			ending.Store(true)
			_ = c.Close() // unblocks writers stuck on a connection that is failing
		}
		wg.Wait()
		return err
	}
	per := max(1, n/writers)
	if err := send(min(per/10+1, 250)); err != nil {
		return nil, err
	}
	m := startMeter(env.Hooks)
	if err := send(per); err != nil {
		return nil, err
	}
	m.stop()
	res := m.costs(per * writers)
	res["msg_per_s"] = float64(per*writers) / m.Elapsed.Seconds()
	return res, nil
}
