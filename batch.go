//go:build !js

package wsclient

import (
	"context"
	"errors"
	"net"
	"sync"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/protocol"
	"github.com/wsclient/wsclient/internal/sock"
)

// largeGroup bounds the masked bytes of a large frame held at once where
// the socket is not a plain one (TLS, an HTTP/2 stream, a wrapper): the
// frame is masked into pooled 64 KiB chunks and written with one writev
// per group (the header and any frames before it included in the first).
// Measured on 16 MiB messages echoed over loopback (bench msg16m, 3 rounds
// each, load 6-13, write system calls per message): groups of 1 MiB 21,
// 2 MiB 12, 4 MiB 10, one 16 MiB group 8. Over a plain socket on Linux a
// ring of rawWindow bytes replaces the groups (addLargeRaw).
const largeGroup = 4 << 20

// largeWrite holds the I/O vector of a large frame's write.
type largeWrite struct {
	iov    [][]byte
	nb     net.Buffers
	chunks []*[]byte
	raw    sock.Writev // single writev calls (see addLargeRaw)
}

var largeWritePool = sync.Pool{New: func() any {
	n := largeGroup/largeWriteBuf + 2
	return &largeWrite{iov: make([][]byte, 0, n), chunks: make([]*[]byte, 0, n)}
}}

// frameBatch gathers frames, as the protocol engine produces them, into one
// buffer and writes them with as few system calls as their sizes allow. It
// is used by the write lock's holder.
type frameBatch struct {
	c      *Conn
	buf    []byte
	pooled *[]byte
	pool   *sync.Pool
	n      int // bytes of buf pending
	off    int // of those, bytes a write attempt that did not wait wrote

	// now makes flush a write attempt that does not wait (sock.Stream.WriteNow);
	// stalled records that one left bytes pending.
	now, stalled bool

	// Frames of other writers whose bytes are pending, completed by the
	// next flush (a tnext list).
	head, tail *waiter
	ownPending int // own frames pending
	ownDone    int // own frames written
	err        error
}

// begin picks a buffer for about size bytes of frames.
func (b *frameBatch) begin(c *Conn, size int) {
	b.c = c
	switch {
	case c.cfg.writeBufSize != defaultWriteBuf:
		if c.wbuf == nil {
			c.wbuf = make([]byte, c.cfg.writeBufSize)
		}
		b.buf = c.wbuf
		return
	case size <= defaultWriteBuf:
		b.pool = &writeBufPool
	default:
		b.pool = &largeBufPool
	}
	b.pooled = b.pool.Get().(*[]byte)
	b.buf = *b.pooled
}

// end returns the buffer to its pool.
func (b *frameBatch) end() {
	if b.pooled != nil {
		b.pool.Put(b.pooled)
		b.pooled = nil
	}
	b.buf = nil
}

// add appends one frame, as the protocol engine produces it (header and
// payload masked with a fresh key); w is the waiting writer it belongs to,
// or nil for the holder's own frame. A frame the engine refuses is not
// written: w's writer, or the holder, gets the refusal as sendError says.
func (b *frameBatch) add(fin bool, rsv byte, op frame.Opcode, p []byte, w *waiter) {
	if b.err != nil {
		b.reject(w)
		return
	}
	need := frame.MaxHeaderLen + len(p)
	if need > len(b.buf)-b.n && need <= len(b.buf) {
		b.flush()
		if b.err != nil {
			b.reject(w)
			return
		}
	}
	if need > len(b.buf)-b.n {
		b.addLarge(fin, rsv, op, p, w)
		return
	}
	out, err := b.c.proto.AppendFrame(b.buf[:b.n], fin, rsv, op, p, protocol.MaskKey())
	if err != nil {
		b.refuse(w, err)
		return
	}
	b.n = len(out)
	b.done(w)
}

