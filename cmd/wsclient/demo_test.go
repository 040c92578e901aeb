package main

import (
	"strings"
	"testing"

	"github.com/wsclient/wsclient/wstest"
)

func TestDemo(t *testing.T) {
	r := runBin(t, "", "demo")
	r.wantCode(t, exitOK)
	want := []string{
		"Received msg \"message 1\"",
		"Received msg \"hello, this is message #2\"",
		"Received msg \"hello, this is message #3\"",
		"Received msg \"hello, this is message #4\"",
		"Websocket closed in state 5 with reason normal",
	}
	// In this order, and nothing else received.
	rest := r.stdout
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("demo output lacks %q (in order):\n%s", w, r.stdout)
		}
		rest = rest[i+len(w):]
	}
	if n := strings.Count(r.stdout, "Received msg"); n != 4 {
		t.Errorf("%d messages received, want 4:\n%s", n, r.stdout)
	}
	if !strings.Contains(r.stdout, "ws://127.0.0.1:") {
		t.Errorf("demo does not say where its server is:\n%s", r.stdout)
	}
}

func TestDemoAgainstURL(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	r := runBin(t, "", "demo", "--delay", "0", "--url", srv.URL) // seconds, as for every duration flag
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "against "+srv.URL) || strings.Count(r.stdout, "Received msg") != 4 {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	fr := clientFrames(t, srv)
	if len(fr) != 5 || string(fr[0].Payload) != "message 1" || fr[4].Opcode != wstest.OpClose {
		t.Errorf("server got %+v", fr)
	}
	// A server that refuses: the handshake error's exit code.
	refusing := wstest.NewServer(nil, wstest.WithT(t), wstest.WithStatus(404, ""))
	r = runBin(t, "", "demo", "--url", refusing.URL)
	r.wantCode(t, exitHandshake)
}
