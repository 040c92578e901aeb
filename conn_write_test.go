//go:build !js

package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/test/netfault"
	"github.com/wsclient/wsclient/wstest"
)

// countingConn counts the Write calls (and writev calls through
// net.Buffers, which it passes on) made on a net.Conn.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// rawPair returns a Conn over a counting loopback TCP connection and the
// server's end, which reads frames with readFrame.
func rawPair(t testing.TB) (*Conn, *countingConn, *bufio.Reader, net.Conn) {
	t.Helper()
	c, s := tcpPair(t)
	cc := &countingConn{Conn: c}
	cfg := connConfig{maxMessage: defaultMaxMessage, fragmentSize: 4096, closeTimeout: time.Second, writeBufSize: defaultWriteBuf}
	conn := newConn(cc, nil, cfg, defaultBufSize)
	t.Cleanup(func() { conn.CloseNow(); s.Close() })
	return conn, cc, bufio.NewReaderSize(s, 64<<10), s
}

// queued returns the number of waiters in the write lock's queue.
func queued(c *Conn) int {
	c.wmu.mu.Lock()
	defer c.wmu.mu.Unlock()
	n := 0
	for w := c.wmu.head; w != nil; w = w.next {
		n++
	}
	return n
}

// waitQueued waits until n writers wait on the write lock.
func waitQueued(t testing.TB, c *Conn, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for queued(c) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writers queued, want %d", queued(c), n)
		}
		time.Sleep(time.Millisecond) // a bounded poll: nothing signals that a writer has queued
	}
}

// Writers that find the lock held hand their frames to the holder, which
// sends them all with one write.
func TestConnWriteCombinesWaitingWriters(t *testing.T) {
	conn, cc, r, _ := rawPair(t)
	const n = 20
	conn.wmu.lock() // stands for a writer busy on the socket
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- conn.WriteMessage(testCtx(t), BinaryMessage, fmt.Appendf(nil, "msg %d", i)) }()
	}
	waitQueued(t, conn, n)
	conn.unlockWrite()
	for range n {
		if err := recv(t, errs); err != nil {
			t.Fatal(err)
		}
	}
	if w := cc.writes.Load(); w != 1 {
		t.Errorf("%d writes for %d queued frames, want 1", w, n)
	}
	seen := map[string]bool{}
	for range n {
		_, p, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		seen[string(p)] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct messages, want %d", len(seen), n)
	}
}

// Many goroutines write at once, so that frames are combined: every
// message arrives whole and each goroutine's messages in order.
func TestConnWriteCombiningKeepsOrder(t *testing.T) {
	conn, cc, r, _ := rawPair(t)
	const writers, per = 16, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				msg := fmt.Appendf(nil, "%d %d ", w, i)
				msg = append(msg, bytes.Repeat([]byte{byte(w)}, (w*37+i*11)%700)...)
				if err := conn.WriteMessage(testCtx(t), BinaryMessage, msg); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	next := make([]int, writers)
	for range writers * per {
		_, p, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		var w, i int
		if _, err := fmt.Sscanf(string(p), "%d %d ", &w, &i); err != nil {
			t.Fatalf("bad message %.30q: %v", p, err)
		}
		if i != next[w] {
			t.Fatalf("writer %d: message %d arrived, want %d", w, i, next[w])
		}
		next[w]++
		body := p[len(fmt.Sprintf("%d %d ", w, i)):]
		if len(body) != (w*37+i*11)%700 || bytes.Count(body, []byte{byte(w)}) != len(body) {
			t.Fatalf("writer %d message %d corrupted", w, i)
		}
	}
	wg.Wait()
	t.Logf("%d writes for %d messages", cc.writes.Load(), writers*per)
}

