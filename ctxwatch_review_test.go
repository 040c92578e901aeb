package wsclient

import (
	"context"
	"errors"
	"testing"
	"time"
)

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
