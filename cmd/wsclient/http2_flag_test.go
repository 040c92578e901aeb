package main

import (
	"testing"

	"github.com/wsclient/wsclient"
)

func TestHTTP2Flag(t *testing.T) {
	for arg, want := range map[string]wsclient.HTTP2Mode{"off": wsclient.HTTP2Off, "auto": wsclient.HTTP2Auto, "only": wsclient.HTTP2Only} {
		o, err := parseClientArgs([]string{"--http2", arg, "wss://example.test/"})
		if err != nil {
			t.Fatalf("--http2 %s: %v", arg, err)
		}
		d, err := o.dialer()
		if err != nil || d.HTTP2 != want {
			t.Fatalf("--http2 %s: Dialer.HTTP2 = %v, %v; want %v", arg, d.HTTP2, err, want)
		}
	}
	o, err := parseClientArgs([]string{"wss://example.test/"})
	if err != nil || wsclient.HTTP2Mode(o.http2) != wsclient.HTTP2Off {
		t.Fatalf("default: %v, %v", o.http2, err)
	}
	if _, err := parseClientArgs([]string{"--http2", "maybe", "wss://example.test/"}); err == nil {
		t.Fatal("--http2 maybe was accepted")
	}
}
