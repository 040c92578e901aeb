//go:build js

package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"syscall/js"
	"time"
	"unicode/utf8"
)

// sendHighWater bounds the browser's send buffer (WebSocket.bufferedAmount):
// a write waits, within its context, while more than this is buffered,
// since the browser's send never blocks and would buffer without bound.
const sendHighWater = 1 << 20

// outFrame is a frame of a Client's batch (as in batch.go).
type outFrame struct {
	typ  MessageType
	data []byte
}

// errNoFrames is send's answer when its fill returned nil: nothing to
// write.
var errNoFrames = errors.New("wsclient: no frames to write")

// errWouldWait is send's answer to a write attempt that must not wait and
// could not start: see send.
var errWouldWait = errors.New("wsclient: the write would wait")

// largeWriteBuf is the batch size the Client's writer aims at.
const largeWriteBuf = 64 << 10

// WriteMessage sends data as one message of type typ (TextMessage or
// BinaryMessage). ctx bounds the wait for the write lock and for room in
// the browser's send buffer; if it ends first, its error is returned and
// the connection stays open (nothing was handed to the browser). A text
// message must be valid UTF-8 (the browser would replace what is not).
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, data []byte) error {
	if err := c.lockWrite(ctx); err != nil {
		return err
	}
	defer c.unlockWrite()
	return c.writeOne(ctx, typ, data)
}

// WriteBatch sends msgs as messages of type typ, in order; messages of
// other goroutines do not go between them. It returns the number of
// messages handed to the browser.
func (c *Conn) WriteBatch(ctx context.Context, typ MessageType, msgs [][]byte) (int, error) {
	if err := c.lockWrite(ctx); err != nil {
		return 0, err
	}
	defer c.unlockWrite()
	for i, m := range msgs {
		if err := c.writeOne(ctx, typ, m); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// NextWriter starts a message of type typ and returns a writer for its
// payload. In the browser a message goes out whole: the writer collects
// the payload and its Close sends it, with ctx bounding that write.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != TextMessage && typ != BinaryMessage {
		return nil, errConnType
	}
	if err := c.writeErr(); err != nil {
		return nil, err
	}
	return &jsWriter{c: c, ctx: ctx, typ: typ}, nil
}

type jsWriter struct {
	c    *Conn
	ctx  context.Context
	typ  MessageType
	buf  bytes.Buffer
	done bool
}

func (w *jsWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, ErrClosed
	}
	return w.buf.Write(p)
}

func (w *jsWriter) Close() error {
	if w.done {
		return ErrClosed
	}
	w.done = true
	return w.c.WriteMessage(w.ctx, w.typ, w.buf.Bytes())
}

// errConnType is the ErrBadFrame of a Conn write of another type.
var errConnType = fmt.Errorf("%w: Conn writes TextMessage or BinaryMessage messages (Ping and Close have their methods)", ErrBadFrame)

// Ping cannot be sent from a page: the browser sends and answers pings
// itself and shows the page neither. It returns an error matching
// errors.ErrUnsupported; to learn that the server is there, use an
// application-level heartbeat (a message the server answers).
func (c *Conn) Ping(ctx context.Context, payload []byte) (time.Duration, error) {
	return 0, unsupported("Conn.Ping (the browser sends and answers pings itself)")
}

// send is the Client's batched write (see transport): it takes the write
// lock, asks fill for frames and hands them to the browser, waiting for
// room in its send buffer before each. With now it waits for nothing:
// errWouldWait when the lock is taken or the buffer is over its bound
// (fill not called); a batch once started goes out whole, so the buffer
// can pass its bound by one batch.
func (c *Conn) send(ctx context.Context, fill func(now bool) []outFrame, now bool) (int, error) {
	if now {
		select {
		case c.wmu <- struct{}{}:
		default:
			return 0, errWouldWait
		}
		if c.buffered() > sendHighWater {
			c.unlockWrite()
			return 0, errWouldWait
		}
	} else if err := c.lockWrite(ctx); err != nil {
		return 0, err
	}
	defer c.unlockWrite()
	fs := fill(now)
	if fs == nil {
		return 0, errNoFrames
	}
	for i, f := range fs {
		var err error
		if now {
			err = c.sendFrame(f.typ, f.data)
		} else {
			err = c.writeOne(ctx, f.typ, f.data)
		}
		if err != nil {
			if errors.Is(err, errors.ErrUnsupported) {
				// A ping of a Client's (keepalive, confirmation): the
				// connection ends, and its reader says why.
				c.ended(err)
				jsCall(c.ws, "close")
			}
			return i, err
		}
	}
	return len(fs), nil
}

// lockWrite takes the write lock, within ctx.
func (c *Conn) lockWrite(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case c.wmu <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Conn) unlockWrite() { <-c.wmu }

// buffered returns the browser's WebSocket.bufferedAmount.
func (c *Conn) buffered() int { return c.ws.Get("bufferedAmount").Int() }

// writeOne waits for room in the browser's send buffer, then hands it the
// message. The write lock is held.
func (c *Conn) writeOne(ctx context.Context, typ MessageType, data []byte) error {
	if err := c.waitBuffer(ctx); err != nil {
		return err
	}
	return c.sendFrame(typ, data)
}

// waitBuffer waits until the browser's send buffer holds at most
// sendHighWater bytes, polling (the browser has no event for it) at
// intervals growing from 1 ms to 50 ms, until ctx ends or the
// connection does.
func (c *Conn) waitBuffer(ctx context.Context) error {
	var t *time.Timer
	for d := time.Millisecond; ; d = min(2*d, 50*time.Millisecond) {
		if err := c.writeErr(); err != nil {
			return err
		}
		if c.buffered() <= sendHighWater {
			return nil
		}
		if t == nil {
			t = time.NewTimer(d)
			defer t.Stop()
		} else {
			t.Reset(d)
		}
		select {
		case <-t.C:
		case <-c.closed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// writeErr returns why the connection can take no more messages, or nil.
func (c *Conn) writeErr() error {
	if c.closeSent.Load() || c.closedNow.Load() {
		return ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr != nil {
		return fmt.Errorf("%w: %w", ErrClosed, c.closeErr)
	}
	return nil
}

// sendFrame hands one frame to the browser's send.
func (c *Conn) sendFrame(typ MessageType, data []byte) (err error) {
	var v any
	switch typ {
	case TextMessage:
		if !utf8.Valid(data) {
			return fmt.Errorf("%w: text message is not valid UTF-8 (the browser would replace it)", ErrInvalidUTF8)
		}
		v = string(data)
	case BinaryMessage:
		b := uint8Array().New(len(data))
		js.CopyBytesToJS(b, data)
		v = b
	case PingMessage, PongMessage:
		return unsupported("ping frames (Options.Keepalive, Keepalive actions, Options.Confirm, ping and pong Frames: the browser sends and answers pings itself)")
	default:
		return errConnType
	}
	if err := c.writeErr(); err != nil {
		return err
	}
	if err := jsCall(c.ws, "send", v); err != nil {
		return err
	}
	if c.trace != nil {
		c.traceWrite(typ, len(data), len(data), nil)
	}
	return nil
}

// traceSent reports a frame of a Client's batch written on c (done by
// send itself in the browser).
func traceSent(*Conn, Frame) {}

// jsCall calls v's method name, turning an exception into an error.
func jsCall(v js.Value, name string, args ...any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("wsclient: WebSocket.%s: %v", name, r)
		}
	}()
	v.Call(name, args...)
	return nil
}
