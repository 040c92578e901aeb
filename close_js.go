//go:build js

package wsclient

import (
	"fmt"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

// sendableCloseCode reports whether code may be given to a close: a code
// an endpoint may send (RFC 6455 section 7.4), or CloseNoStatusReceived
// for a close frame without a code.
func sendableCloseCode(code int) bool {
	return code == CloseNoStatusReceived || frame.ValidCloseCode(code)
}

// sendClose asks the browser to start the close handshake with code and
// reason (cut to 123 bytes). The browser sends only 1000 and 3000–4999
// (and a close without a code, CloseNoStatusReceived); other codes return
// an error matching errors.ErrUnsupported.
func (c *Conn) sendClose(code int, reason string) error {
	if !sendableCloseCode(code) {
		return closeCodeError(code)
	}
	if code != CloseNormalClosure && code != CloseNoStatusReceived && (code < 3000 || code > 4999) {
		return unsupported(fmt.Sprintf("close code %d (the browser sends only 1000 and 3000-4999)", code))
	}
	if err := c.writeErr(); err != nil {
		return err
	}
	if len(reason) > frame.MaxControlPayload-2 {
		reason = reason[:frame.MaxControlPayload-2]
	}
	c.closeSent.Store(true)
	var err error
	if code == CloseNoStatusReceived {
		err = jsCall(c.ws, "close")
	} else {
		err = jsCall(c.ws, "close", code, reason)
	}
	if c.trace != nil {
		c.traceCloseSent(code, reason, true, err)
	}
	return err
}

// Close performs the close handshake: it sends a close frame with code and
// reason and waits up to the close timeout for the server's close. It
// returns nil after a complete handshake. Messages that arrived before
// the server's close stay readable. In the browser the codes that can be
// sent are 1000 and 3000–4999 (see sendClose).
func (c *Conn) Close(code int, reason string) error {
	if err := c.sendClose(code, reason); err != nil {
		return err
	}
	t := time.NewTimer(c.cfg.closeTimeout)
	defer t.Stop()
	select {
	case <-c.closed:
	case <-t.C:
		c.CloseNow()
		return ErrCloseTimeout
	}
	c.mu.Lock()
	err := c.closeErr
	c.mu.Unlock()
	if _, ok := err.(*CloseError); ok {
		return nil
	}
	return err
}

// CloseNow ends the connection without waiting. A page cannot drop a
// connection without a close frame: the browser sends one without a code
// (or finishes the close under way) and handles the rest itself. Reads
// and writes after it fail with ErrClosed.
func (c *Conn) CloseNow() error {
	if c.closedNow.Swap(true) {
		return ErrClosed
	}
	if rs := c.ws.Get("readyState").Int(); rs < 2 { // CONNECTING or OPEN
		jsCall(c.ws, "close")
	}
	c.ended(ErrClosed)
	return nil
}

// closeNowOnce is CloseNow for a caller that may have called it already.
func (c *Conn) closeNowOnce() {
	if !c.closedNow.Load() {
		c.CloseNow()
	}
}
