//go:build !js

package wsclient

import (
	"errors"
	"os"
	"strings"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/protocol"
)

// awaitTCPClose gives the server a short time to close the TCP connection
// first, as RFC 6455 section 7.1.1 asks, then closes it.
func (c *Conn) awaitTCPClose() {
	// Over an HTTP/2 stream our side ends now, with END_STREAM (RFC 8441
	// section 5).
	if hc, ok := c.nc.(interface{ closeHandshakeDone() }); ok {
		hc.closeHandshakeDone()
	}
	wait := min(c.cfg.closeTimeout, time.Second)
	c.nc.SetReadDeadline(time.Now().Add(wait))
	var scratch [256]byte
	for {
		if _, err := c.nc.Read(scratch[:]); err != nil {
			break
		}
	}
	c.nc.Close()
}

// fail ends the connection after a protocol error found while reading: it
// sends a close frame with the error's code (if none was sent yet), closes
// the TCP connection and makes err the sticky read error.
func (c *Conn) fail(err *ProtocolError) error {
	if c.rerr != nil {
		return c.rerr
	}
	c.rerr = err
	if c.wmu.lockTimeout(c.cfg.closeTimeout) {
		if code, ok := c.proto.FailClose(err.Code); ok && c.werr == nil {
			c.nc.SetWriteDeadline(time.Now().Add(c.cfg.closeTimeout))
			c.writeCloseLocked(code, "")
		}
		c.unlockWrite()
	}
	c.nc.Close()
	c.endClose()
	return err
}

// failProto fails the connection with an error the protocol engine found,
// classified by the root package's sentinels.
func (c *Conn) failProto(err error) error {
	pe, ok := err.(*protocol.Error)
	if !ok {
		return c.fail(protoErr(CloseInternalServerErr, ErrProtocol, "%v", err))
	}
	kind := ErrProtocol
	switch {
	case errors.Is(pe, protocol.ErrTooBig):
		kind = ErrMessageTooBig
	case errors.Is(pe, protocol.ErrInvalidUTF8):
		kind = ErrInvalidUTF8
	}
	return c.fail(&ProtocolError{Code: pe.Code, Msg: pe.Msg, kind: kind})
}

// endClose marks the close handshake or the connection as ended, closing
// the channel closeDone returns.
func (c *Conn) endClose() {
	c.closeMu.Lock()
	if !c.closeEnded {
		c.closeEnded = true
		if c.closeRecv != nil {
			close(c.closeRecv)
		}
	}
	c.closeMu.Unlock()
}

// setPeerClose records the server's close, as the reader parsed it.
func (c *Conn) setPeerClose(ce *CloseError) {
	c.closeMu.Lock()
	c.closeErr = ce
	c.closeMu.Unlock()
}

// peerClose returns the server's close, or nil when none was read (yet).
// It may be called from any goroutine; after the channel closeDone returns
// is closed, a close that was read is there.
func (c *Conn) peerClose() *CloseError {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.closeErr
}

// closeDone returns a channel closed once the close handshake or the
// connection has ended. It is made only when a caller waits for that (a
// Close waiting for a close under way, PingWait): most connections never
// need it.
func (c *Conn) closeDone() <-chan struct{} {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closeRecv == nil {
		if c.closeEnded {
			return closedChan
		}
		c.closeRecv = make(chan struct{})
	}
	return c.closeRecv
}

// writeFailure returns what a write that failed with err reports. A write
// fails with ErrConnectionLost when the server closed the TCP connection,
// often right after its close frame (such as 1009 for a message too big):
// the close frame says why. When the read side has ended, or a reader will
// read that close frame if it came (one runs now, or reading says one
// always does, as a Client's), writeFailure waits for the read side to end
// (at most the close timeout) and returns the server's *CloseError, with
// err's message; otherwise err.
func (c *Conn) writeFailure(err error, reading bool) error {
	if !errors.Is(err, ErrConnectionLost) {
		return err
	}
	done := c.closeDone()
	select {
	case <-done:
	default:
		if !reading && !c.reading() {
			if peerReset(err) {
				c.nc.Close() // left open for a reader (frameBatch.fail): none
			}
			return err // nobody reads: the close frame, if any, stays unread
		}
		t := time.NewTimer(c.cfg.closeTimeout)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			return err
		}
	}
	if ce := c.peerClose(); ce != nil {
		return &writeCloseError{ce: ce, err: err}
	}
	return err
}

// writeCloseError is a write that failed because the server closed: it is
// the server's *CloseError (errors.As), and says what the write saw.
type writeCloseError struct {
	ce  *CloseError
	err error
}

func (e *writeCloseError) Error() string {
	return e.ce.Error() + " (the write failed: " + strings.TrimPrefix(e.err.Error(), "wsclient: ") + ")"
}

func (e *writeCloseError) Unwrap() []error { return []error{e.ce, e.err} }

// reading reports whether a read call (ReadMessage, NextReader, a message
// reader's Read) runs now: it holds readMu.
func (c *Conn) reading() bool {
	if c.readMu.TryLock() {
		c.readMu.Unlock()
		return false
	}
	return true
}

