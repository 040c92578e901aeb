package sock

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
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
		t.Fatal(err)
	}
	server = <-ch
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// newStream returns a Stream over a loopback TCP connection, wrapped in a
// type of its own when wrapped is set (which takes the plain Read and
// Write), and the server's end.
func newStream(t testing.TB, wrapped bool) (*Stream, net.Conn) {
	t.Helper()
	c, srv := tcpPair(t)
	s := new(Stream)
	if wrapped {
		s.Init(struct{ net.Conn }{c})
	} else {
		s.Init(c)
	}
	return s, srv
}

// lender is a Buffer that records how it is used.
type lender struct {
	buf          []byte
	takes, parks int
	parked       chan struct{} // if not nil, told of a Park
	pool         [64]byte
}

func (l *lender) Take() []byte {
	l.takes++
	if l.buf == nil {
		l.buf = l.pool[:] // as if from a pool
	}
	return l.buf
}

func (l *lender) Park() {
	l.parks++
	l.buf = nil
	select {
	case l.parked <- struct{}{}:
	default: // told already (the reader may wake up early and park again)
	}
}

// awaitUnread waits until the kernel holds n bytes for s to read.
func awaitUnread(t testing.TB, s *Stream, n uint64) {
	t.Helper()
	if !lowatSupported {
		t.Skip("the unread bytes cannot be counted here")
	}
	for deadline := time.Now().Add(5 * time.Second); s.Unread() < n; {
		if time.Now().After(deadline) {
			t.Fatal("the bytes never arrived")
		}
		runtime.Gosched()
	}
}

// Only a plain socket is read and written raw; a wrapper keeps its own
// Read and Write.
func TestStreamRaw(t *testing.T) {
	if s, _ := newStream(t, true); s.Raw() {
		t.Error("a wrapped socket is Raw")
	}
	s, _ := newStream(t, false)
	if s.Raw() != (rawSupported) {
		t.Errorf("Raw() = %v on a plain TCP socket, want %v", s.Raw(), rawSupported)
	}
}

// ReadBuffered keeps the lent buffer when the socket has data; when it has
// none, it parks the buffer before waiting and takes one again once bytes
// arrive.
func TestStreamReadBufferedParksWhileWaiting(t *testing.T) {
	s, srv := newStream(t, false)
	if !s.Raw() {
		t.Skip("no raw socket reads here")
	}
	var l lender
	srv.Write([]byte("ready"))
	awaitUnread(t, s, 5)
	n, err := s.ReadBuffered(&l)
	if err != nil || string(l.buf[:n]) != "ready" {
		t.Fatalf("ReadBuffered = %d %v (%q), want ready", n, err, l.buf[:n])
	}
	if l.takes != 1 || l.parks != 0 {
		t.Fatalf("with data waiting: %d takes, %d parks; want 1, 0", l.takes, l.parks)
	}
	l = lender{parked: make(chan struct{}, 1)}
	done := make(chan error, 1)
	var got []byte
	go func() {
		n, err := s.ReadBuffered(&l)
		if err == nil {
			got = l.buf[:n]
		}
		done <- err
	}()
	<-l.parked // the reader waits, without the buffer
	srv.Write([]byte("later"))
	if err := <-done; err != nil || string(got) != "later" {
		t.Fatalf("ReadBuffered = %v (%q), want later", err, got)
	}
	// Each park (one, or more after an early wake-up) is followed by a
	// take.
	if l.parks < 1 || l.takes != l.parks+1 {
		t.Fatalf("waiting: %d takes, %d parks; want one take after each park", l.takes, l.parks)
	}
}

// The end of the stream is io.EOF; a closed socket's error is what a
// socket Read gives: one *net.OpError "read" with the addresses around
// net.ErrClosed, not the raw read's "raw-read" error wrapped in another.
func TestStreamReadBufferedErrors(t *testing.T) {
	s, srv := newStream(t, false)
	if !s.Raw() {
		t.Skip("no raw socket reads here")
	}
	srv.Close()
	var l lender
	if n, err := s.ReadBuffered(&l); n != 0 || err != io.EOF {
		t.Fatalf("ReadBuffered at the end = %d, %v; want io.EOF", n, err)
	}
	s.Conn().Close()
	_, err := s.ReadBuffered(&l)
	assertOpError(t, err, "read")
}

// Read and Write move bytes both ways, raw or through a wrapper, with a
// context or without.
func TestStreamReadWrite(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		for _, withCtx := range []bool{false, true} {
			s, srv := newStream(t, wrapped)
			ctx, cancel := context.WithCancel(context.Background())
			if withCtx {
				s.BeginRead(ctx)
				s.BeginWrite(ctx)
			}
			go srv.Write([]byte("ping"))
			p := make([]byte, 16)
			n, err := s.Read(p)
			if err != nil || string(p[:n]) != "ping" {
				t.Fatalf("wrapped %v, ctx %v: Read = %q, %v", wrapped, withCtx, p[:n], err)
			}
			if n, err := s.Write([]byte("pong")); n != 4 || err != nil {
				t.Fatalf("wrapped %v, ctx %v: Write = %d, %v", wrapped, withCtx, n, err)
			}
			s.EndRead()
			s.EndWrite()
			cancel()
			if _, err := io.ReadFull(srv, p[:4]); err != nil || string(p[:4]) != "pong" {
				t.Fatalf("server read %q, %v", p[:4], err)
			}
			srv.Close()
			if _, err := s.Read(p); err != io.EOF {
				t.Fatalf("Read at the end: %v, want io.EOF", err)
			}
		}
	}
}

