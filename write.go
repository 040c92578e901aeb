package wsclient

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

// writeFrameLocked masks and writes one frame. The caller holds wmu.
func (c *Conn) writeFrameLocked(fin bool, rsv byte, op frame.Opcode, payload []byte) error {
	if c.werr != nil {
		return c.werr
	}
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Masked: true, Length: int64(len(payload))}
	binary.LittleEndian.PutUint32(h.Mask[:], maskKey())
	total := frame.MaxHeaderLen + len(payload)
	// Write buffers come from pools, so an idle connection holds none; a
	// custom WriteBufferSize gets a buffer of its own.
	var buf []byte
	var pooled *[]byte
	var pool *sync.Pool
	switch {
	case total <= cap(c.wbuf):
		buf = c.wbuf
	case total <= defaultWriteBuf && c.cfg.writeBufSize == defaultWriteBuf:
		pool = &writeBufPool
	case total <= c.cfg.writeBufSize:
		c.wbuf = make([]byte, c.cfg.writeBufSize)
		buf = c.wbuf
	default:
		pool = &largeBufPool
	}
	if pool != nil {
		pooled = pool.Get().(*[]byte)
		buf = *pooled
	}
	buf = buf[:cap(buf)]
	n := frame.Put(buf, h)
	pos := 0
	var err error
	for {
		m := min(len(payload), len(buf)-n)
		pos = frame.MaskCopy(buf[n:n+m], payload[:m], h.Mask, pos)
		payload = payload[m:]
		if _, err = c.nc.Write(buf[:n+m]); err != nil || len(payload) == 0 {
			break
		}
		n = 0
	}
	if pooled != nil {
		pool.Put(pooled)
	}
	if err != nil {
		c.werr = lostErr(err)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			c.werr = err
		}
		c.nc.Close()
		return c.werr
	}
	return nil
}

const (
	defaultBufSize  = 4096
	defaultWriteBuf = defaultBufSize + frame.MaxHeaderLen
	largeWriteBuf   = 64 << 10
)

var writeBufPool = sync.Pool{New: func() any { b := make([]byte, defaultWriteBuf); return &b }}

var largeBufPool = sync.Pool{New: func() any { b := make([]byte, largeWriteBuf); return &b }}

// writeData writes one data frame under wmu, honouring ctx: while waiting
// for the lock (returning ctx's error without touching the socket) and during
// the write (closing the connection, whose stream is then broken).
func (c *Conn) writeData(ctx context.Context, fin bool, rsv byte, op frame.Opcode, p []byte) error {
	if err := c.wmu.lockCtx(ctx); err != nil {
		return err
	}
	defer c.unlockWrite()
	if c.proto.CloseSent() {
		return ErrClosed
	}
	if stop := c.watchCtx(ctx, false); stop != nil {
		defer stop()
	}
	return c.ctxErr(ctx, c.writeFrameLocked(fin, rsv, op, p))
}

// ctxLock is a mutex whose Lock can give up when a context ends.
type ctxLock chan struct{}

func (l ctxLock) lock() { l <- struct{}{} }

func (l ctxLock) tryLock() bool {
	select {
	case l <- struct{}{}:
		return true
	default:
		return false
	}
}

// lockTimeout waits at most d for the lock.
func (l ctxLock) lockTimeout(d time.Duration) bool {
	if l.tryLock() {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case l <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (l ctxLock) unlock() { <-l }

func (l ctxLock) lockCtx(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	default:
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func dataOpcode(typ MessageType) (frame.Opcode, error) {
	switch typ {
	case TextMessage, BinaryMessage:
		return frame.Opcode(typ), nil
	}
	return 0, ErrBadFrameType
}

// WriteMessage sends data as one message of type typ (TextMessage or
// BinaryMessage) in a single frame, compressed when permessage-deflate is on
// and the message is not shorter than the compression threshold. ctx bounds
// the write; if it ends first the connection is closed.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, data []byte) error {
	op, err := dataOpcode(typ)
	if err != nil {
		return err
	}
	if err := c.msgMu.lockCtx(ctx); err != nil {
		return err
	}
	defer c.msgMu.unlock()
	if c.deflater != nil && !c.noCompress.Load() && c.deflater.worth(len(data)) {
		out, err := c.deflater.compress(data)
		if err != nil {
			return err
		}
		return c.writeData(ctx, true, frame.RSV1, op, out)
	}
	return c.writeData(ctx, true, 0, op, data)
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