// A writer whose context ends while its frame waits in the queue gives up
// without writing; the others' frames go out.
func TestConnWriteCancelWhileQueued(t *testing.T) {
	conn, _, r, _ := rawPair(t)
	conn.wmu.lock()
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- conn.WriteMessage(ctx, TextMessage, []byte("never")) }()
	waitQueued(t, conn, 1)
	other := make(chan error, 1)
	go func() { other <- conn.WriteMessage(testCtx(t), TextMessage, []byte("kept")) }()
	waitQueued(t, conn, 2)
	cancel()
	if err := recv(t, gaveUp); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled writer: %v, want context.Canceled", err)
	}
	conn.unlockWrite()
	if err := recv(t, other); err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteMessage(testCtx(t), TextMessage, []byte("after")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kept", "after"} {
		if _, p, err := readFrame(r); err != nil || string(p) != want {
			t.Fatalf("got %q, %v; want %q", p, err, want)
		}
	}
}

// A peer that stops reading leaves the holder stuck in its write. A writer
// whose frame the holder took ends, when its context does, by closing the
// connection (as a write whose context ends does); the holder's write
// fails rather than hanging.
func TestConnWriteCancelWhileTakenByStuckHolder(t *testing.T) {
	conn, _, _, _ := rawPair(t) // the server never reads
	conn.wmu.lock()
	big := make(chan error, 1)
	go func() { big <- conn.WriteMessage(context.Background(), BinaryMessage, make([]byte, 64<<20)) }()
	waitQueued(t, conn, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	small := make(chan error, 1)
	go func() { small <- conn.WriteMessage(ctx, TextMessage, []byte("small")) }()
	waitQueued(t, conn, 2)
	conn.unlockWrite() // the big writer takes the small frame, then blocks
	if err := recv(t, small); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("small writer: %v, want context.DeadlineExceeded", err)
	}
	if err := recv(t, big); err == nil {
		t.Fatal("the stuck write succeeded on a closed connection")
	}
}

// A single writer's burst through WriteBatch goes out in one write when it
// fits the buffer, and a large message in the batch with one writev; the
// messages arrive whole, in order, and the caller's data is not modified.
func TestConnWriteBatch(t *testing.T) {
	conn, cc, r, _ := rawPair(t)
	var msgs [][]byte
	for i := range 30 {
		msgs = append(msgs, bytes.Repeat([]byte{byte(i)}, i*50))
	}
	keep := make([][]byte, len(msgs))
	for i, m := range msgs {
		keep[i] = bytes.Clone(m)
	}
	n, err := conn.WriteBatch(testCtx(t), BinaryMessage, msgs)
	if err != nil || n != len(msgs) {
		t.Fatalf("WriteBatch: %d, %v", n, err)
	}
	if w := cc.writes.Load(); w != 1 {
		t.Errorf("%d writes for a 22 KiB batch, want 1", w)
	}
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	bigCopy := bytes.Clone(big)
	n, err = conn.WriteBatch(testCtx(t), TextMessage, [][]byte{[]byte("before"), big, []byte("after")})
	if err != nil || n != 3 {
		t.Fatalf("WriteBatch: %d, %v", n, err)
	}
	if n, err := conn.WriteBatch(testCtx(t), BinaryMessage, nil); n != 0 || err != nil {
		t.Fatalf("empty batch: %d, %v", n, err)
	}
	if _, err := conn.WriteBatch(testCtx(t), PingMessage, msgs); err == nil {
		t.Fatal("WriteBatch accepted a ping")
	}
	for i := range msgs {
		if !bytes.Equal(msgs[i], keep[i]) {
			t.Fatalf("message %d modified", i)
		}
		h, p, err := readFrame(r)
		if err != nil || !h.Fin || h.Opcode != frame.OpBinary || !bytes.Equal(p, keep[i]) {
			t.Fatalf("message %d: %+v %d bytes %v", i, h, len(p), err)
		}
	}
	for _, want := range [][]byte{[]byte("before"), bigCopy, []byte("after")} {
		h, p, err := readFrame(r)
		if err != nil || h.Opcode != frame.OpText || !bytes.Equal(p, want) {
			t.Fatalf("%+v %d bytes %v", h, len(p), err)
		}
	}
	if !bytes.Equal(big, bigCopy) {
		t.Fatal("the large message was modified")
	}
}

