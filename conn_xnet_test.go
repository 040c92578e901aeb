//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/websocket"
)

// A Conn talks to golang.org/x/net/websocket's echo server: messages of
// every length class (empty, 7-bit, 16-bit and 64-bit lengths, 1 MiB) and a
// streamed one come back whole (the echo, an io.Copy, may return one
// message as several).
func TestConnEchoXNetServer(t *testing.T) {
	srv := httptest.NewServer(websocket.Handler(func(ws *websocket.Conn) { io.Copy(ws, ws) }))
	defer srv.Close()
	ctx := context.Background()
	d := &Dialer{Origin: "http://localhost"}
	c, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/", d)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
		msg := bytes.Repeat([]byte("x"), n)
		if err := c.WriteMessage(ctx, TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			continue // x/net echo loses empty messages
		}
		got := make([]byte, 0, n)
		for len(got) < n {
			_, b, err := c.ReadMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b...)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("n=%d mismatch", n)
		}
	}
	w, _ := c.NextWriter(ctx, BinaryMessage)
	w.Write(bytes.Repeat([]byte("y"), 10000))
	w.Close()
	total := 0
	for total < 10000 {
		_, b, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += len(b)
	}
	t.Log(c.Close(1000, "bye"))
}
