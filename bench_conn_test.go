//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net"
	"os"
	"runtime"
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
				_, p, err := conn.appendMessage(ctx, buf[:0], false)
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
	go answer64(srv)
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
		if _, p, err := conn.appendMessage(ctx, buf[:0], false); err != nil || len(p) != 64 {
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
		_, p, err := conn.appendMessage(ctx, buf[:0], false)
		if err != nil || len(p) != 64 {
			b.Fatalf("read: %v (%d bytes)", err, len(p))
		}
	}
}

// BenchmarkConnWriteParallel: many goroutines writing 64-byte messages to
// one connection; concurrent writers share system calls (see writeLock).
// The syscalls/op metric counts the server's reads as a proxy... see
// strace for the client's writes.
func BenchmarkConnWriteParallel(b *testing.B) {
	for _, sz := range []struct {
		name string
		n    int
	}{{"64B", 64}, {"4KiB", 4096}} {
		b.Run(sz.name, func(b *testing.B) {
			conn, srv := benchConn(b)
			go io.Copy(io.Discard, srv)
			ctx := context.Background()
			msg := make([]byte, sz.n)
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkConnWriteBurst compares one WriteMessage per message with
// WriteBatch for a burst of 64 messages known in advance (b.N counts
// messages).
func BenchmarkConnWriteBurst(b *testing.B) {
	const burst = 64
	for _, sz := range []struct {
		name string
		n    int
	}{{"64B", 64}, {"4KiB", 4096}} {
		msgs := make([][]byte, burst)
		for i := range msgs {
			msgs[i] = make([]byte, sz.n)
		}
		b.Run(sz.name+"/WriteMessage", func(b *testing.B) {
			conn, srv := benchConn(b)
			go io.Copy(io.Discard, srv)
			ctx := context.Background()
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += burst {
				for _, m := range msgs[:min(burst, b.N-i)] {
					if err := conn.WriteMessage(ctx, BinaryMessage, m); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(sz.name+"/WriteBatch", func(b *testing.B) {
			conn, srv := benchConn(b)
			go io.Copy(io.Discard, srv)
			ctx := context.Background()
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += burst {
				if _, err := conn.WriteBatch(ctx, BinaryMessage, msgs[:min(burst, b.N-i)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConnWriteLarge writes 16 MiB messages (one writev per frame).
func BenchmarkConnWriteLarge(b *testing.B) {
	conn, srv := benchConn(b)
	go io.Copy(io.Discard, srv)
	ctx := context.Background()
	msg := make([]byte, 16<<20)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConnWriteCtx measures the cost of a cancellable context: one
// reused for every call, and a fresh one per call (whose own allocations
// are part of the figure).
func BenchmarkConnWriteCtx(b *testing.B) {
	b.Run("reused", func(b *testing.B) {
		conn, srv := benchConn(b)
		go io.Copy(io.Discard, srv)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		msg := make([]byte, 64)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh", func(b *testing.B) {
		conn, srv := benchConn(b)
		go io.Copy(io.Discard, srv)
		msg := make([]byte, 64)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			ctx, cancel := context.WithCancel(context.Background())
			if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
				b.Fatal(err)
			}
			cancel()
		}
	})
}

// handshakeConn is an in-memory net.Conn that answers a handshake request
// with a fixed 101 response, allocating nothing itself, so that the
// allocations of BenchmarkHandshake are the client's.
type handshakeConn struct {
	net.Conn // nil: only Read, Write and deadlines are used
	resp     [512]byte
	n, off   int
}

func (h *handshakeConn) Write(p []byte) (int, error) {
	const keyHdr = "Sec-WebSocket-Key: "
	i := bytes.Index(p, []byte(keyHdr))
	key := p[i+len(keyHdr) : i+len(keyHdr)+24]
	s := sha1.New()
	s.Write(key)
	s.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	var sum [20]byte
	var acc [28]byte
	base64.StdEncoding.Encode(acc[:], s.Sum(sum[:0]))
	b := append(h.resp[:0], "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = append(b, acc[:]...)
	b = append(b, "\r\nDate: Wed, 02 Dec 2026 02:00:00 GMT\r\nServer: bench\r\n\r\n"...)
	h.n, h.off = len(b), 0
	return len(p), nil
}

func (h *handshakeConn) Read(p []byte) (int, error) {
	if h.off == h.n {
		return 0, io.EOF
	}
	n := copy(p, h.resp[h.off:h.n])
	h.off += n
	return n, nil
}

func (h *handshakeConn) SetDeadline(time.Time) error      { return nil }
func (h *handshakeConn) SetReadDeadline(time.Time) error  { return nil }
func (h *handshakeConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkHandshake measures the opening handshake alone (request, response
// parsing and validation, the new Conn) over an in-memory connection.
func BenchmarkHandshake(b *testing.B) {
	d := &Dialer{}
	u, _, _, err := parseURL("ws://example.com/chat")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for range b.N {
		hc := &handshakeConn{}
		if _, err := d.upgrade(ctx, time.Now().Add(time.Minute), hc, u, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdleConn reports the heap held by idle connections (dialed,
// handshake done, nothing read or written) in bytes per connection.
func BenchmarkIdleConn(b *testing.B) {
	d := &Dialer{}
	u, _, _, err := parseURL("ws://example.com/chat")
	if err != nil {
		b.Fatal(err)
	}
	const n = 1000
	conns := make([]*Conn, n)
	hcs := make([]*handshakeConn, n)
	for i := range hcs {
		hcs[i] = &handshakeConn{}
	}
	var before, after runtime.MemStats
	for range b.N {
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range conns {
			conns[i], err = d.upgrade(context.Background(), time.Now().Add(time.Minute), hcs[i], u, "")
			if err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heapB/conn")
		runtime.KeepAlive(conns)
		clear(conns)
	}
}

// BenchmarkDial measures Dial with the network replaced by an in-memory
// connection, so that the allocations counted are all the client's.
func BenchmarkDial(b *testing.B) {
	d := &Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) {
		return &handshakeConn{}, nil
	}}
	ctx := context.Background()
	b.ReportAllocs()
	for range b.N {
		if _, err := Dial(ctx, "ws://example.com/chat", d); err != nil {
			b.Fatal(err)
		}
	}
}

// answer64 is the server of the 64-byte round trips: for each masked 64-byte
// request it reads, it writes a 64-byte binary message, until srv fails.
func answer64(srv net.Conn) {
	resp := frame.Append(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 64})
	resp = append(resp, make([]byte, 64)...)
	req := make([]byte, 2+4+64)
	for {
		if _, err := io.ReadFull(srv, req); err != nil {
			return
		}
		if _, err := srv.Write(resp); err != nil {
			return
		}
	}
}
