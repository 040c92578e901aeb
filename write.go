//go:build !js

package wsclient

import (
	"context"
	"errors"
	"io"
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

// combineMax and combineBytes bound how many frames of other writers the
// lock holder takes into one write.
const (
	combineMax   = 64
	combineBytes = 256 << 10
)

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
// The caller holds wmu, has checked werr and its first frame (the
// engine's CheckFrame), and committed that frame.
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
	err = c.proto.CheckFrame(fin, rsv, op, int64(len(ps[0])))
	switch {
	case err != nil:
		err = sendError(err)
	case c.werr != nil:
		err = c.werr
	case ctx.Err() != nil:
		err = ctx.Err()
	default:
		c.wmu.commit(op, fin)
		c.stream.BeginWrite(ctx)
		n, err = c.writeOwnLocked(fin, rsv, op, ps)
		c.stream.EndWrite()
		err = c.stream.CtxErr(ctx, err)
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
		if err != nil {
			return c.writeFailure(err, false)
		}
		return nil
	}
	err = c.writeData(ctx, true, 0, op, data)
	if c.trace != nil {
		c.traceWrite(typ, len(data), len(data), err)
	}
	if err != nil {
		return c.writeFailure(err, false)
	}
	return nil
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
				return i, c.writeFailure(err, false)
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
	if err != nil {
		return n, c.writeFailure(err, false)
	}
	return n, nil
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
