package wsclient

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			ch <- nil
			return
		}
		ch <- s
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	server = <-ch
	if server == nil {
		tb.Fatal("accept failed")
	}
	return client, server
}

// benchConn wraps the client end of a TCP pair in a Conn with default
// settings, as Dial would after the handshake.
func benchConn(tb testing.TB) (*Conn, net.Conn) {
	c, s := tcpPair(tb)
	cfg := connConfig{maxMessage: defaultMaxMessage, fragmentSize: 4096, closeTimeout: defaultCloseTimeout, writeBufSize: defaultWriteBuf}
	conn := newConn(c, nil, cfg, defaultBufSize)
	tb.Cleanup(func() { conn.CloseNow(); s.Close() })
	return conn, s
}

var sizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"4KiB", 4096}, {"1MiB", 1 << 20}}

func BenchmarkConnRead(b *testing.B) {
	benchRead(b, false)
}

// BenchmarkConnReadSmallWrites is BenchmarkConnRead with the server writing
// each message on its own, as an echo server would: the client's socket
// often drains at a message boundary.
func BenchmarkConnReadSmallWrites(b *testing.B) {
	benchRead(b, true)
}

func benchRead(b *testing.B, small bool) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			conn, srv := benchConn(b)
			// The server streams unmasked binary frames as fast as it can.
			msg := frame.Append(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: int64(sz.n)})
			msg = append(msg, make([]byte, sz.n)...)
			batch := msg
			for len(batch) < 64<<10 && !small {
				batch = append(batch, msg...)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					if _, err := srv.Write(batch); err != nil {
						return
					}
				}
			}()
			ctx := context.Background()
			buf := make([]byte, 0, sz.n)
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			b.ResetTimer()
			reads := readSyscalls()
			for range b.N {
				_, p, err := conn.AppendMessage(ctx, buf[:0])
				if err != nil || len(p) != sz.n {
					b.Fatalf("read: %v (%d bytes)", err, len(p))
				}
			}
			b.StopTimer()
			reportReads(b, reads)
			conn.CloseNow()
			srv.Close()
			<-done
		})
	}
}

func BenchmarkConnWrite(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			conn, srv := benchConn(b)
			go io.Copy(io.Discard, srv)
			ctx := context.Background()
			msg := make([]byte, sz.n)
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConnRoundTrip64B is request/response: the client writes a 64-byte
// message and reads the server's 64-byte answer. The server side is a plain
// socket loop, so the profile and the syscall count are the client's.
func BenchmarkConnRoundTrip64B(b *testing.B) {
	conn, srv := benchConn(b)
	resp := frame.Append(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 64})
	resp = append(resp, make([]byte, 64)...)
	go func() {
		req := make([]byte, 2+4+64)
		for {
			if _, err := io.ReadFull(srv, req); err != nil {
				return
			}
			if _, err := srv.Write(resp); err != nil {
				return
			}
		}
	}()
	ctx := context.Background()
	msg := make([]byte, 64)
	buf := make([]byte, 0, 64)
	b.SetBytes(64)
	b.ReportAllocs()
	b.ResetTimer()
	reads := readSyscalls()
	for range b.N {
		if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
			b.Fatal(err)
		}
		if _, p, err := conn.AppendMessage(ctx, buf[:0]); err != nil || len(p) != 64 {
			b.Fatalf("read: %v (%d bytes)", err, len(p))
		}
	}
	b.StopTimer()
	reportReads(b, reads)
}

// readSyscalls returns the process's read system calls so far (Linux's
// /proc/self/io syscr), or -1.
func readSyscalls() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("syscr: ")); ok {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// reportReads reports the read system calls per op since start (all of the
// process's: in BenchmarkConnRead only the client reads; in
// BenchmarkConnRoundTrip64B the server's reads are in it too).
func reportReads(b *testing.B, start int64) {
	if end := readSyscalls(); start >= 0 && end >= 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "reads/op")
	}
}

// memConn is a net.Conn whose reads replay a stream of frames forever and
// whose writes vanish: the read path's CPU cost without the kernel.
type memConn struct {
	net.Conn // nil: only the methods below are used
	stream   []byte
	pos      int
}

func (m *memConn) Read(p []byte) (int, error) {
	n := copy(p, m.stream[m.pos:])
	m.pos = (m.pos + n) % len(m.stream)
	return n, nil
}

func (m *memConn) Write(p []byte) (int, error)      { return len(p), nil }
func (m *memConn) Close() error                     { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }

// BenchmarkConnReadMem reads 64-byte text messages (UTF-8 checked) from
// memory: framing, protocol rules and buffering, no syscalls.
func BenchmarkConnReadMem(b *testing.B) {
	msg := frame.Append(nil, frame.Header{Fin: true, Opcode: frame.OpText, Length: 64})
	msg = append(msg, bytes.Repeat([]byte("a"), 64)...)
	stream := bytes.Repeat(msg, 4096/len(msg)) // a whole number of messages
	cfg := connConfig{maxMessage: defaultMaxMessage, fragmentSize: 4096, closeTimeout: defaultCloseTimeout, writeBufSize: defaultWriteBuf}
	conn := newConn(&memConn{stream: stream}, nil, cfg, defaultBufSize)
	ctx := context.Background()
	buf := make([]byte, 0, 64)
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		_, p, err := conn.AppendMessage(ctx, buf[:0])
		if err != nil || len(p) != 64 {
			b.Fatalf("read: %v (%d bytes)", err, len(p))
		}
	}
}
