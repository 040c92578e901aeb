package sock

import (
	"context"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"
)

// awaitWatching waits until a call of one direction waits with its context
// watched (PrepareWatch made the watch before the call began).
func awaitWatching(t testing.TB, s *Stream, read bool) {
	for deadline := time.Now().Add(10 * time.Second); !s.Watching(read); {
		if time.Now().After(deadline) {
			t.Error("the call never waited with its context watched")
			return
		}
		runtime.Gosched()
	}
}

// A read that waits ends when its context does, raw or wrapped, with a
// timeout that CtxErr turns into the context's error, closing the
// connection; a fresh context is not kept registered, one used twice in a
// row is.
func TestStreamReadContext(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		for _, reused := range []bool{false, true} {
			s, srv := newStream(t, wrapped)
			s.PrepareWatch(true)
			ctx, cancel := context.WithCancel(context.Background())
			p := make([]byte, 8)
			if reused {
				go func() {
					awaitWatching(t, s, true)
					srv.Write([]byte("x"))
				}()
				s.BeginRead(ctx)
				if _, err := s.Read(p); err != nil {
					t.Fatal(err)
				}
				s.EndRead()
			}
			go func() {
				awaitWatching(t, s, true)
				cancel()
			}()
			s.BeginRead(ctx)
			_, err := s.Read(p)
			s.EndRead()
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				t.Fatalf("wrapped %v reused %v: Read = %v, want a timeout", wrapped, reused, err)
			}
			if err := s.CtxErr(ctx, err); !errors.Is(err, context.Canceled) {
				t.Fatalf("CtxErr = %v, want context.Canceled", err)
			}
			if got := s.Registered(true); (got != nil) != reused {
				t.Errorf("wrapped %v reused %v: registered %v", wrapped, reused, got)
			}
			if _, err := s.Conn().Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("after CtxErr the connection writes: %v", err)
			}
		}
	}
}

// A call whose context never waits leaves no watch; CtxErr leaves errors
// of a context that has not ended alone.
func TestStreamContextNotWatchedWithoutWait(t *testing.T) {
	s, srv := newStream(t, false)
	go srv.Write([]byte("x"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	awaitUnread(t, s, 1)
	s.BeginRead(ctx)
	s.BeginWrite(ctx)
	if _, err := s.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	s.EndRead()
	s.EndWrite()
	if s.WatchMade(true) || s.WatchMade(false) {
		t.Error("calls that never waited made a watch")
	}
	e := errors.New("other")
	if err := s.CtxErr(ctx, e); err != e {
		t.Errorf("CtxErr = %v, want the error itself", err)
	}
}

// After a read's context moved the deadline, the user's read deadline is
// put back: the next read waits for it, not failing at once.
func TestStreamReadDeadlineRestored(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		s, srv := newStream(t, wrapped)
		s.SetReadDeadline(time.Now().Add(time.Hour))
		s.PrepareWatch(true)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			awaitWatching(t, s, true)
			cancel()
		}()
		p := make([]byte, 8)
		s.BeginRead(ctx)
		_, err := s.Read(p)
		s.EndRead()
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("wrapped %v: Read = %v, want a timeout", wrapped, err)
		}
		go srv.Write([]byte("after"))
		if n, err := s.Read(p); err != nil || string(p[:n]) != "after" {
			t.Fatalf("wrapped %v: the read after = %q, %v; want the user's deadline back", wrapped, p[:n], err)
		}
	}
}

// fillSocket writes to s until a write would wait, so that the next one
// waits (the server never reads).
func fillSocket(t testing.TB, s *Stream) {
	t.Helper()
	for {
		n, err := s.WriteNow(make([]byte, 64<<10))
		if err != nil {
			t.Fatal(err)
		}
		if n < 64<<10 {
			return
		}
	}
}

// A write the reader makes (a pong) ends with its own deadline, which
// EndBoundedWrite reports, or with the read's context, which it does not
// report as the write's timeout; the user's write deadline is put back.
func TestStreamBoundedWrite(t *testing.T) {
	s, _ := newStream(t, false)
	if !s.Raw() {
		t.Skip("no WriteNow here")
	}
	fillSocket(t, s)
	s.BeginBoundedWrite(20*time.Millisecond, false)
	_, err := s.Write(make([]byte, 8<<20))
	if !s.EndBoundedWrite(err, false) {
		t.Fatalf("a bounded write that timed out: %v, not reported", err)
	}

	s.PrepareWatch(true)
	ctx, cancel := context.WithCancel(context.Background())
	s.BeginRead(ctx)
	go func() {
		awaitWatching(t, s, true)
		cancel()
	}()
	s.BeginBoundedWrite(time.Hour, true) // watches the read's context
	_, err = s.Write(make([]byte, 8<<20))
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("the reader's write = %v, want a timeout", err)
	}
	if s.EndBoundedWrite(err, true) {
		t.Fatal("the read's context ending the reader's write was reported as the write's timeout")
	}
	s.EndRead()

	// The user's deadline (none) is back: a write would wait again.
	s.SetWriteDeadline(time.Now().Add(30 * time.Millisecond))
	start := time.Now()
	if _, err := s.Write(make([]byte, 8<<20)); err == nil {
		t.Fatal("a write into a full socket did not wait for the user's deadline")
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("the write failed after %v, before the user's deadline", d)
	}
}
