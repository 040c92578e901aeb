package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsclient/wsclient/wstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The example serves the Client's metrics at /metrics; a scrape finds the
// connection and the messages it sent and received.
func TestScrape(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, srv.URL, 10*time.Millisecond) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	want := []string{
		`websocket_client_connections_opened_total{`,
		`websocket_client_messages_total{network_io_direction="transmit"`,
		`websocket_client_messages_total{network_io_direction="receive"`,
		`websocket_client_io_bytes_total{network_io_direction="transmit"`,
		`websocket_client_dial_duration_seconds_bucket{`,
		`websocket_client_frames_total{`,
	}
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		missing := false
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = true
			}
		}
		if !missing && strings.Contains(body, "websocket_client_connections{") {
			return
		}
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("no %s in the scrape", w)
		}
	}
	t.Logf("scrape:\n%s", body)
}
