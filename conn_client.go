package wsclient

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/handshake"
)

// The few things the Client needs from a Conn beyond its public methods:
// counters for the keepalive, the close timeout, and batched writes (several
// frames masked into one buffer and written with one system call, under the
// Conn's write locks, so that they never interleave with other writers).

// bytesRead returns how many bytes have arrived so far: read from the
// socket, plus those the kernel holds for a read that waits for more of a
// large frame (see unreadQueued). It changes whenever bytes arrive.
func (c *Conn) bytesRead() uint64 { return c.bytesIn.Load() + c.unreadQueued() }

// responseHeader returns the handshake response's header: the Response's
// when it has been built, else one built from the response's head alone,
// without building (or keeping) a Response.
func (c *Conn) responseHeader() http.Header {
	if c.respHeader != nil {
		return c.respHeader
	}
	if c.respHead == "" {
		return nil
	}
	var fields [8]handshake.Field // on this stack: only the header is kept
	r, err := handshake.ParseInto(c.respHead, fields[:0])
	if err != nil {
		return nil // cannot happen: the head was parsed during the handshake
	}
	return r.Header()
}

// setControlHandler is SetControlHandler with the handler's storage given,
// so that installing it allocates nothing.
func (c *Conn) setControlHandler(f *func(typ MessageType, payload []byte)) { c.onCtl.Store(f) }

// closeWait returns the close timeout: how long one wait of the close
// handshake may take.
func (c *Conn) closeWait() time.Duration { return c.cfg.closeTimeout }

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

// appendFrameLocked appends one complete frame of type typ carrying p,
// masked (and compressed, for a data message, when permessage-deflate is
// on and p is worth it), to dst. The caller holds the write locks: with
// context takeover the compressor's state follows the order of the frames.
func (c *Conn) appendFrameLocked(dst []byte, typ MessageType, p []byte) ([]byte, error) {
	op := frame.Opcode(typ)
	var rsv byte
	if (typ == TextMessage || typ == BinaryMessage) && c.deflater != nil && !c.noCompress.Load() && c.deflater.worth(len(p)) {
		out, err := c.deflater.compress(p)
		if err != nil {
			return dst, err
		}
		p, rsv = out, frame.RSV1
	}
	return appendMasked(dst, rsv, op, p), nil
}

// appendMasked appends one masked frame carrying p to dst.
func appendMasked(dst []byte, rsv byte, op frame.Opcode, p []byte) []byte {
	h := frame.Header{Fin: true, RSV: rsv, Opcode: op, Masked: true, Length: int64(len(p))}
	h.Mask = maskKey()
	n := len(dst)
	need := n + frame.MaxHeaderLen + len(p)
	if need > cap(dst) {
		nd := make([]byte, n, max(need, 2*cap(dst)))
		copy(nd, dst)
		dst = nd
	}
	dst = dst[:need]
	hl := frame.Put(dst[n:], h)
	frame.MaskCopy(dst[n+hl:n+hl+len(p)], p, h.Mask, 0)
	return dst[:n+hl+len(p)]
}

// writeFrameBigLocked writes one frame carrying p (compressed when worth
// it) straight from p, in pieces, without a buffer the size of p. The
// caller holds the write locks.
func (c *Conn) writeFrameBigLocked(typ MessageType, p []byte) error {
	if err := c.writableLocked(); err != nil {
		return err
	}
	op := frame.Opcode(typ)
	var rsv byte
	if (typ == TextMessage || typ == BinaryMessage) && c.deflater != nil && !c.noCompress.Load() && c.deflater.worth(len(p)) {
		out, err := c.deflater.compress(p)
		if err != nil {
			return err
		}
		p, rsv = out, frame.RSV1
	}
	return c.writeFrameLocked(true, rsv, op, p)
}

// writeRawLocked writes b, bytes of complete frames, to the socket, waiting
// as long as it takes (ctx, if it can end, bounds the wait by breaking the
// connection), and returns how many bytes the socket took: on a failure
// the frames that end within them were written in full, the rest not. The
// caller holds the write locks.
func (c *Conn) writeRawLocked(ctx context.Context, b []byte) (int, error) {
	if err := c.writableLocked(); err != nil {
		return 0, err
	}
	c.beginWrite(ctx) // watched only if the socket cannot take b at once
	n, err := c.sockWrite(b)
	c.endWrite()
	if err != nil {
		return n, c.ctxErr(ctx, c.writeFailedLocked(err))
	}
	return n, nil
}

// writeNowLocked makes one attempt to write b through w (built for this
// connection's socket) without waiting, and returns how many bytes the
// socket took, possibly 0. The caller holds the write locks.
func (c *Conn) writeNowLocked(w *nowWriter, b []byte) (int, error) {
	if err := c.writableLocked(); err != nil {
		return 0, err
	}
	n, err := w.write(b)
	if err != nil {
		return n, c.writeFailedLocked(err)
	}
	return n, nil
}

// writeFailedLocked records a failed socket write as the sticky write error
// and closes the socket.
func (c *Conn) writeFailedLocked(err error) error {
	c.werr = lostErr(err)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.werr = err
	}
	c.nc.Close()
	return c.werr
}
