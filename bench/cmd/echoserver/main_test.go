package main

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lxzan/gws"
	"github.com/wsclient/wsclient"
)

// The echo server answers a ping with its payload (gws's default handler
// would send an empty pong), which a client's PingWait needs.
func TestEchoPongPayload(t *testing.T) {
	up := gws.NewUpgrader(echo{}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop()
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cn, err := wsclient.Dial(ctx, "ws://"+ln.Addr().String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cn.CloseNow()
	read := make(chan struct{})
	go func() {
		defer close(read)
		for {
			if _, _, err := cn.ReadMessage(context.Background()); err != nil {
				return
			}
		}
	}()
	if _, err := cn.Ping(ctx, []byte("payload")); err != nil {
		t.Fatalf("PingWait = %v", err)
	}
	cn.CloseNow()
	<-read
}
