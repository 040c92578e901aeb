package wsclient

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/wsclient/wsclient/internal/frame"
)

const (
	defaultBufSize  = 4096
	defaultWriteBuf = defaultBufSize + frame.MaxHeaderLen
	largeWriteBuf   = 64 << 10
)

// Write buffers come from pools, so an idle connection holds none; a custom
// WriteBufferSize gets a buffer of its own. A write that sends more than a
// small buffer holds (several combined frames) takes a large one.
var writeBufPool = sync.Pool{New: func() any { b := make([]byte, defaultWriteBuf); return &b }}

var largeBufPool = sync.Pool{New: func() any { b := make([]byte, largeWriteBuf); return &b }}

// largeGroup bounds the masked bytes of a large frame held at once where
// the socket is not a plain one (TLS, an HTTP/2 stream, a wrapper): the
// frame is masked into pooled 64 KiB chunks and written with one writev
// per group (the header and any frames before it included in the first).
// Measured on 16 MiB messages echoed over loopback (bench msg16m, 3 rounds
// each, load 6-13, write system calls per message): groups of 1 MiB 21,
// 2 MiB 12, 4 MiB 10, one 16 MiB group 8. Over a plain socket on Linux a
// ring of rawWindow bytes replaces the groups (addLargeRaw).
const largeGroup = 4 << 20

// combineMax and combineBytes bound how many frames of other writers the
// lock holder takes into one write.
const (
	combineMax   = 64
	combineBytes = 256 << 10
)

// largeWrite holds the I/O vector of a large frame's write.
type largeWrite struct {
	iov    [][]byte
	nb     net.Buffers
	chunks []*[]byte
	raw    rawWritev // single writev calls (write_raw_linux.go)
}

var largeWritePool = sync.Pool{New: func() any {
	n := largeGroup/largeWriteBuf + 2
	return &largeWrite{iov: make([][]byte, 0, n), chunks: make([]*[]byte, 0, n)}
}}