// The first raw read and the first raw write with contexts may run at
// once: making the shared raw I/O state must not race (go test -race).
func TestStreamFirstReadAndWriteConcurrent(t *testing.T) {
	for range 20 {
		s, srv := newStream(t, false)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			s.BeginRead(ctx)
			defer s.EndRead()
			if _, err := s.Read(make([]byte, 8)); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			s.BeginWrite(ctx)
			defer s.EndWrite()
			if _, err := s.Write([]byte("x")); err != nil {
				t.Error(err)
			}
		}()
		srv.Write([]byte("y"))
		wg.Wait()
		cancel()
	}
}

// WriteNow takes what the socket has room for and returns at once when it
// is full.
func TestStreamWriteNow(t *testing.T) {
	s, srv := newStream(t, false)
	if !s.Raw() {
		t.Skip("no raw socket writes here")
	}
	b := make([]byte, 1<<20)
	total := 0
	for range 1000 {
		n, err := s.WriteNow(b)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < len(b) {
			break
		}
	}
	n, err := s.WriteNow(b)
	if err != nil || n != 0 {
		t.Fatalf("WriteNow on a full socket = %d, %v; want 0, nil", n, err)
	}
	got := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, srv)
		got <- n
	}()
	s.Conn().Close()
	if n := <-got; n != int64(total) {
		t.Fatalf("the server read %d bytes, want the %d WriteNow took", n, total)
	}
}

// WriteBuffers writes every buffer, in order.
func TestStreamWriteBuffers(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		s, srv := newStream(t, wrapped)
		nb := net.Buffers{[]byte("ab"), []byte("cd"), []byte("e")}
		if n, err := s.WriteBuffers(&nb); n != 5 || err != nil {
			t.Fatalf("WriteBuffers = %d, %v", n, err)
		}
		p := make([]byte, 5)
		if _, err := io.ReadFull(srv, p); err != nil || !bytes.Equal(p, []byte("abcde")) {
			t.Fatalf("server read %q, %v", p, err)
		}
	}
}

// A write into a socket that stays full ends at the user's deadline with
// os.ErrDeadlineExceeded in a *net.OpError, a timeout.
func TestStreamWriteDeadlineError(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		s, _ := newStream(t, wrapped)
		s.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		ctx, cancel := context.WithCancel(context.Background())
		s.BeginWrite(ctx)
		var err error
		for i := 0; err == nil && i < 1e5; i++ {
			_, err = s.Write(make([]byte, 64<<10))
		}
		s.EndWrite()
		cancel()
		// (The raw write reports it as syscall.RawConn's Write does:
		// "raw-write", as the Conn always has.)
		var oe *net.OpError
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &oe) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("wrapped %v: %v, want a *net.OpError timeout around os.ErrDeadlineExceeded", wrapped, err)
		}
	}
}

// Reads and writes that do not wait allocate nothing, with a context that
// can end or without.
func TestStreamAllocs(t *testing.T) {
	s, srv := newStream(t, false)
	go io.Copy(srv, srv) // echo
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var l lender
	p := []byte("0123456789")
	q := make([]byte, len(p))
	var r io.Reader = s
	if s.Raw() {
		r = &readBuffered{s, &l}
	}
	if a := testing.AllocsPerRun(200, func() {
		s.BeginWrite(ctx)
		s.Write(p)
		s.EndWrite()
		s.BeginRead(ctx)
		if _, err := io.ReadFull(r, q); err != nil {
			t.Fatal(err)
		}
		s.EndRead()
	}); a != 0 {
		t.Errorf("%v allocations per write and read, want 0", a)
	}
}

// readBuffered reads through ReadBuffered.
type readBuffered struct {
	s *Stream
	l *lender
}

func (r *readBuffered) Read(p []byte) (int, error) {
	n, err := r.s.ReadBuffered(r.l)
	return copy(p, r.l.buf[:n]), err
}

// assertOpError checks that err is what a socket's Read or Write returns
// once it is closed: one *net.OpError op with the addresses around
// net.ErrClosed, not wrapping another *net.OpError.
func assertOpError(t testing.TB, err error, op string) {
	t.Helper()
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != op || oe.Source == nil || oe.Addr == nil || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("%v: want a *net.OpError %s with addresses around net.ErrClosed", err, op)
	}
	var inner *net.OpError
	if errors.As(oe.Err, &inner) {
		t.Fatalf("%v wraps another *net.OpError (%q)", err, inner.Op)
	}
}
