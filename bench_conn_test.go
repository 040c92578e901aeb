package wsclient

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net"
	"runtime"
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
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			conn, srv := benchConn(b)
			// The server streams unmasked binary frames as fast as it can.
			msg := frame.Append(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: int64(sz.n)})
			msg = append(msg, make([]byte, sz.n)...)
			batch := msg
			for len(batch) < 64<<10 {
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
			for range b.N {
				_, p, err := conn.AppendMessage(ctx, buf[:0])
				if err != nil || len(p) != sz.n {
					b.Fatalf("read: %v (%d bytes)", err, len(p))
				}
			}
			b.StopTimer()
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
		if _, err := d.upgrade(ctx, hc, u, ""); err != nil {
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
			conns[i], err = d.upgrade(context.Background(), hcs[i], u, "")
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
		if _, err := d.Dial(ctx, "ws://example.com/chat"); err != nil {
			b.Fatal(err)
		}
	}
}
