//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/wstest"
)

// A header that announces an absurd length must not make the client
// allocate it (or panic trying), with or without a size limit.
func TestConnHugeAnnouncedLength(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int64
		size  int64
	}{
		{"no limit, 2^62 bytes", -1, 1 << 62},
		{"default limit, 32 MiB", 0, 32 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(c *wstest.Conn) error {
				hdr := frame.Append(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: tc.size})
				if err := c.WriteRaw(append(hdr, "only a few bytes"...)); err != nil {
					return err
				}
				// Not synchronisation: the peer stalls mid-payload on
				// purpose, so that the client waits inside the message
				// (where an allocation by the announced length would have
				// happened) before the connection is lost.
				time.Sleep(100 * time.Millisecond)
				return c.Drop()
			})
			conn := dialT(t, srv.URL, &Dialer{MaxMessageSize: tc.limit})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := conn.ReadMessage(testCtx(t))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrConnectionLost) {
				t.Fatalf("got %v, want ErrConnectionLost", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Fatalf("allocated %d bytes for a message of which 16 bytes arrived", grew)
			}
		})
	}
}

// The reader never waits for the write lock: while a writer is stuck on a
// server that is itself stuck writing to us, pings are still answered and
// messages still read. A server that pings before every echo used to
// deadlock the connection: our reader waited for the write lock to pong,
// our writer waited for the server to read, the server waited for us to read
// its echo.
func TestConnReaderNeverBlocksOnWriter(t *testing.T) {
	const n, size = 12, 4 << 20
	srv := newServer(t, func(c *wstest.Conn) error {
		for range n {
			op, p, err := c.ReadMessage()
			for err == nil && op.IsControl() {
				op, p, err = c.ReadMessage() // pongs
			}
			if err != nil {
				return err
			}
			if err := c.WriteFrame(true, 0, wstest.OpPing, []byte("hb")); err != nil {
				return err
			}
			if err := c.WriteMessage(op, p); err != nil {
				return err
			}
		}
		code, reason, err := c.ExpectClose()
		if err != nil {
			return err
		}
		return c.Close(code, reason)
	}, wstest.WithRecordLimit(0))
	conn := dialT(t, srv.URL, nil)
	ctx := testCtx(t)
	msg := bytes.Repeat([]byte{7}, size)
	var wg sync.WaitGroup
	wg.Add(1)
	werr := make(chan error, 1)
	go func() {
		defer wg.Done()
		for range n {
			if err := conn.WriteMessage(ctx, BinaryMessage, msg); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	for i := range n {
		_, p, err := conn.ReadMessage(ctx)
		if err != nil || len(p) != size {
			t.Fatalf("echo %d: %d bytes, %v", i, len(p), err)
		}
	}
	if err := recv(t, werr); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := conn.Close(CloseNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

// A streamed message whose context ends after a fragment went out cannot be
// finished: the connection is closed rather than left with a half message
// that the next message would corrupt.
func TestConnStreamInterruptedClosesConn(t *testing.T) {
	dropped := make(chan struct{}) // the client closed the connection
	srv := newServer(t, func(c *wstest.Conn) error {
		defer close(dropped)
		for {
			if _, err := c.ReadFrame(); err != nil {
				return nil
			}
		}
	})
	conn := dialT(t, srv.URL, &Dialer{FragmentSize: 16})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	w, err := conn.NextWriter(ctx, BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 16)); err != nil { // first fragment goes out
		t.Fatal(err)
	}
	// Another writer holds the frame lock past the context's end: until
	// the interrupted writer has closed the connection (which it does
	// before waiting for the lock to mark the connection closed).
	conn.wmu.lock()
	released := make(chan struct{})
	go func() {
		defer close(released)
		select {
		case <-dropped:
		case <-time.After(waitLong): // the assertions below then fail
		}
		conn.wmu.unlock()
	}()
	_, err = w.Write(make([]byte, 16))
	<-released
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second fragment: %v, want context.DeadlineExceeded", err)
	}
	w.Close()
	if err := conn.WriteMessage(context.Background(), TextMessage, []byte("x")); err == nil {
		t.Fatal("a new message went out inside the unfinished one")
	}
}

// A writer whose context ends before its first fragment goes out leaves
// the connection usable.
func TestConnStreamCancelledBeforeFirstFragment(t *testing.T) {
	srv := newEcho(t)
	conn := dialT(t, srv.URL, &Dialer{FragmentSize: 16})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	w, err := conn.NextWriter(ctx, BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	conn.wmu.lock()
	_, err = w.Write(make([]byte, 16))
	conn.wmu.unlock()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write: %v", err)
	}
	w.Close()
	if err := conn.WriteMessage(testCtx(t), TextMessage, []byte("still fine")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := conn.ReadMessage(testCtx(t)); err != nil || string(p) != "still fine" {
		t.Fatalf("%q %v", p, err)
	}
}
