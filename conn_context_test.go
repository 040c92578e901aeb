//go:build !js

package wsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

// awaitWatch waits until the read (or write) of conn watches its context,
// that is until the call is waiting on the socket. The watch must exist
// (PrepareWatch) before the call starts.
func awaitWatch(t testing.TB, conn *Conn, read bool) bool {
	for deadline := time.Now().Add(waitLong); !conn.stream.Watching(read); {
		if time.Now().After(deadline) {
			t.Error("the call never waited with its context watched")
			return false
		}
		runtime.Gosched()
	}
	return true
}

// frame64 is a server's unmasked 64-byte binary message.
func frame64() []byte {
	b := frame.Append(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 64})
	return append(b, make([]byte, 64)...)
}

// A fresh cancellable context per call costs the Conn no more than the
// context's done channel on a write the socket takes at once (ctx.Done,
// which tells a context that can end from one that cannot, makes it), and
// on a read that must wait no more than
// context.AfterFunc's registration and the context's done channel (five;
// see internal/sock/context.go for why not a goroutine), released when the read ends.
func TestConnFreshContextAllocs(t *testing.T) {
	bg := context.Background()
	base := testing.AllocsPerRun(100, func() {
		_, cancel := context.WithCancel(bg)
		cancel()
	})

	conn, srv := benchConn(t)
	go io.Copy(io.Discard, srv)
	msg := make([]byte, 64)
	if a := testing.AllocsPerRun(200, func() {
		ctx, cancel := context.WithCancel(bg)
		if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
			t.Error(err)
		}
		cancel()
	}); a > base+1 {
		t.Errorf("%v allocations per write with a fresh context (%v for the context), want one more at most (its done channel)", a, base)
	}
	if conn.stream.WatchMade(false) {
		t.Error("writes that never waited made a context watch")
	}

	conn, srv = benchConn(t)
	conn.stream.PrepareWatch(true)
	requests := make(chan struct{})
	answered := make(chan struct{})
	resp := frame64()
	go func() {
		// Answer each request once the reader waits with its context
		// watched, so that every read below must wait.
		defer close(answered)
		for range requests {
			if !awaitWatch(t, conn, true) {
				return
			}
			if _, err := srv.Write(resp); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	buf := make([]byte, 0, 64)
	a := testing.AllocsPerRun(100, func() {
		ctx, cancel := context.WithCancel(bg)
		requests <- struct{}{}
		if _, p, err := conn.appendMessage(ctx, buf[:0], false); err != nil || len(p) != 64 {
			t.Errorf("read: %v (%d bytes)", err, len(p))
		}
		cancel()
	})
	close(requests)
	recv(t, answered)
	if a > base+5 {
		t.Errorf("%v allocations per waiting read with a fresh context (%v for the context), want at most 5 more", a, base)
	}
	if conn.stream.Registered(true) != nil {
		t.Error("a fresh context was left registered")
	}
}

// A read that waits on a plain socket returns the context's error promptly
// when its context ends, whether it waits for a message, in the middle of a
// frame header or in a payload, with a fresh context or a reused one (kept
// registered after its first watched call), and the connection is closed.
func TestConnReadContextCancelRaw(t *testing.T) {
	for _, tc := range []struct {
		name string
		sent []byte // of the message the read waits in
	}{
		{"boundary", nil},
		{"header", []byte{0x82}},
		{"payload", frame64()[:12]},
	} {
		for _, reused := range []bool{false, true} {
			name := tc.name + "/fresh"
			if reused {
				name = tc.name + "/reused"
			}
			t.Run(name, func(t *testing.T) {
				conn, srv := benchConn(t)
				if !conn.stream.Raw() {
					t.Skip("no raw socket reads on this platform")
				}
				conn.stream.PrepareWatch(true)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if reused {
					// One watched read with ctx first: the second
					// watched call keeps it registered.
					go func() {
						if awaitWatch(t, conn, true) {
							srv.Write(frame64())
						}
					}()
					if _, _, err := conn.ReadMessage(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := srv.Write(tc.sent); err != nil {
					t.Fatal(err)
				}
				go func() {
					if awaitWatch(t, conn, true) {
						cancel()
					}
				}()
				start := time.Now()
				_, _, err := conn.ReadMessage(ctx)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("ReadMessage: %v, want context.Canceled", err)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Fatalf("returned after %v", d)
				}
				if reused {
					if conn.stream.Registered(true) == nil {
						t.Error("the reused context was not kept registered")
					}
				}
				if _, _, err := conn.ReadMessage(context.Background()); err == nil {
					t.Fatal("the connection is still usable after a cancelled read")
				}
			})
		}
	}
}

// A small write that waits because the server does not read (the raw
// socket write found the socket full) returns promptly with the context's
// error, and the connection is broken for later writes: part of a frame
// may be on the wire.
func TestConnWriteContextCancelRaw(t *testing.T) {
	for _, tc := range []struct {
		reused bool
		size   int
	}{{false, 3000}, {true, 3000}, {false, 8 << 20}, {true, 8 << 20}} {
		reused := tc.reused
		name := fmt.Sprintf("fresh/%d", tc.size)
		if reused {
			name = fmt.Sprintf("reused/%d", tc.size)
		}
		t.Run(name, func(t *testing.T) {
			conn, srv := benchConn(t) // the server never reads
			if !conn.stream.Raw() {
				t.Skip("no raw socket writes on this platform")
			}
			// Small socket buffers, so that the socket is full long
			// before the context ends however slow the writes are
			// (Linux lets a receive buffer grow to tcp_rmem's 32 MiB).
			srv.(*net.TCPConn).SetReadBuffer(4096)
			conn.nc.(*net.TCPConn).SetWriteBuffer(4096)
			msg := make([]byte, tc.size) // 8 MiB: a large frame, written by writev
			// On a loaded machine the deadline can pass between two writes,
			// before the socket is full: that write fails before it starts
			// and leaves the connection whole. Try again until a write was
			// cut off under way (the connection is then broken).
			for attempt := 1; ; attempt++ {
				parent, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				start := time.Now()
				var err error
				for i := 0; err == nil && i < 1e6; i++ {
					ctx, cancel := parent, context.CancelFunc(func() {})
					if !reused {
						ctx, cancel = context.WithCancel(parent)
					}
					err = conn.WriteMessage(ctx, BinaryMessage, msg)
					cancel()
				}
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("WriteMessage: %v, want context.DeadlineExceeded", err)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Fatalf("returned after %v", d)
				}
				conn.wmu.lock()
				broken := conn.werr != nil
				conn.wmu.unlock()
				if broken {
					break
				}
				if attempt == 20 {
					t.Fatal("20 times the deadline passed between writes, never during one")
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := conn.WriteMessage(ctx, BinaryMessage, msg); err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("a write after a cancelled write: %v, want the connection's error", err)
			}
		})
	}
}

// A read whose context has ended before it waits fails at once, and a
// fresh context is not left registered once the call is over.
func TestConnReadContextDoneBeforeWait(t *testing.T) {
	conn, _ := benchConn(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := conn.ReadMessage(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadMessage: %v, want context.Canceled", err)
	}
	if !conn.stream.WatchMade(true) {
		return // never watched: it failed before looking at the socket
	}
	if conn.stream.Registered(true) != nil {
		t.Error("a fresh context was left registered")
	}
}

// On a connection that is not a plain socket (a wrapper), the context is
// watched before each socket operation, which may wait without saying so;
// a cancelled wait still ends with the context's error.
func TestConnContextCancelWrapped(t *testing.T) {
	c, s := tcpPair(t)
	cfg := connConfig{maxMessage: defaultMaxMessage, fragmentSize: 4096, closeTimeout: time.Second, writeBufSize: defaultWriteBuf}
	conn := newConn(struct{ net.Conn }{c}, nil, cfg, defaultBufSize)
	t.Cleanup(func() { conn.CloseNow(); s.Close() })
	if conn.stream.Raw() {
		t.Fatal("a wrapped socket took the raw path")
	}
	conn.stream.PrepareWatch(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		if awaitWatch(t, conn, true) {
			cancel()
		}
	}()
	if _, _, err := conn.ReadMessage(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadMessage: %v, want context.Canceled", err)
	}
}

// The reader answers pings itself; when the server floods pings and never
// reads, the reader's pong write blocks. Its read's context must still end
// the call (the close timeout is long here).
func TestConnReadContextEndsReaderPongWrite(t *testing.T) {
	c, s := tcpPair(t)
	cfg := connConfig{maxMessage: 64 << 20, fragmentSize: 4096, closeTimeout: time.Minute, writeBufSize: defaultWriteBuf}
	conn := newConn(c, nil, cfg, defaultBufSize)
	t.Cleanup(func() { conn.CloseNow(); s.Close() })
	stop := make(chan struct{})
	defer close(stop)
	ping := make([]byte, 0, 127)
	ping = append(ping, 0x89, 125)
	ping = append(ping, make([]byte, 125)...)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Write(ping); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := conn.ReadMessage(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("ReadMessage: %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(15 * time.Second):
		conn.CloseNow()
		<-done
		t.Fatal("the read's context did not end a reader blocked writing a pong")
	}
}

// A WriteBatch that waits on a server that does not read ends with its
// context.
func TestConnWriteBatchContextCancel(t *testing.T) {
	conn, _ := rawConnPair(t)
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = make([]byte, 64<<10)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := conn.WriteBatch(ctx, BinaryMessage, msgs); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WriteBatch: %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(15 * time.Second):
		conn.CloseNow()
		<-done
		t.Fatal("WriteBatch's context did not end it")
	}
}

// A read whose context has ended before the call fails at once with the
// context's error even when a message is already buffered, and leaves the
// connection usable: the message is read by the next call.
func TestConnReadContextEndedBeforeCall(t *testing.T) {
	conn, srv := benchConn(t)
	if _, err := srv.Write(append(frame64(), frame64()...)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := conn.ReadMessage(context.Background()); err != nil {
		t.Fatal(err) // the second message is now buffered
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := conn.ReadMessage(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadMessage: %v, want context.Canceled", err)
	}
	if _, _, err := conn.NextReader(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("NextReader: %v, want context.Canceled", err)
	}
	if _, p, err := conn.ReadMessage(context.Background()); err != nil || len(p) != 64 {
		t.Fatalf("ReadMessage after: %v (%d bytes), want the buffered message", err, len(p))
	}
}
