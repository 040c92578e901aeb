package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
)

// TestServeClosesWithGoingAway: Ctrl-C on wsclient serve closes each
// client's connection with a close frame 1001 (going away), not by
// dropping it.
func TestServeClosesWithGoingAway(t *testing.T) {
	url, stop := startServe(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// An echo proves the server has the connection.
	if err := c.WriteMessage(ctx, wsclient.TextMessage, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadMessage(ctx); err != nil {
		t.Fatal(err)
	}
	code := make(chan int, 1)
	go func() { code <- stop() }()
	_, _, err = c.ReadMessage(ctx)
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != wsclient.CloseGoingAway {
		t.Fatalf("after Ctrl-C on serve: %v, want a close error 1001", err)
	}
	if got := <-code; got != exitOK {
		t.Errorf("serve exited with %d", got)
	}
}