// refuse completes a frame the engine refused with err: w's with it, or
// for the holder's own frame, the batch, after the frames before it are
// written (own frames come first; the holder checked its first already, so
// this is a caller's bug, not a condition of the connection).
func (b *frameBatch) refuse(w *waiter, err error) {
	err = sendError(err)
	if w != nil {
		w.tnext = nil
		b.c.wmu.complete(w, err)
		return
	}
	b.flush()
	if b.err == nil {
		b.err = err
	}
}

// done records that the frame of w (or an own frame) is pending.
func (b *frameBatch) done(w *waiter) {
	if w == nil {
		b.ownPending++
		return
	}
	w.tnext = nil
	if b.tail == nil {
		b.head = w
	} else {
		b.tail.tnext = w
	}
	b.tail = w
}

// reject completes the frame of w (if not an own frame) with the batch's
// error, when the batch failed before it could be written.
func (b *frameBatch) reject(w *waiter) {
	if w != nil {
		w.tnext = nil
		b.c.wmu.complete(w, b.err)
	}
}

// addLarge writes a frame too large for the buffer: its header (from the
// engine) after the pending bytes, then the payload masked into pooled chunks, in one writev
// per largeGroup bytes, or over a plain socket on Linux through a ring
// (addLargeRaw). The caller's data is never modified.
func (b *frameBatch) addLarge(fin bool, rsv byte, op frame.Opcode, p []byte, w *waiter) {
	if len(b.buf)-b.n < frame.MaxHeaderLen {
		b.flush()
		if b.err != nil {
			b.reject(w)
			return
		}
	}
	key := protocol.MaskKey()
	out, err := b.c.proto.AppendHeader(b.buf[:b.n], fin, rsv, op, int64(len(p)), key)
	if err != nil {
		b.refuse(w, err)
		return
	}
	b.n = len(out)
	if sock.HasWritev && b.c.stream.Raw() {
		b.addLargeRaw(key, p, w)
		return
	}
	lw := largeWritePool.Get().(*largeWrite)
	lw.iov = append(lw.iov[:0], b.buf[:b.n])
	pos := 0
	for len(p) > 0 {
		for group := 0; len(p) > 0 && group < largeGroup; {
			cp := largeBufPool.Get().(*[]byte)
			m := min(len(p), len(*cp))
			pos = protocol.Mask((*cp)[:m], p[:m], key, pos)
			lw.iov = append(lw.iov, (*cp)[:m])
			lw.chunks = append(lw.chunks, cp)
			p = p[m:]
			group += m
		}
		lw.nb = lw.iov
		first := b.n // pending frames before this one, in the first vector
		written, err := b.c.stream.WriteBuffers(&lw.nb)
		for i, cp := range lw.chunks {
			largeBufPool.Put(cp)
			lw.chunks[i] = nil
		}
		clear(lw.iov)
		lw.chunks, lw.iov = lw.chunks[:0], lw.iov[:0]
		if err != nil {
			if first > 0 {
				b.settleWritten(b.buf[:first], int(min(written, int64(first))))
			}
			b.n = 0
			b.fail(err)
			b.reject(w)
			largeWritePool.Put(lw)
			return
		}
		if b.n > 0 {
			// The frames before this one are out.
			b.n = 0
			b.succeed()
		}
	}
	largeWritePool.Put(lw)
	b.done(w)
	b.succeed()
}

// rawWindow is the size of the ring a large frame is masked into before
// it is written over a plain socket (addLargeRaw). The ring should stay in
// the CPU's cache between the masking and the kernel's copy, and be large
// enough that a writev call takes what the socket's send buffer has room
// for. Measured on 16 MiB messages written to a reader that discards them
// (loopback, writer thread CPU per message, 6 interleaved runs each, load
// 11-14): a 1 MiB ring 4.6 ms, 2 MiB 4.6 ms, 4 MiB 5.3 ms, the window of
// 64 KiB chunks from a pool that it replaces (4 MiB) 5.7 ms; write system
// calls per message in bench msg16m: 1 MiB 20, 2 MiB 12, 4 MiB 8.
const rawWindow = 2 << 20