// closedChan is a closed channel.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// writeCloseLocked sends a close frame; the engine records the close as
// sent when it produces the frame (and knows whether it answers the
// server's close: CloseReply). The caller holds wmu.
func (c *Conn) writeCloseLocked(code int, reason string) error {
	var p [frame.MaxControlPayload]byte
	payload, err := protocol.ClosePayload(p[:0], code, reason)
	if err != nil {
		return sendError(err)
	}
	err = c.writeFrameLocked(true, 0, frame.OpClose, payload)
	if c.trace != nil {
		c.traceCloseSent(code, reason, c.proto.StartedClose(), err)
	}
	return err
}

// sendClose starts the close handshake by sending a close frame with code
// and reason, and returns without waiting: the reader goes on receiving the
// messages the server sent before it saw the close, then its close. (For a
// caller whose reader stays the connection's reader.)
func (c *Conn) sendClose(code int, reason string) error {
	if !sendableCloseCode(code) {
		return closeCodeError(code)
	}
	if !c.wmu.lockTimeout(c.cfg.closeTimeout) {
		c.CloseNow()
		return errCloseBlocked
	}
	defer c.unlockWrite()
	if c.werr != nil || c.proto.CloseSent() {
		return ErrClosed
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.cfg.closeTimeout))
	return c.writeCloseLocked(code, reason)
}

// Close performs the close handshake: it sends a close frame with code and
// reason (a reason longer than 123 bytes is cut), waits up to the close
// timeout for the server's close frame, gives the server a moment to close
// the TCP connection, and closes it. If another goroutine is reading, that
// reader receives the server's close (as a *CloseError); otherwise Close
// reads and discards incoming messages itself: to receive the messages the
// server sent before its close, keep a reader running and call Close from
// another goroutine. Close returns nil after a complete handshake.
//
// Code CloseNoStatusReceived (1005) sends a close frame without a code
// (RFC 6455 section 7.1.5: the server then reports 1005); the other codes
// must be ones an endpoint may send (see ErrBadFrame).
func (c *Conn) Close(code int, reason string) error {
	if !sendableCloseCode(code) {
		return closeCodeError(code)
	}
	if !c.wmu.lockTimeout(c.cfg.closeTimeout) {
		c.CloseNow()
		return errCloseBlocked
	}
	if c.werr != nil {
		// Writing already failed: there is no handshake to be had.
		c.wmu.unlock()
		c.nc.Close()
		c.endClose()
		return ErrClosed
	}
	if c.proto.CloseSent() {
		// A close is under way (ours or an answer to the server's): wait
		// for it to finish, within the close timeout.
		c.wmu.unlock()
		t := time.NewTimer(c.cfg.closeTimeout)
		defer t.Stop()
		select {
		case <-c.closeDone():
		case <-t.C:
			c.nc.Close()
		}
		return ErrClosed
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.cfg.closeTimeout))
	err := c.writeCloseLocked(code, reason)
	c.unlockWrite()
	if err != nil {
		c.nc.Close()
		c.endClose()
		return err
	}
	deadline := time.Now().Add(c.cfg.closeTimeout)
	if c.readMu.TryLock() {
		c.nc.SetReadDeadline(deadline)
		for c.rerr == nil {
			if _, err := c.beginMessage(); err != nil {
				break
			}
		}
		// Ours went out: the handshake is complete when the engine
		// received the server's close (its receive side is ours here).
		rerr, done := c.rerr, c.proto.CloseReceived()
		c.readMu.Unlock()
		c.nc.Close()
		c.endClose()
		if done {
			return nil
		}
		if errors.Is(rerr, os.ErrDeadlineExceeded) {
			return ErrCloseTimeout
		}
		return rerr
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-c.closeDone():
		c.nc.Close()
		if c.peerClose() == nil {
			return ErrConnectionLost
		}
		return nil
	case <-t.C:
		c.nc.Close()
		return ErrCloseTimeout
	}
}

// errCloseBlocked: a write held the connection longer than the close
// timeout, so the close frame could not be sent.
var errCloseBlocked = errors.New("wsclient: close frame not sent: a write blocked for the whole close timeout; connection dropped")

// CloseNow closes the TCP connection without a close handshake.
func (c *Conn) CloseNow() error {
	// Close the socket first: it unblocks a writer stuck on a peer that
	// does not read, which holds the write lock.
	err := c.nc.Close()
	c.wmu.lock()
	c.proto.MarkClosed()
	if c.werr == nil {
		c.werr = ErrClosed
	}
	c.wmu.unlock()
	c.endClose()
	c.closedNow.Store(true)
	return err
}

// closeNowOnce is CloseNow for a caller that may have called it already
// (one that ends a connection it may have dropped): the socket is closed once,
// where a second Close would only make an error to say it was. Only a
// CloseNow that has finished counts: one under way on another goroutine
// has not marked the writes closed yet, and this call must not return
// before that.
func (c *Conn) closeNowOnce() {
	if !c.closedNow.Load() {
		c.CloseNow()
	}
}
