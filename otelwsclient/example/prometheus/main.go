// Command prometheus runs a wsclient.Client instrumented with otelwsclient
// and serves its metrics for Prometheus at /metrics, through the
// OpenTelemetry Prometheus exporter.
//
//	go run ./example/prometheus -url ws://127.0.0.1:8080/ -addr 127.0.0.1:9464
//	curl -s 127.0.0.1:9464/metrics | grep websocket_client
//
// Without -url it starts a local echo server (wstest) and talks to that.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/otelwsclient"
	"github.com/wsclient/wsclient/wstest"
)

func main() {
	url := flag.String("url", "", "WebSocket URL (default: a local echo server)")
	addr := flag.String("addr", "127.0.0.1:9464", "address to serve /metrics on")
	every := flag.Duration("every", time.Second, "send a message this often")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *url == "" {
		srv := wstest.NewEchoServer()
		defer srv.Close()
		*url = srv.URL
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("metrics at http://%s/metrics for a client of %s\n", ln.Addr(), *url)
	if err := run(ctx, ln, *url, *every); err != nil {
		log.Fatal(err)
	}
}

// run serves /metrics on ln for a Client of url that sends a message every
// interval, until ctx ends.
func run(ctx context.Context, ln net.Listener, url string, every time.Duration) error {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	defer mp.Shutdown(context.Background())
	in, err := otelwsclient.New(otelwsclient.Config{MeterProvider: mp})
	if err != nil {
		return err
	}
	c, err := wsclient.Start(ctx, url, ticker{every: every}, &wsclient.Options{
		Trace:     in.Trace(url),
		Keepalive: 5 * time.Second,
		Confirm:   1 << 20,
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	err = c.Wait()
	hs.Close()
	if ctx.Err() != nil {
		return nil // interrupted: the normal end
	}
	return err
}

// ticker sends a text message every interval while connected.
type ticker struct {
	wsclient.BaseHandler
	every time.Duration
}

func (ticker) Init(*wsclient.Client) (wsclient.InitMode, error) {
	return wsclient.KeepReconnecting, nil
}

func (t ticker) OnConnect(c *wsclient.Client, _ wsclient.ConnInfo) wsclient.Action {
	go func() {
		n := 0
		for c.State() == wsclient.Connected {
			n++
			if c.Cast(wsclient.TextFrame(fmt.Sprintf("tick %d", n))) != nil {
				return
			}
			time.Sleep(t.every)
		}
	}()
	return wsclient.Action{}
}
