package netfault

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pair returns the two ends of a loopback TCP connection, the client's
// wrapped by wrap.
func pair(t *testing.T, wrap func(net.Conn) net.Conn) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = Dial(wrap)(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestCutConn(t *testing.T) {
	c, s := pair(t, func(nc net.Conn) net.Conn { return &CutConn{Conn: nc, Cut: 3} })
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\n")); err != nil {
		t.Fatalf("handshake write: %v", err)
	}
	if n, err := c.Write([]byte("abcdefgh")); n != 5 || !errors.Is(err, ErrCut) {
		t.Fatalf("first frame write = %d, %v; want 5, ErrCut", n, err)
	}
	if n, err := c.Write([]byte("later")); n != 0 || !errors.Is(err, ErrCut) {
		t.Fatalf("later write = %d, %v; want 0, ErrCut", n, err)
	}
	c.Close()
	got, err := io.ReadAll(s)
	if err != nil || string(got) != "GET / HTTP/1.1\r\nabcde" {
		t.Fatalf("peer got %q, %v", got, err)
	}
}

func TestReadWatch(t *testing.T) {
	var rw *ReadWatch
	c, s := pair(t, func(nc net.Conn) net.Conn { rw = &ReadWatch{Conn: nc}; return rw })
	reading := rw.Arm()
	select {
	case <-reading:
		t.Fatal("signalled before any Read")
	default:
	}
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 8)
		n, _ := c.Read(b)
		got <- string(b[:n])
	}()
	select {
	case <-reading:
	case <-time.After(10 * time.Second):
		t.Fatal("no signal for a Read")
	}
	s.Write([]byte("hi"))
	if g := <-got; g != "hi" {
		t.Fatalf("read %q", g)
	}
	rw.Read(make([]byte, 0)) // unarmed: nothing to close twice
}

func TestClosedAddr(t *testing.T) {
	if c, err := net.Dial("tcp", ClosedAddr(t)); err == nil {
		c.Close()
		t.Fatal("dialling a closed address succeeded")
	}
}
