//go:build js

package wsclient

import (
	"bytes"
	"context"
	"io"
)

// NextReader waits for the next data message and returns its type and a
// reader for its payload, which returns io.EOF at the end of the message.
// In the browser the message has arrived whole before it is returned.
// ctx bounds the wait; if it ends first, the connection is closed and
// ctx's error is returned. A ctx that has ended before the call returns
// its error at once and leaves the connection as it is.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	typ, b, err := c.appendMessage(ctx, nil, false)
	if err != nil {
		return 0, nil, err
	}
	return typ, bytes.NewReader(b), nil
}

// ReadMessage reads the next data message.
func (c *Conn) ReadMessage(ctx context.Context) (MessageType, []byte, error) {
	return c.appendMessage(ctx, nil, false)
}

// appendMessage reads the next data message and appends its payload to
// dst (an empty dst is replaced by the message's own buffer).
func (c *Conn) appendMessage(ctx context.Context, dst []byte, _ bool) (MessageType, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, dst, err
	}
	for {
		c.mu.Lock()
		if len(c.msgs) > 0 {
			m := c.msgs[0]
			c.msgs[0] = jsMessage{}
			c.msgs = c.msgs[1:]
			c.mu.Unlock()
			if c.trace != nil && c.trace.MessageRead != nil {
				c.trace.MessageRead(m.typ, len(m.data), -1)
			}
			if len(dst) == 0 {
				return m.typ, m.data, nil
			}
			return m.typ, append(dst, m.data...), nil
		}
		c.msgs = nil // let the queue's array go
		err := c.readErrLocked()
		c.mu.Unlock()
		if err != nil {
			return 0, dst, err
		}
		select {
		case <-c.arrived:
		case <-ctx.Done():
			c.CloseNow()
			return 0, dst, ctx.Err()
		}
	}
}

// readErrLocked returns the error the reader meets once the messages
// queued are read: a message over the limit, or the connection's end.
// c.mu is held.
func (c *Conn) readErrLocked() error {
	if c.tooBig {
		return protoErr(CloseMessageTooBig, ErrMessageTooBig, "message over %d bytes (closed with 1000: the browser sends no 1009)", c.cfg.maxMessage)
	}
	return c.closeErr
}
