//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"

	"github.com/wsclient/wsclient/wstest"
)

// concMessage builds the self-describing message number seq of writer w:
// "kind-w-seq-len:" followed by a payload that depends on all three, so the
// server can check every message is whole and untouched.
func concMessage(kind string, w, seq int) []byte {
	n := (w*131 + seq*977) % 9000
	if seq%7 == 0 {
		n += 20000 // some large ones, several fragments long
	}
	head := fmt.Sprintf("%s-%d-%d-%d:", kind, w, seq, n)
	return append([]byte(head), pattern(n, byte(w*31+seq))...)
}

// checkConcMessage parses and verifies a message built by concMessage.
func checkConcMessage(p []byte) (kind string, w, seq int, err error) {
	i := bytes.IndexByte(p, ':')
	if i < 0 {
		return "", 0, 0, fmt.Errorf("no header in %.40q", p)
	}
	f := strings.Split(string(p[:i]), "-")
	if len(f) != 4 {
		return "", 0, 0, fmt.Errorf("bad header %q", p[:i])
	}
	w, _ = strconv.Atoi(f[1])
	seq, _ = strconv.Atoi(f[2])
	if want := concMessage(f[0], w, seq); !bytes.Equal(p, want) {
		return "", 0, 0, fmt.Errorf("message %s-%d-%d corrupted or interleaved (%d bytes, want %d)", f[0], w, seq, len(p), len(want))
	}
	return f[0], w, seq, nil
}