// rawWindows holds the rings of addLargeRaw, one per large frame being
// written: a global pool, so an idle connection holds none.
var rawWindows = &sync.Pool{New: func() any { b := make([]byte, rawWindow); return &b }}

// addLargeRaw writes a large frame over a plain socket, its header already
// after the pending bytes: the payload is masked into a ring of rawWindow
// bytes, and every writev offers the pending bytes and all the masked
// bytes not yet written (one or two spans of the ring); the part the
// socket has taken is masked again with the next bytes of the payload. So
// each call takes as much as the socket's send buffer has room for (up to
// the ring), the ring is one buffer taken from its pool once per frame,
// and the bytes masked last are still in the cache when the kernel copies
// them.
func (b *frameBatch) addLargeRaw(key [4]byte, p []byte, w *waiter) {
	lw := largeWritePool.Get().(*largeWrite)
	rp := rawWindows.Get().(*[]byte)
	ring := *rp
	size := len(ring)
	pending := b.n
	head := b.buf[:pending] // pending frames and this header, unwritten part
	pos := 0                // key offset
	var masked, sent int    // payload bytes masked into the ring, and written
	var err error
	for {
		// Mask into the free part of the ring: from masked's offset to
		// the ring's end or to sent's offset, twice when it wraps.
		for masked < len(p) && masked-sent < size {
			off := masked % size
			m := min(size-off, size-(masked-sent), len(p)-masked)
			pos = protocol.Mask(ring[off:off+m], p[masked:masked+m], key, pos)
			masked += m
		}
		if len(head) == 0 && masked == sent {
			break
		}
		lw.iov = lw.iov[:0]
		if masked > sent {
			off := sent % size
			end := min(off+masked-sent, size)
			lw.iov = append(lw.iov, ring[off:end])
			if rest := masked - sent - (end - off); rest > 0 {
				lw.iov = append(lw.iov, ring[:rest])
			}
		}
		var n int
		if n, err = b.c.stream.WritevOnce(&lw.raw, head, lw.iov); err != nil {
			break
		}
		if len(head) > 0 {
			t := min(n, len(head))
			head, n = head[t:], n-t
			if len(head) == 0 {
				// The frames before this one are out.
				b.n = 0
				b.succeed()
			}
		}
		sent += n
	}
	clear(lw.iov)
	lw.iov = lw.iov[:0]
	largeWritePool.Put(lw)
	rawWindows.Put(rp)
	if err != nil {
		if len(head) > 0 {
			b.settleWritten(b.buf[:pending], pending-len(head))
		}
		b.n = 0
		b.fail(err)
		b.reject(w)
		return
	}
	b.done(w)
	b.succeed()
}

// flush writes the pending bytes. With now set, it writes what the socket
// takes at once and, when that is not all, marks the batch stalled.
func (b *frameBatch) flush() {
	if b.n == 0 || b.err != nil {
		return
	}
	pending := b.n
	var n int
	var err error
	if b.now {
		n, err = b.c.stream.WriteNow(b.buf[b.off:pending])
		if n += b.off; err == nil && n < pending {
			b.off, b.stalled = n, true
			return
		}
	} else {
		n, err = b.c.stream.Write(b.buf[b.off:pending])
		n += b.off
	}
	b.n, b.off = 0, 0
	if err != nil {
		b.settleWritten(b.buf[:pending], n)
		b.fail(err)
		return
	}
	b.succeed()
}

// fits reports whether a frame carrying n bytes fits in the buffer's free
// part.
func (b *frameBatch) fits(n int) bool { return frame.MaxHeaderLen+n <= len(b.buf)-b.n }