// WriteBatch with compression on compresses each message in turn.
func TestConnWriteBatchCompressed(t *testing.T) {
	srv := newEcho(t, wstest.WithDeflate(wstest.DeflateOptions{}))
	conn := dialT(t, srv.URL, &Dialer{Compression: &CompressionOptions{}})
	msgs := [][]byte{bytes.Repeat([]byte("a"), 2000), []byte("b"), bytes.Repeat([]byte("c"), 5000)}
	if n, err := conn.WriteBatch(testCtx(t), TextMessage, msgs); err != nil || n != 3 {
		t.Fatalf("WriteBatch: %d, %v", n, err)
	}
	for _, want := range msgs {
		_, p, err := conn.ReadMessage(testCtx(t))
		if err != nil || !bytes.Equal(p, want) {
			t.Fatalf("echo: %d bytes, %v", len(p), err)
		}
	}
}

// Large messages go out as one writev of the header and the masked payload
// chunks, through a peer that reads slowly, byte-exact, with the caller's
// data untouched.
func TestConnWriteLargeSlowReader(t *testing.T) {
	conn, _, _, s := rawPair(t)
	msg := make([]byte, 5<<20+123)
	for i := range msg {
		msg[i] = byte(i>>8 ^ i)
	}
	orig := bytes.Clone(msg)
	got := make(chan []byte, 2)
	go func() {
		// Read in small pieces with pauses, so the writer blocks often.
		r := bufio.NewReaderSize(&slowReader{r: s}, 4096)
		for range 2 {
			_, p, err := readFrame(r)
			if err != nil {
				got <- nil
				return
			}
			got <- p
		}
	}()
	for range 2 {
		if err := conn.WriteMessage(testCtx(t), BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if p := recv(t, got); !bytes.Equal(p, orig) {
			t.Fatalf("received %d bytes differing from the %d sent", len(p), len(orig))
		}
	}
	if !bytes.Equal(msg, orig) {
		t.Fatal("the caller's data was modified")
	}
}

// A cancellable context reused across writes costs no allocation; the
// steady-state write path allocates nothing.
func TestConnWriteContextAllocs(t *testing.T) {
	conn, _, _, s := rawPair(t)
	go io.Copy(io.Discard, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msg := make([]byte, 64)
	conn.WriteMessage(ctx, BinaryMessage, msg)
	if a := testing.AllocsPerRun(200, func() { conn.WriteMessage(ctx, BinaryMessage, msg) }); a != 0 {
		t.Errorf("%v allocations per write with a reused cancellable context, want 0", a)
	}
	msgs := [][]byte{msg, msg, msg}
	if a := testing.AllocsPerRun(200, func() { conn.WriteBatch(ctx, BinaryMessage, msgs) }); a != 0 {
		t.Errorf("%v allocations per WriteBatch, want 0", a)
	}
	// A fresh context per call: WithCancel's own allocations and its done
	// channel, and, as this connection is a wrapper (each write watches
	// its context, see internal/sock/context.go), context.AfterFunc's four.
	base := testing.AllocsPerRun(200, func() {
		c, cancel := context.WithCancel(ctx)
		_ = c.Done()
		cancel()
	})
	if a := testing.AllocsPerRun(200, func() {
		c, cancel := context.WithCancel(ctx)
		_ = c.Done()
		conn.WriteMessage(c, BinaryMessage, msg)
		cancel()
	}); a > base+4 {
		t.Errorf("%v allocations per write with a fresh context (%v for the context), want at most 4 more", a, base)
	}
}

// A context reused for writes stays registered between them; cancelling it
// while no write is under way makes the next write with it fail at once,
// without touching the socket, and leaves the connection usable with
// another context.
func TestConnWriteReusedContextCancelledBetweenWrites(t *testing.T) {
	conn, _, r, _ := rawPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	for range 3 {
		if err := conn.WriteMessage(ctx, TextMessage, []byte("a")); err != nil {
			t.Fatal(err)
		}
	}
	if !conn.stream.WatchMade(false) || conn.stream.Registered(false) != ctx {
		t.Fatal("the reused context is not kept registered")
	}
	cancel()
	if err := conn.WriteMessage(ctx, TextMessage, []byte("never")); !errors.Is(err, context.Canceled) {
		t.Fatalf("write with the cancelled context: %v", err)
	}
	if err := conn.WriteMessage(testCtx(t), TextMessage, []byte("b")); err != nil {
		t.Fatalf("connection unusable afterwards: %v", err)
	}
	for _, want := range []string{"a", "a", "a", "b"} {
		if _, p, err := readFrame(r); err != nil || string(p) != want {
			t.Fatalf("got %q, %v; want %q", p, err, want)
		}
	}
}

// A context used once is not left registered: cancelling it later costs
// nothing and changes nothing.
func TestConnWriteFreshContextNotKept(t *testing.T) {
	conn, _, _, s := rawPair(t)
	go io.Copy(io.Discard, s)
	ctx, cancel := context.WithCancel(context.Background())
	if err := conn.WriteMessage(ctx, TextMessage, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if conn.stream.Registered(false) != nil {
		t.Fatal("a context used once stayed registered")
	}
	cancel()
	if err := conn.WriteMessage(context.Background(), TextMessage, []byte("b")); err != nil {
		t.Fatal(err)
	}
}

// A batch whose write fails part-way reports as written the messages the
// socket took whole (the server has them: a caller that sent them again
// would duplicate them) and fails the rest.
func TestConnWriteBatchPartialWrite(t *testing.T) {
	got := make(chan []string, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		var texts []string
		defer func() { got <- texts }()
		for {
			op, p, err := c.ReadMessage()
			if err != nil || op != wstest.OpText {
				return nil
			}
			texts = append(texts, string(p))
		}
	})
	// Each frame is 2+4+1 bytes: cutting the last 10 leaves the fourth
	// frame short and the fifth unsent.
	d := &Dialer{Proxy: NoProxy, NetDialContext: netfault.Dial(func(nc net.Conn) net.Conn {
		return &netfault.CutConn{Conn: nc, Cut: 3 + 7}
	})}
	conn := dialT(t, srv.URL, d)
	msgs := [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e")}
	n, err := conn.WriteBatch(context.Background(), TextMessage, msgs)
	if n != 3 || err == nil {
		t.Fatalf("WriteBatch = %d, %v; want 3 and an error", n, err)
	}
	if texts := recv(t, got); !slices.Equal(texts, []string{"a", "b", "c"}) {
		t.Fatalf("server got %q, want [a b c]", texts)
	}
}

// A write the server refuses by resetting the connection, on a Conn that
// nobody reads, closes the socket before it returns: the socket was left
// open for a reader (frameBatch.fail), and there is none.
func TestConnWriteResetWithoutReaderClosesSocket(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithReadLimit(1 << 20)) // its refusal is the point: no WithT
	defer srv.Close()
	conn := dialT(t, srv.URL, nil)
	err := conn.WriteMessage(testCtx(t), BinaryMessage, make([]byte, 40<<20))
	if err == nil {
		t.Fatal("a 40 MiB message to a server with a 1 MiB limit was written")
	}
	var ce *CloseError
	if !peerReset(err) && !errors.As(err, &ce) {
		t.Logf("the write failed otherwise (%v): nothing to check", err)
		return
	}
	if _, rerr := conn.nc.Read(make([]byte, 1)); !errors.Is(rerr, net.ErrClosed) {
		t.Fatalf("the socket after the failed write: Read = %v, want net.ErrClosed", rerr)
	}
}
