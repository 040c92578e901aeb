package wsclient

import (
	"context"
	"io"
	"net"
	"testing"

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
