// Command h2bench measures what WebSockets over HTTP/2 (RFC 8441) buy: N
// WebSockets to one host through the same TLS proxy (HAProxy or nghttpx in
// front of the common echo server, cmd/echoserver), opened once with the
// HTTP/1.1 Upgrade (N TCP+TLS connections) and once as streams of shared
// HTTP/2 connections (wsclient.Dialer{HTTP2: wsclient.HTTP2Only}).
//
// For each it reports the time to open all N, the client's memory,
// goroutines and file descriptors per WebSocket, the proxy's memory and
// file descriptors per WebSocket, the round-trip rate with all N echoing
// at once and its latency, the latency of one WebSocket alone while the
// others idle, and the time to close all. Each measurement runs in a fresh
// child process (this binary with -child) so that one mode's leftovers never
// count against the other.
//
// From the bench directory:
//
//	go run ./cmd/h2bench                       # haproxy and nghttpx, 1,000 WebSockets
//	go run ./cmd/h2bench -proxy nghttpx -n 200 -duration 2s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wsclient/wsclient/bench/internal/rlimit"
	"github.com/wsclient/wsclient/bench/internal/serverproc"
)

type config struct {
	n        int
	conc     int
	duration time.Duration
	size     int
	proxies  string
	jsonOut  string

	child    bool
	mode     string
	url      string
	certFile string
	proxyPID int
}

func main() {
	var c config
	flag.IntVar(&c.n, "n", 1000, "WebSockets to open")
	flag.IntVar(&c.conc, "dial-concurrency", 100, "dials in flight at once")
	flag.DurationVar(&c.duration, "duration", 3*time.Second, "length of the round-trip phase")
	flag.IntVar(&c.size, "size", 64, "message size of the round trips, bytes")
	flag.StringVar(&c.proxies, "proxy", "haproxy,nghttpx", "proxies to measure through: haproxy, nghttpx or both")
	flag.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.BoolVar(&c.child, "child", false, "internal: run one measurement and print it as JSON")
	flag.StringVar(&c.mode, "mode", "h2", "internal: h1 or h2")
	flag.StringVar(&c.url, "url", "", "internal: wss:// URL of the proxy")
	flag.StringVar(&c.certFile, "cert", "", "internal: the proxy's certificate (PEM)")
	flag.IntVar(&c.proxyPID, "proxy-pid", 0, "internal: the proxy's process id")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("h2bench: ")
	if _, err := rlimit.RaiseNoFile(); err != nil {
		log.Printf("raise RLIMIT_NOFILE: %v", err)
	}
	if c.child {
		r, err := measure(c)
		if err != nil {
			log.Fatal(err)
		}
		if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

// report is every measurement of one run.
type report struct {
	Load    string   `json:"load"`
	N       int      `json:"n"`
	Size    int      `json:"size"`
	Results []result `json:"results"`
}

func run(c config) error {
	ctx := context.Background()
	srv, stopSrv, err := serverproc.BuildAndStart(ctx)
	if err != nil {
		return err
	}
	defer stopSrv()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	rep := report{Load: loadAvg(), N: c.n, Size: c.size}
	for _, name := range strings.Split(c.proxies, ",") {
		dir, err := os.MkdirTemp("", "h2bench-")
		if err != nil {
			return err
		}
		px, err := startProxy(strings.TrimSpace(name), dir, srv.URL, max(c.n, 100))
		if err != nil {
			os.RemoveAll(dir)
			return err
		}
		certFile := filepath.Join(dir, "cert.pem")
		for _, mode := range []string{"h1", "h2"} {
			log.Printf("%s %s: %d WebSockets...", px.name, mode, c.n)
			r, err := runChild(exe, c, mode, "wss://"+px.addr+"/", certFile, px.cmd.Process.Pid)
			if err != nil {
				px.stop()
				os.RemoveAll(dir)
				return fmt.Errorf("%s %s: %w", px.name, mode, err)
			}
			r.Proxy = px.name + " " + px.version
			rep.Results = append(rep.Results, r)
		}
		px.stop()
		os.RemoveAll(dir)
	}
	rep.Load += " → " + loadAvg()
	printTable(rep)
	if c.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		return os.WriteFile(c.jsonOut, b, 0o644)
	}
	return nil
}

func runChild(exe string, c config, mode, url, certFile string, pid int) (result, error) {
	var r result
	cmd := exec.Command(exe, "-child", "-mode", mode, "-url", url, "-cert", certFile,
		"-proxy-pid", strconv.Itoa(pid), "-n", strconv.Itoa(c.n), "-dial-concurrency", strconv.Itoa(c.conc),
		"-duration", c.duration.String(), "-size", strconv.Itoa(c.size))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return r, err
	}
	err = json.Unmarshal(bytes.TrimSpace(out), &r)
	return r, err
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func printTable(rep report) {
	fmt.Printf("\n%d WebSockets, %d-byte round trips, load average %s (2 cores)\n\n", rep.N, rep.Size, rep.Load)
	fmt.Println("| proxy | mode | TCP conns | open all | client heap+stack / WS | goroutines / WS | client fds / WS | proxy RSS / WS | proxy fds / WS | round trips/s (all echoing) | p50 / p99 latency (all) | p50 / p99 latency (one alone) | close all |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.Results {
		fmt.Printf("| %s | %s | %d | %s | %.1f KiB | %.2f | %.2f | %.1f KiB | %.2f | %.0f | %s / %s | %s / %s | %s |\n",
			r.Proxy, r.Mode, r.TCPConns, ms(r.OpenAll), float64(r.ClientBytesPerWS)/1024, r.GoroutinesPerWS, r.ClientFDsPerWS,
			float64(r.ProxyBytesPerWS)/1024, r.ProxyFDsPerWS, r.RoundTripsPerSec,
			ms(r.LoadedP50), ms(r.LoadedP99), us(r.AloneP50), us(r.AloneP99), ms(r.CloseAll))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/1e3) }
