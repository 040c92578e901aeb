package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsclient/wsclient"
)

// result is one mode's measurements (in the child process).
type result struct {
	Proxy            string        `json:"proxy"`
	Mode             string        `json:"mode"`
	TCPConns         int64         `json:"tcp_conns"`
	OpenAll          time.Duration `json:"open_all_ns"`
	ClientBytesPerWS int64         `json:"client_bytes_per_ws"` // live heap + stacks after GC
	GoroutinesPerWS  float64       `json:"goroutines_per_ws"`
	ClientFDsPerWS   float64       `json:"client_fds_per_ws"`
	ProxyBytesPerWS  int64         `json:"proxy_rss_bytes_per_ws"`
	ProxyFDsPerWS    float64       `json:"proxy_fds_per_ws"`
	RoundTripsPerSec float64       `json:"round_trips_per_sec"`
	LoadedP50        time.Duration `json:"loaded_p50_ns"`
	LoadedP99        time.Duration `json:"loaded_p99_ns"`
	AloneP50         time.Duration `json:"alone_p50_ns"`
	AloneP99         time.Duration `json:"alone_p99_ns"`
	CloseAll         time.Duration `json:"close_all_ns"`
}

// snapshot is the client's and proxy's resource use at one moment.
type snapshot struct {
	mem        int64
	goroutines int
	fds        int
	proxyRSS   int64
	proxyFDs   int
}

func take(pid int) snapshot {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := snapshot{
		mem:        int64(ms.HeapAlloc + ms.StackInuse),
		goroutines: runtime.NumGoroutine(),
		fds:        countFDs("/proc/self/fd"),
	}
	if pid > 0 {
		s.proxyRSS, s.proxyFDs = procUsage(pid)
	}
	return s
}

func measure(c config) (result, error) {
	r := result{Mode: c.mode}
	pem, err := os.ReadFile(c.certFile)
	if err != nil {
		return r, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return r, errors.New("bad certificate file")
	}
	var tcp atomic.Int64
	d := &wsclient.Dialer{
		Proxy:            wsclient.NoProxy,
		TLSConfig:        &tls.Config{RootCAs: pool},
		HandshakeTimeout: 2 * time.Minute,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			tcp.Add(1)
			var nd net.Dialer
			return nd.DialContext(ctx, network, addr)
		},
	}
	if c.mode == "h2" {
		d.HTTP2 = wsclient.HTTP2Only
	}
	ctx := context.Background()
	before := take(c.proxyPID)

	conns := make([]*wsclient.Conn, c.n)
	sem := make(chan struct{}, c.conc)
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	start := time.Now()
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			conn, err := wsclient.Dial(ctx, c.url, d)
			if err != nil {
				firstErr.CompareAndSwap(nil, &err)
				return
			}
			if h2 := conn.Info().HTTP2; (c.mode == "h2") != h2 {
				err := fmt.Errorf("mode %s got HTTP/2 %v", c.mode, h2)
				firstErr.CompareAndSwap(nil, &err)
			}
			conns[i] = conn
		})
	}
	wg.Wait()
	r.OpenAll = time.Since(start)
	defer func() {
		for _, conn := range conns {
			if conn != nil {
				conn.CloseNow()
			}
		}
	}()
	if p := firstErr.Load(); p != nil {
		return r, *p
	}
	r.TCPConns = tcp.Load()

	after := take(c.proxyPID)
	n := float64(c.n)
	r.ClientBytesPerWS = (after.mem - before.mem) / int64(c.n)
	r.GoroutinesPerWS = float64(after.goroutines-before.goroutines) / n
	r.ClientFDsPerWS = float64(after.fds-before.fds) / n
	r.ProxyBytesPerWS = (after.proxyRSS - before.proxyRSS) / int64(c.n)
	r.ProxyFDsPerWS = float64(after.proxyFDs-before.proxyFDs) / n

	// One WebSocket alone, the others idle.
	msg := bytes.Repeat([]byte("x"), c.size)
	alone, err := roundTrips(ctx, conns[:1], msg, min(c.duration, 2*time.Second))
	if err != nil {
		return r, err
	}
	r.AloneP50, r.AloneP99 = percentile(alone.lat, 0.50), percentile(alone.lat, 0.99)

	// All of them at once.
	all, err := roundTrips(ctx, conns, msg, c.duration)
	if err != nil {
		return r, err
	}
	r.RoundTripsPerSec = float64(all.count) / all.elapsed.Seconds()
	r.LoadedP50, r.LoadedP99 = percentile(all.lat, 0.50), percentile(all.lat, 0.99)

	start = time.Now()
	for _, conn := range conns {
		wg.Go(func() { conn.Close(wsclient.CloseNormalClosure, "") })
	}
	wg.Wait()
	r.CloseAll = time.Since(start)
	return r, nil
}

type rtResult struct {
	count   int
	elapsed time.Duration
	lat     []time.Duration
}

// roundTrips has every conn echo msg back to back for d.
func roundTrips(ctx context.Context, conns []*wsclient.Conn, msg []byte, d time.Duration) (rtResult, error) {
	var res rtResult
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	stop := time.Now().Add(d)
	start := time.Now()
	for _, conn := range conns {
		wg.Go(func() {
			var lat []time.Duration
			var err error
			for time.Now().Before(stop) {
				t0 := time.Now()
				if err = conn.WriteMessage(ctx, wsclient.BinaryMessage, msg); err != nil {
					break
				}
				var r io.Reader
				if _, r, err = conn.NextReader(ctx); err != nil {
					break
				}
				if _, err = io.Copy(io.Discard, r); err != nil {
					break
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.count += len(lat)
			res.lat = append(res.lat, lat...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res, firstErr
}

func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[min(len(lat)-1, int(float64(len(lat))*p))]
}