// Many goroutines writing whole messages and streaming messages through
// NextWriter, plus pings, at once: the server receives every message whole,
// never interleaved with another, and each writer's messages in order.
func TestConnConcurrentWriters(t *testing.T) {
	const (
		writers  = 12
		streams  = 4
		perWrite = 40
		perRun   = 10
	)
	total := writers*perWrite + streams*perRun
	type result struct {
		pings int
		err   error
	}
	res := make(chan result, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
		next := map[string]int{}
		pings := 0
		for n := 0; n < total; {
			op, p, err := c.ReadMessage()
			if err != nil {
				res <- result{err: err}
				return nil
			}
			if op == wstest.OpPing {
				pings++
				continue
			}
			kind, w, seq, err := checkConcMessage(p)
			if err == nil {
				key := kind + strconv.Itoa(w)
				if seq != next[key] {
					err = fmt.Errorf("writer %s sent message %d after %d", key, seq, next[key]-1)
				}
				next[key] = seq + 1
				if wantOp := map[string]wstest.Opcode{"w": wstest.OpBinary, "s": wstest.OpText}[kind]; op != wantOp {
					err = fmt.Errorf("message %s-%d-%d has opcode %v", kind, w, seq, op)
				}
			}
			if err != nil {
				res <- result{err: err}
				return nil
			}
			n++
		}
		res <- result{pings: pings}
		return nil
	}, wstest.WithRecordLimit(0))
	conn := dialT(t, srv.URL, &Dialer{FragmentSize: 1500})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, writers+streams+1)
	for w := range writers {
		wg.Go(func() {
			for seq := range perWrite {
				if err := conn.WriteMessage(ctx, BinaryMessage, concMessage("w", w, seq)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for s := range streams {
		wg.Go(func() {
			for seq := range perRun {
				msg := concMessage("s", s, seq)
				wr, err := conn.NextWriter(ctx, TextMessage)
				if err != nil {
					errs <- err
					return
				}
				for p, k := msg, 1; len(p) > 0; k = k*3%1000 + 1 {
					n := min(k, len(p))
					if _, err := wr.Write(p[:n]); err != nil {
						errs <- err
						return
					}
					p = p[n:]
				}
				if err := wr.Close(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 100 {
			if err := conn.writeControl(ctx, frame.OpPing, []byte(strconv.Itoa(i))); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	r := recv(t, res)
	if r.err != nil {
		t.Fatalf("server: %v", r.err)
	}
	if r.pings != 100 {
		t.Fatalf("server saw %d pings, want 100", r.pings)
	}
}

// Writers and one reader at the same time against the echo server: every
// message comes back whole.
func TestConnConcurrentReadWrite(t *testing.T) {
	const writers, per = 8, 30
	srv := newEcho(t, wstest.WithRecordLimit(0))
	conn := dialT(t, srv.URL, &Dialer{FragmentSize: 4000})
	ctx := testCtx(t)
	seen := make(chan error, 1)
	go func() {
		got := map[string]bool{}
		for len(got) < writers*per {
			_, p, err := conn.ReadMessage(ctx)
			if err != nil {
				seen <- err
				return
			}
			kind, w, seq, err := checkConcMessage(p)
			if err != nil {
				seen <- err
				return
			}
			got[fmt.Sprint(kind, w, seq)] = true
		}
		seen <- nil
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for seq := range per {
				var err error
				if w%2 == 0 {
					err = conn.WriteMessage(ctx, BinaryMessage, concMessage("w", w, seq))
				} else {
					var wr interface {
						Write([]byte) (int, error)
						Close() error
					}
					wr, err = conn.NextWriter(ctx, BinaryMessage)
					if err == nil {
						wr.Write(concMessage("w", w, seq))
						err = wr.Close()
					}
				}
				if err != nil {
					t.Errorf("write: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := recv(t, seen); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(CloseNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// Close while other goroutines write and one reads: every call returns,
// writes fail only with ErrClosed or a lost-connection error.
func TestConnCloseDuringWrites(t *testing.T) {
	srv := newEcho(t, wstest.WithRecordLimit(0))
	conn := dialT(t, srv.URL, nil)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	going := make(chan struct{}, 7) // each writer's first write, the reader's first echo
	for w := range 6 {
		wg.Go(func() {
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				err := conn.WriteMessage(ctx, BinaryMessage, concMessage("w", w, seq))
				if err != nil {
					if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrConnectionLost) && !errors.Is(err, net.ErrClosed) {
						t.Errorf("write after Close: %v", err)
					}
					return
				}
				if seq == 0 {
					going <- struct{}{}
				}
			}
		})
	}
	wg.Go(func() {
		for n := 0; ; n++ {
			if _, _, err := conn.ReadMessage(ctx); err != nil {
				return
			}
			if n == 0 {
				going <- struct{}{}
			}
		}
	})
	for range 7 { // Close once every goroutine is under way
		recv(t, going)
	}
	done := make(chan error, 1)
	go func() { done <- conn.Close(CloseNormalClosure, "") }()
	if err := recv(t, done); err != nil {
		t.Logf("Close: %v", err) // the echo may still be busy; returning at all is the point
	}
	close(stop)
	wg.Wait()
}

// Cancelling the context of a ReadMessage that waits for data returns
// promptly with the context's error; so does a context deadline.
func TestConnReadContextCancel(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		<-c.Context().Done()
		return nil
	})
	t.Run("cancel", func(t *testing.T) {
		conn := dialT(t, srv.URL, nil)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, _, err := conn.ReadMessage(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadMessage: %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("returned %v after the read began", d)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		conn := dialT(t, srv.URL, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _, err := conn.ReadMessage(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("ReadMessage: %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("NextReader", func(t *testing.T) {
		conn := dialT(t, srv.URL, nil)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, _, err := conn.NextReader(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("NextReader: %v, want context.Canceled", err)
		}
	})
	t.Run("SetReadDeadline", func(t *testing.T) {
		conn := dialT(t, srv.URL, nil)
		conn.setReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, _, err := conn.ReadMessage(context.Background())
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("ReadMessage past the deadline: %v, want a timeout", err)
		}
	})
}

// A context that ends just as a read or write completes must not break the
// connection for the next call: the interruption meant for the finished call
// may not leak into the next one.
func TestConnContextCancelRace(t *testing.T) {
	srv := newEcho(t, wstest.WithRecordLimit(0))
	var conn *Conn
	redial := func() { conn = dialT(t, srv.URL, nil) }
	redial()
	bg := context.Background()
	for i := range 400 {
		if err := conn.WriteMessage(bg, TextMessage, []byte("m")); err != nil {
			t.Fatalf("iteration %d: write: %v", i, err)
		}
		// Not synchronisation: a pause that lets the echo arrive in most
		// iterations, so the cancel below races a read that can complete
		// at once (the race under test); either outcome is checked.
		time.Sleep(50 * time.Microsecond)
		ctx, cancel := context.WithCancel(bg)
		go cancel()
		_, _, err := conn.ReadMessage(ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("iteration %d: %v", i, err)
			}
			conn.CloseNow()
			redial()
			continue
		}
		// The read succeeded: the connection must still work.
		if err := conn.WriteMessage(bg, TextMessage, []byte("check")); err != nil {
			t.Fatalf("iteration %d: write after a successful read whose context was cancelled: %v", i, err)
		}
		if _, _, err := conn.ReadMessage(bg); err != nil {
			t.Fatalf("iteration %d: read after a successful read whose context was cancelled: %v", i, err)
		}
	}
}

// The same for writes: a write whose context ends as it completes must not
// leave the next write to fail.
func TestConnWriteContextCancelRace(t *testing.T) {
	srv := newEcho(t, wstest.WithRecordLimit(0))
	var conn *Conn
	redial := func() { conn = dialT(t, srv.URL, nil) }
	redial()
	bg := context.Background()
	for i := range 400 {
		ctx, cancel := context.WithCancel(bg)
		go cancel()
		if err := conn.WriteMessage(ctx, BinaryMessage, []byte("m")); err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("iteration %d: %v", i, err)
			}
			conn.CloseNow()
			redial()
			continue
		}
		if err := conn.WriteMessage(bg, BinaryMessage, []byte("check")); err != nil {
			t.Fatalf("iteration %d: write after a successful write whose context was cancelled: %v", i, err)
		}
		for range 2 {
			if _, _, err := conn.ReadMessage(bg); err != nil {
				t.Fatalf("iteration %d: read: %v", i, err)
			}
		}
	}
}

// A write blocked because the server does not read returns promptly with
// the context's error when the context ends.
func TestConnWriteContextCancel(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		<-c.Context().Done() // never reads
		return nil
	})
	conn := dialT(t, srv.URL, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	var err error
	for range 1000 {
		if err = conn.WriteMessage(ctx, BinaryMessage, make([]byte, 1<<20)); err != nil {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WriteMessage: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("returned after %v", d)
	}
}

// A writer whose context ends while it waits for another goroutine's write
// gives up alone: the other write, with its own context, completes and the
// connection stays usable.
func TestConnWriteContextIsolation(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(c *wstest.Conn) error {
		<-release // read nothing until the Ping has given up, so the big write blocks
		for {
			if _, err := c.ReadFrame(); err != nil {
				return nil
			}
		}
	}, wstest.WithRecordLimit(0))
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	// The big write has the writer lock once its first large socket write
	// has begun: wait for that event rather than for a guessed time.
	started := make(chan struct{})
	var once sync.Once
	d := &Dialer{Proxy: NoProxy, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var nd net.Dialer
		nc, err := nd.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &writeHookConn{Conn: nc, onWrite: func(n int) {
			if n >= 16<<10 {
				once.Do(func() { close(started) })
			}
		}}, nil
	}}
	conn := dialT(t, srv.URL, d)
	big := make(chan error, 1)
	go func() { big <- conn.WriteMessage(context.Background(), BinaryMessage, make([]byte, 32<<20)) }()
	recv(t, started)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := conn.Ping(ctx, []byte("impatient")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping: %v, want context.DeadlineExceeded", err)
	}
	close(release)
	if err := recv(t, big); err != nil {
		t.Fatalf("the other goroutine's write failed because of the Ping's context: %v", err)
	}
	if err := conn.writeControl(testCtx(t), frame.OpPing, []byte("patient")); err != nil {
		t.Fatalf("connection unusable afterwards: %v", err)
	}
}

// writeHookConn calls onWrite with the size of each Write before making it.
type writeHookConn struct {
	net.Conn
	onWrite func(n int)
}

func (w *writeHookConn) Write(p []byte) (int, error) {
	w.onWrite(len(p))
	return w.Conn.Write(p)
}
