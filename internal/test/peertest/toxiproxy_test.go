package peertest

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func dialProxy(t *testing.T, p *ToxicProxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		t.Fatal(err)
	}
	return c
}

// Toxiproxy forwards through a proxy, and each toxic this package offers
// does what it says to a plain TCP echo server behind it.
func TestToxiproxy(t *testing.T) {
	t.Parallel()
	tp := Toxiproxy(t)
	ctx := t.Context()
	if v, err := tp.APIVersion(ctx); err != nil || v == "" {
		t.Fatalf("APIVersion = %q, %v", v, err)
	}
	t.Logf("toxiproxy %s (module version %q)", tp.Addr, tp.Version)
	p, err := tp.CreateProxy(ctx, "echo", echoListener(t))
	if err != nil {
		t.Fatal(err)
	}
	c := dialProxy(t, p)
	checkEchoThrough(t, c, c)

	t.Run("latency", func(t *testing.T) {
		name, err := p.AddToxic(ctx, Latency(Downstream, 300*time.Millisecond, 0))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		checkEchoThrough(t, c, c) // applies to the open connection
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("echo with 300ms latency took %v", d)
		}
		if err := p.RemoveToxic(ctx, name); err != nil {
			t.Fatal(err)
		}
		checkEchoThrough(t, c, c)
	})

	t.Run("blackhole", func(t *testing.T) {
		c := dialProxy(t, p)
		checkEchoThrough(t, c, c)
		name, err := p.AddToxic(ctx, Blackhole(Upstream, 0))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("into the hole")); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		var b [1]byte
		if n, err := c.Read(b[:]); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read through a blackhole: %d bytes, %v", n, err)
		}
		if err := p.RemoveToxic(ctx, name); err != nil {
			t.Fatal(err)
		}
		// Removing the toxic closes the connections it held (toxiproxy
		// v2.5.0); new ones go through.
		_ = c.SetDeadline(time.Now().Add(ioTimeout))
		if n, err := c.Read(b[:]); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read after the blackhole's removal: %d bytes, %v", n, err)
		}
		c = dialProxy(t, p)
		checkEchoThrough(t, c, c)
	})

	t.Run("reset_peer", func(t *testing.T) {
		c := dialProxy(t, p)
		checkEchoThrough(t, c, c)
		name, err := p.AddToxic(ctx, ResetPeer(Upstream, 0))
		if err != nil {
			t.Fatal(err)
		}
		defer p.RemoveToxic(ctx, name)
		_, _ = c.Write([]byte("x"))
		if n, err := io.ReadFull(c, make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read after reset_peer: %d bytes, %v", n, err)
		}
	})

	t.Run("limit_data", func(t *testing.T) {
		name, err := p.AddToxic(ctx, LimitData(Downstream, 10))
		if err != nil {
			t.Fatal(err)
		}
		defer p.RemoveToxic(ctx, name)
		c := dialProxy(t, p)
		if _, err := c.Write([]byte("0123456789abcdef")); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		if string(got) != "0123456789" || err != nil {
			t.Fatalf("through limit_data 10: %q, %v", got, err)
		}
	})

	t.Run("bandwidth_slicer_slow_close", func(t *testing.T) {
		for _, tx := range []Toxic{Bandwidth(Downstream, 100), Slicer(Upstream, 3, 1, 100*time.Microsecond), SlowClose(Downstream, 100*time.Millisecond)} {
			name, err := p.AddToxic(ctx, tx)
			if err != nil {
				t.Fatalf("%s: %v", tx.Type, err)
			}
			defer p.RemoveToxic(ctx, name)
		}
		c := dialProxy(t, p)
		checkEchoThrough(t, c, c)
	})

	t.Run("disable", func(t *testing.T) {
		c := dialProxy(t, p)
		if err := p.SetEnabled(ctx, false); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatalf("read on a disabled proxy: %d bytes", n)
		}
		if c, err := net.DialTimeout("tcp", p.Addr, time.Second); err == nil {
			c.Close()
			t.Fatal("a disabled proxy accepts connections")
		}
		if err := p.SetEnabled(ctx, true); err != nil {
			t.Fatal(err)
		}
		c = dialProxy(t, p)
		checkEchoThrough(t, c, c)
	})

	t.Run("upstream", func(t *testing.T) {
		// A second upstream that says who it is.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				_, _ = c.Write([]byte("second"))
				c.Close()
			}
		}()
		if err := p.SetUpstream(ctx, l.Addr().String()); err != nil {
			t.Fatal(err)
		}
		c := dialProxy(t, p)
		if got, err := io.ReadAll(c); string(got) != "second" || err != nil {
			t.Fatalf("after SetUpstream: %q, %v", got, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := p.AddToxic(ctx, Toxic{Type: "no_such_toxic", Stream: Upstream})
		var te *ToxiproxyError
		if !errors.As(err, &te) || te.Status != http.StatusBadRequest {
			t.Fatalf("unknown toxic: %v", err)
		}
		if err := p.RemoveToxic(ctx, "absent"); !errors.As(err, &te) || te.Status != http.StatusNotFound {
			t.Fatalf("remove absent toxic: %v", err)
		}
		if _, err := tp.CreateProxy(ctx, p.Name, "127.0.0.1:1"); !errors.As(err, &te) || te.Status != http.StatusConflict {
			t.Fatalf("duplicate proxy: %v", err)
		}
		if err := p.Delete(ctx); err != nil {
			t.Fatal(err)
		}
		if c, err := net.DialTimeout("tcp", p.Addr, time.Second); err == nil {
			c.Close()
			t.Fatal("a deleted proxy accepts connections")
		}
	})
}

