package sock

import "context"

// Contexts of blocking calls.
//
// A context that ends while a call waits on the socket interrupts the wait
// by moving the socket's deadline into the past (a watch does it). Most
// calls never wait: a write the socket takes at once, a read served from
// buffered bytes or by a socket read that returns data. So a call only
// records its context (BeginRead, BeginWrite), and its caller checks
// whether it has already ended; the context is watched only from the point
// where the call is about to wait (ArmRead, armWrite): on a plain socket,
// when a read or write attempt finds the socket not ready (see Read and
// Write); on any other connection (TLS, an HTTP/2 stream, a wrapper),
// before each socket read or write, which may wait without saying so.
//
// A watched context is registered with context.AfterFunc (see
// watch.start). A context used by two watched calls in a row stays
// registered, which then costs nothing per call; any other context is
// registered for the call only, which on a fresh context costs its done
// channel and AfterFunc's allocations (the callback's context, the
// parent's children map and its group, the stop function), five in all.
// Watching such a call from a goroutine waiting on ctx.Done() instead
// costs only the done channel, but two goroutine wake-ups per call (a
// fresh-context round trip took 38 µs against 32 µs with AfterFunc and 28
// µs with context.Background()) and a goroutine stack per waiting call
// (about 2.5 KB, against well under 1 KB), so a connection blocked in a
// long read costs more: AfterFunc it is.

// BeginRead records ctx as the context of the read under way, unless it
// can never end (ctx.Done returns nil, as for context.Background and the
// contexts derived from it without a cancel). The caller is the reader
// and calls EndRead when the read is over.
func (s *Stream) BeginRead(ctx context.Context) {
	if ctx.Done() != nil {
		s.rctx = ctx
	}
}

// ArmRead watches the context of the read under way, if it can end and is
// not watched yet: the read is about to wait, or the reader to write
// (BeginBoundedWrite).
func (s *Stream) ArmRead() {
	if ctx := s.rctx; ctx != nil {
		s.rctx = nil
		s.arm(ctx, true)
	}
}

// EndRead ends the read's watch, putting the user's read deadline back if
// the context moved it.
func (s *Stream) EndRead() {
	s.rctx = nil
	if w := s.rwatch; w != nil && w.armed {
		w.armed = false
		w.end()
	}
}

// BeginWrite and EndWrite do the same for a write; the caller is the
// writer.
func (s *Stream) BeginWrite(ctx context.Context) {
	if ctx.Done() != nil {
		s.wctx = ctx
	}
}

func (s *Stream) armWrite() {
	if ctx := s.wctx; ctx != nil {
		s.wctx = nil
		s.arm(ctx, false)
	}
}

// EndWrite ends the write's watch (see EndRead).
func (s *Stream) EndWrite() {
	s.wctx = nil
	if w := s.wwatch; w != nil && w.armed {
		w.armed = false
		w.end()
	}
}

// arm watches the call of one direction under way under ctx, which can
// end.
func (s *Stream) arm(ctx context.Context, read bool) {
	w := s.watcher(read)
	w.armed = true
	w.start(ctx)
}

// watcher returns the watch of one direction, made on first use.
func (s *Stream) watcher(read bool) *watch {
	p := &s.wwatch
	if read {
		p = &s.rwatch
	}
	if *p == nil {
		*p = newWatch(s, read)
	}
	return *p
}

// CtxErr turns an I/O error caused by a done context into the context's
// error, closing the connection (its stream is now in an unknown state).
func (s *Stream) CtxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		s.nc.Close()
		return ctx.Err()
	}
	return err
}