// settleWritten completes, as written, the pending frames whose bytes all
// reached the socket before a write failed after n bytes of pending: a
// frame the server received whole must not be reported as failed (its
// writer might send it again). The rest fail with the write's error. Own
// frames come first in a batch's buffer, then the other writers' frames.
func (b *frameBatch) settleWritten(pending []byte, n int) {
	whole := 0
	for off := 0; off < len(pending); {
		h, hl, err := frame.Parse(pending[off:])
		if err != nil {
			break // cannot happen: the batch wrote these headers
		}
		off += hl + int(h.Length)
		if off > n {
			break
		}
		whole++
	}
	own := min(whole, b.ownPending)
	b.ownDone += own
	b.ownPending -= own
	for whole -= own; whole > 0 && b.head != nil; whole-- {
		w := b.head
		b.head = w.tnext
		if b.head == nil {
			b.tail = nil
		}
		w.tnext = nil
		b.c.wmu.complete(w, nil)
	}
}

// succeed completes the pending frames.
func (b *frameBatch) succeed() {
	b.ownDone += b.ownPending
	b.ownPending = 0
	b.c.wmu.complete(b.head, nil)
	b.head, b.tail = nil, nil
}

// fail makes err the connection's sticky write error, closes it and
// completes the pending frames with it; a write the server refused by
// resetting the connection leaves the socket to the reader (peerReset).
func (b *frameBatch) fail(err error) {
	c := b.c
	c.werr = lostErr(err)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.werr = err
	}
	if !peerReset(err) {
		c.nc.Close()
	}
	b.err = c.werr
	b.ownPending = 0
	c.wmu.complete(b.head, b.err)
	b.head, b.tail = nil, nil
}

// outFrame is one frame of a batch written by send: a complete message or
// control frame.
type outFrame struct {
	typ  MessageType
	data []byte
}

// errNoFrames is send's answer when its fill returned nil: nothing to
// write.
var errNoFrames = errors.New("wsclient: no frames to write")

// errWouldWait is send's answer to a write attempt that must not wait and
// could not finish: see send.
var errWouldWait = errors.New("wsclient: the write would wait")

// sendState is the progress of a batch of send's: its frames, its
// frameBatch, and the next frame to add, prepared (compressed) already when
// ready. A batch that a write attempt left unfinished keeps it in the Conn
// (held).
type sendState struct {
	fs    []outFrame
	fb    frameBatch
	next  int
	rsv   byte
	p     []byte
	ready bool
}

// send takes the write locks, asks fill for frames and writes them, in
// order, as one batch: masked into one buffer (data frames compressed when
// that is on and worth it), written with as few system calls as their
// sizes allow, a large frame straight from its data. It returns how many
// frames, from the first, reached the socket whole; on a failure the
// connection is closed and the rest were not written whole. fill runs under
// the write locks (so what it takes from a queue of its own is written in
// that order); it is not called when the locks could not be taken. When
// fill returns nil send returns errNoFrames, when it returns no frames
// (but not nil), 0 and nil.
//
// Without now, send waits for the write locks and the socket as long as
// it takes; ctx, if it can end, bounds that (ending the connection if a
// write had begun). With now it waits for nothing: when the write locks
// are taken or the socket is not one that allows such an attempt
// (sock.Stream.Raw), it returns errWouldWait before calling fill; when the
// socket takes part of the batch, it returns errWouldWait with the write
// locks held and the rest kept (held), and the next send, without now,
// on any goroutine, finishes it without calling fill.
func (c *Conn) send(ctx context.Context, fill func(now bool) []outFrame, now bool) (int, error) {
	var st sendState
	switch {
	case c.held:
		st, c.held, now = *c.sendSt, false, false
		st.fb.now, st.fb.stalled = false, false
	case now && (!c.stream.Raw() || !c.tryLockWrites()):
		return 0, errWouldWait
	case !now:
		if err := c.lockWrites(ctx); err != nil {
			return 0, err
		}
		fallthrough
	default:
		if !c.beginSendLocked(&st, fill, now) {
			c.unlockWrites()
			return 0, st.fb.err
		}
	}
	if !now {
		c.stream.BeginWrite(ctx)
	}
	c.sendLocked(&st)
	if st.fb.stalled {
		if c.sendSt == nil {
			c.sendSt = new(sendState)
		}
		*c.sendSt, c.held = st, true
		return st.fb.ownDone, errWouldWait
	}
	st.fb.end()
	err := st.fb.err
	if !now {
		c.stream.EndWrite()
		err = c.stream.CtxErr(ctx, err)
	}
	c.unlockWrites()
	return st.fb.ownDone, err
}