// frameBatch masks frames into one buffer and writes them with as few
// system calls as their sizes allow. It is used by the write lock's holder.
type frameBatch struct {
	c      *Conn
	buf    []byte
	pooled *[]byte
	pool   *sync.Pool
	n      int // bytes of buf pending

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

// add appends one masked frame; w is the waiting writer it belongs to, or
// nil for the holder's own frame.
func (b *frameBatch) add(fin bool, rsv byte, op frame.Opcode, p []byte, w *waiter) {
	if b.err != nil {
		b.reject(w)
		return
	}
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Masked: true, Length: int64(len(p))}
	h.Mask = maskKey()
	need := frame.MaxHeaderLen + len(p)
	if need > len(b.buf)-b.n && need <= len(b.buf) {
		b.flush()
		if b.err != nil {
			b.reject(w)
			return
		}
	}
	if need <= len(b.buf)-b.n {
		b.n += frame.Put(b.buf[b.n:], h)
		frame.MaskCopy(b.buf[b.n:], p, h.Mask, 0)
		b.n += len(p)
		b.done(w)
		return
	}
	b.addLarge(h, p, w)
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

// addLarge writes a frame too large for the buffer: its header after the
// pending bytes, then the payload masked into pooled chunks, in one writev
// per largeGroup bytes, or over a plain socket on Linux through a ring
// (addLargeRaw). The caller's data is never modified.
func (b *frameBatch) addLarge(h frame.Header, p []byte, w *waiter) {
	if len(b.buf)-b.n < frame.MaxHeaderLen {
		b.flush()
		if b.err != nil {
			b.reject(w)
			return
		}
	}
	b.n += frame.Put(b.buf[b.n:], h)
	if hasRawWritev && b.c.raw != nil {
		b.addLargeRaw(h, p, w)
		return
	}
	lw := largeWritePool.Get().(*largeWrite)
	lw.iov = append(lw.iov[:0], b.buf[:b.n])
	pos := 0
	for len(p) > 0 {
		for group := 0; len(p) > 0 && group < largeGroup; {
			cp := largeBufPool.Get().(*[]byte)
			m := min(len(p), len(*cp))
			pos = frame.MaskCopy((*cp)[:m], p[:m], h.Mask, pos)
			lw.iov = append(lw.iov, (*cp)[:m])
			lw.chunks = append(lw.chunks, cp)
			p = p[m:]
			group += m
		}
		b.c.armWrite() // a writev may wait (see ctxwatch.go)
		lw.nb = lw.iov
		first := b.n // pending frames before this one, in the first vector
		written, err := lw.nb.WriteTo(b.c.nc)
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
func (b *frameBatch) addLargeRaw(h frame.Header, p []byte, w *waiter) {
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
			pos = frame.MaskCopy(ring[off:off+m], p[masked:masked+m], h.Mask, pos)
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
		if n, err = b.c.writevOnce(lw, head, lw.iov); err != nil {
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

// flush writes the pending bytes.
func (b *frameBatch) flush() {
	if b.n == 0 || b.err != nil {
		return
	}
	pending := b.n
	n, err := b.c.sockWrite(b.buf[:pending])
	b.n = 0
	if err != nil {
		b.settleWritten(b.buf[:pending], n)
		b.fail(err)
		return
	}
	b.succeed()
}

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
// completes the pending frames with it.
func (b *frameBatch) fail(err error) {
	c := b.c
	c.werr = lostErr(err)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.werr = err
	}
	c.nc.Close()
	b.err = c.werr
	b.ownPending = 0
	c.wmu.complete(b.head, b.err)
	b.head, b.tail = nil, nil
}

// writeFrameLocked masks and writes one frame. The caller holds wmu.
func (c *Conn) writeFrameLocked(fin bool, rsv byte, op frame.Opcode, payload []byte) error {
	if c.werr != nil {
		return c.werr
	}
	var b frameBatch
	b.begin(c, frame.MaxHeaderLen+len(payload))
	b.add(fin, rsv, op, payload, nil)
	b.flush()
	b.end()
	return b.err
}

// writeOwnLocked writes the holder's frames (each a message of opcode op
// unless op is a continuation or control opcode) followed by frames other
// writers queued meanwhile, and returns how many of its own were written.
// The caller holds wmu, has checked closeSent and werr, and committed its
// first frame.
func (c *Conn) writeOwnLocked(fin bool, rsv byte, op frame.Opcode, ps [][]byte) (int, error) {
	taken := c.wmu.take(combineMax, combineBytes)
	size := 0
	for _, p := range ps {
		size += frame.MaxHeaderLen + len(p)
	}
	for w := taken; w != nil; w = w.tnext {
		size += frame.MaxHeaderLen + len(w.p)
	}
	var b frameBatch
	b.begin(c, size)
	for _, p := range ps {
		b.add(fin, rsv, op, p, nil)
	}
	for w := taken; w != nil; {
		next := w.tnext
		b.add(w.fin, w.rsv, w.op, w.p, w)
		w = next
	}
	b.flush()
	b.end()
	return b.ownDone, b.err
}

// acquireFrame waits until the caller may write a frame (op, fin): it
// returns done=false when the caller holds wmu, or done=true with the
// frame's result when the lock's holder wrote it meanwhile (combining). ctx
// bounds the wait; if it ends while another writer is writing the frame,
// the connection is closed, as when a write's context ends.
func (c *Conn) acquireFrame(ctx context.Context, fin bool, rsv byte, op frame.Opcode, p []byte) (done bool, err error) {
	l := &c.wmu
	if l.state.CompareAndSwap(0, lkHeld) {
		if l.eligible(op) {
			return false, nil
		}
		l.unlock()
	}
	w := getWaiter()
	w.isFrame, w.fin, w.rsv, w.op, w.p, w.ctx = true, fin, rsv, op, p, ctx
	if l.enqueue(w) {
		putWaiter(w)
		return false, nil
	}
	select {
	case <-w.ch:
	case <-ctx.Done():
		if l.cancel(w) {
			putWaiter(w)
			return true, ctx.Err()
		}
		l.mu.Lock()
		taken := w.state == wTaken
		l.mu.Unlock()
		if taken {
			// Another writer is sending it: end that write, as a
			// write whose context ends does.
			c.nc.Close()
		}
		<-w.ch
		if taken {
			putWaiter(w)
			return true, ctx.Err()
		}
	}
	if w.state == wGranted {
		putWaiter(w)
		return false, nil
	}
	err = w.err
	putWaiter(w)
	return true, err
}

// writeData writes one data or control frame. A writer that finds the lock
// held hands the frame to the holder, which writes it together with its
// own. ctx bounds the wait (returning its error without touching the
// socket) and the write (closing the connection, whose stream is then
// broken).
func (c *Conn) writeData(ctx context.Context, fin bool, rsv byte, op frame.Opcode, p []byte) error {
	if done, err := c.acquireFrame(ctx, fin, rsv, op, p); done {
		return err
	}
	ps := [1][]byte{p}
	_, err := c.writeOwn(ctx, fin, rsv, op, ps[:])
	return err
}

// writeOwn writes the holder's frames and releases wmu.
func (c *Conn) writeOwn(ctx context.Context, fin bool, rsv byte, op frame.Opcode, ps [][]byte) (n int, err error) {
	switch {
	case c.proto.CloseSent():
		err = ErrClosed
	case c.werr != nil:
		err = c.werr
	case ctx.Err() != nil:
		err = ctx.Err()
	default:
		c.wmu.commit(op, fin)
		c.beginWrite(ctx)
		n, err = c.writeOwnLocked(fin, rsv, op, ps)
		c.endWrite()
		err = c.ctxErr(ctx, err)
	}
	c.unlockWrite()
	return n, err
}

func dataOpcode(typ MessageType) (frame.Opcode, error) {
	switch typ {
	case TextMessage, BinaryMessage:
		return frame.Opcode(typ), nil
	}
	return 0, errConnType
}

// WriteMessage sends data as one message of type typ (TextMessage or
// BinaryMessage) in a single frame, compressed when permessage-deflate is on
// and the message is not shorter than the compression threshold. ctx bounds
// the write; if it ends first the connection is closed.
//
// Concurrent calls share system calls: a call that finds another one
// writing hands its frame over and the writing goroutine sends all waiting
// frames at once. Each call still returns only when its own frame has been
// written (or with its error), so one goroutine's messages keep their order.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, data []byte) error {
	op, err := dataOpcode(typ)
	if err != nil {
		return err
	}
	if c.deflater != nil && !c.noCompress.Load() && c.deflater.worth(len(data)) {
		// The compressor's state is shared: messages must reach the wire
		// in the order they were compressed.
		if err := c.msgMu.lockCtx(ctx); err != nil {
			return err
		}
		defer c.msgMu.unlock()
		out, err := c.deflater.compress(data)
		if err != nil {
			return err
		}
		err = c.writeData(ctx, true, frame.RSV1, op, out)
		if c.trace != nil {
			c.traceWrite(typ, len(data), len(out), err)
		}
		return err
	}
	err = c.writeData(ctx, true, 0, op, data)
	if c.trace != nil {
		c.traceWrite(typ, len(data), len(data), err)
	}
	return err
}

// WriteBatch sends each element of msgs as one message of type typ, in
// order, in as few system calls as their sizes allow: messages are masked
// into one buffer (up to 64 KiB) and written together, and a large message
// goes out with a single writev. It is for a goroutine that has a burst of
// messages at hand, where WriteMessage in a loop costs one system call per
// message. Messages of other goroutines do not go between those of the
// batch; frames they hand over meanwhile may follow it in the same write.
//
// It returns the number of messages completely handed to the socket. On
// an error, messages after those may have been partly written, and the
// connection is closed. ctx bounds the wait and the write as for
// WriteMessage. When compression is on, each message is compressed and
// written in turn (it needs its own frame). msgs is not modified.
func (c *Conn) WriteBatch(ctx context.Context, typ MessageType, msgs [][]byte) (int, error) {
	op, err := dataOpcode(typ)
	if err != nil {
		return 0, err
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	if err := c.msgMu.lockCtx(ctx); err != nil {
		return 0, err
	}
	defer c.msgMu.unlock()
	if c.deflater != nil && !c.noCompress.Load() {
		for i, m := range msgs {
			rsv, p := byte(0), m
			if c.deflater.worth(len(m)) {
				out, err := c.deflater.compress(m)
				if err != nil {
					return i, err
				}
				rsv, p = frame.RSV1, out
			}
			if err := c.writeData(ctx, true, rsv, op, p); err != nil {
				return i, err
			}
			if c.trace != nil {
				c.traceWrite(typ, len(m), len(p), nil)
			}
		}
		return len(msgs), nil
	}
	// With msgMu held no fragmented message is open, so the lock is
	// enough to start messages.
	if err := c.wmu.lockCtx(ctx); err != nil {
		return 0, err
	}
	n, err := c.writeOwn(ctx, true, 0, op, msgs)
	if c.trace != nil {
		c.traceBatch(typ, msgs[:n])
	}
	return n, err
}

// NextWriter starts a message of type typ and returns a writer for its
// payload. Data is sent in frames of the Dialer's FragmentSize as it
// accumulates; Close sends the final frame. Other messages wait until the
// writer is closed; pings, pongs and close frames do not.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	op, err := dataOpcode(typ)
	if err != nil {
		return nil, err
	}
	if err := c.msgMu.lockCtx(ctx); err != nil {
		return nil, err
	}
	w := &messageWriter{c: c, ctx: ctx, op: op}
	if c.deflater != nil && !c.noCompress.Load() {
		w.defl = true
		w.rsv = frame.RSV1
		c.deflater.beginStream(w.emit)
	}
	return w, nil
}

// messageWriter streams one message as a sequence of frames.
type messageWriter struct {
	c      *Conn
	ctx    context.Context
	op     frame.Opcode
	rsv    byte
	buf    []byte
	defl   bool
	closed bool
	err    error
}

func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("wsclient: write to closed message writer")
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.defl {
		if err := w.c.deflater.streamWrite(p); err != nil {
			w.err = err
			return 0, err
		}
		return len(p), nil
	}
	if err := w.emit(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// emit buffers payload bytes and sends full fragments.
func (w *messageWriter) emit(p []byte) error {
	size := w.c.cfg.fragmentSize
	for len(w.buf)+len(p) >= size && w.err == nil {
		if len(w.buf) == 0 {
			// Send straight from p without copying.
			w.err = w.frame(false, p[:size])
			p = p[size:]
			continue
		}
		k := size - len(w.buf)
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		w.err = w.frame(false, w.buf)
		w.buf = w.buf[:0]
	}
	if w.err != nil {
		return w.err
	}
	w.buf = append(w.buf, p...)
	return nil
}

func (w *messageWriter) frame(fin bool, p []byte) error {
	err := w.c.writeData(w.ctx, fin, w.rsv, w.op, p)
	if err != nil && w.op == frame.OpContinuation {
		// Part of the message is on the wire and the rest never will be:
		// the stream cannot go on.
		w.c.CloseNow()
	}
	w.op = frame.OpContinuation
	w.rsv = 0
	return err
}

// Close sends the final frame of the message and lets other messages go.
func (w *messageWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	defer w.c.msgMu.unlock()
	if w.err != nil {
		return w.err
	}
	if w.defl {
		if err := w.c.deflater.streamClose(); err != nil {
			return err
		}
	}
	return w.frame(true, w.buf)
}