// The binary installed with go install is recognised by its build
// information, and another program named like it is not.
func TestToxiproxyModuleVersion(t *testing.T) {
	if bin, version, problem := findToxiproxy(); bin == "" {
		t.Logf("toxiproxy not found: %s", problem)
	} else if _, ok := toxiproxyModuleVersion(bin); ok && version == "" {
		t.Errorf("%s: built from %s without a version", bin, ToxiproxyModule)
	}
	exe, err := os.Executable() // this test binary: Go, but not toxiproxy
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := toxiproxyModuleVersion(exe); ok {
		t.Fatalf("test binary taken for toxiproxy %s", v)
	}
	if _, ok := toxiproxyModuleVersion("/bin/sh"); ok && !strings.Contains(os.Getenv("SHELL"), "toxiproxy") {
		t.Fatal("/bin/sh taken for toxiproxy")
	}
}

// The search takes $WSCLIENT_TOXIPROXY first, and from the go install
// directories only a binary built from the toxiproxy module; it says where
// it looked when it finds nothing.
func TestToxiproxyLocate(t *testing.T) {
	real, _, _ := findToxiproxy()
	if _, ok := lookTool("toxiproxy-server"); ok {
		t.Skip("toxiproxy-server is in PATH: the search stops there")
	}
	gopath := t.TempDir()
	t.Setenv("GOPATH", gopath)
	t.Setenv("GOBIN", "")
	t.Setenv(ToxiproxyEnv, filepath.Join(gopath, "absent"))
	bin, _, problem := locateToxiproxy()
	if bin != "" || !strings.Contains(problem, ToxiproxyEnv) || !strings.Contains(problem, filepath.Join(gopath, "bin", "server")+": not found") {
		t.Fatalf("nothing installed: found %q, problem %q", bin, problem)
	}
	// Another program called server is not taken for toxiproxy.
	if err := os.MkdirAll(filepath.Join(gopath, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gopath, "bin", "server"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if bin, _, problem := locateToxiproxy(); bin != "" || !strings.Contains(problem, "not built from "+ToxiproxyModule) {
		t.Fatalf("another server: found %q, problem %q", bin, problem)
	}
	if real == "" {
		return
	}
	t.Setenv(ToxiproxyEnv, real)
	if bin, _, _ := locateToxiproxy(); bin != real {
		t.Fatalf("with %s=%s: found %q", ToxiproxyEnv, real, bin)
	}
}