// beginSendLocked fills st with fill's frames and a buffer for them. It
// returns false when there is nothing to write, or (st.fb.err set: fill
// returned nil, or nothing may be written) nothing to be written.
func (c *Conn) beginSendLocked(st *sendState, fill func(now bool) []outFrame, now bool) bool {
	if st.fs = fill(now); st.fs == nil {
		st.fb.err = errNoFrames
		return false
	}
	if len(st.fs) == 0 {
		return false
	}
	if st.fb.err = c.writableLocked(); st.fb.err != nil {
		return false
	}
	size := 0
	for _, f := range st.fs {
		size += frame.MaxHeaderLen + len(f.data)
	}
	st.fb.begin(c, size)
	st.fb.now = now
	return true
}

// sendLocked adds the frames of st.fs from st.next on to st's batch and
// flushes it, stopping where a batch that must not wait stalls (or meets a
// frame larger than its buffer). The caller holds the write locks.
func (c *Conn) sendLocked(st *sendState) {
	b := &st.fb
	if b.off > 0 {
		b.flush() // finish what an attempt that did not wait began
	}
	for ; st.next < len(st.fs) && b.err == nil; st.next++ {
		f := &st.fs[st.next]
		if !st.ready {
			rsv, p, err := c.payloadLocked(f.typ, f.data)
			if err != nil {
				b.fail(err)
				break
			}
			st.rsv, st.p, st.ready = rsv, p, true
		}
		if b.now && !b.fits(len(st.p)) {
			if b.flush(); b.stalled || !b.fits(len(st.p)) {
				b.stalled = true
				return
			}
		}
		b.add(true, st.rsv, frame.Opcode(f.typ), st.p, nil)
		st.p, st.ready = nil, false
	}
	b.flush()
}

// payloadLocked returns the payload of a frame of type typ carrying p, and
// its RSV bits: a data message compressed when permessage-deflate is on
// and p is worth it. The caller holds the write locks: with context
// takeover the compressor's state follows the order of the frames.
func (c *Conn) payloadLocked(typ MessageType, p []byte) (byte, []byte, error) {
	if (typ == TextMessage || typ == BinaryMessage) && c.deflater != nil && !c.noCompress.Load() && c.deflater.worth(len(p)) {
		out, err := c.deflater.compress(p)
		if err != nil {
			return 0, nil, err
		}
		return frame.RSV1, out, nil
	}
	return 0, p, nil
}

// tryLockWrites takes the message and frame write locks if both are free.
func (c *Conn) tryLockWrites() bool {
	if !c.msgMu.tryLock() {
		return false
	}
	if !c.wmu.tryLock() {
		c.msgMu.unlock()
		return false
	}
	return true
}

// lockWrites takes the message and frame write locks, giving up when ctx
// ends.
func (c *Conn) lockWrites(ctx context.Context) error {
	if err := c.msgMu.lockCtx(ctx); err != nil {
		return err
	}
	if err := c.wmu.lockCtx(ctx); err != nil {
		c.msgMu.unlock()
		return err
	}
	return nil
}

// unlockWrites releases the locks of lockWrites (sending a pong the reader
// queued meanwhile). The locks may be released by another goroutine than
// the one that took them.
func (c *Conn) unlockWrites() {
	c.unlockWrite()
	c.msgMu.unlock()
}

// writableLocked reports why nothing may be written, or nil.
func (c *Conn) writableLocked() error {
	if c.werr != nil {
		return c.werr
	}
	if c.proto.CloseSent() {
		return ErrClosed
	}
	return nil
}
