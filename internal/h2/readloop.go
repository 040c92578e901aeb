package h2

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/net/http2"
)

// readLoop reads the server's frames until the connection ends, then ends
// every stream still open.
func (c *Conn) readLoop() {
	defer close(c.readDone)
	var err error
	for err == nil {
		var f http2.Frame
		f, err = c.fr.ReadFrame()
		var se http2.StreamError
		switch {
		case errors.As(err, &se):
			c.failStream(se.StreamID, se.Code, fmt.Errorf("wsclient: HTTP/2 stream: %w", se))
			err = nil
		case err == nil:
			err = c.handle(f)
		}
	}
	var ce http2.ConnectionError
	if errors.Is(err, http2.ErrFrameTooLarge) {
		err = fmt.Errorf("%w: %w", http2.ConnectionError(http2.ErrCodeFrameSize), err)
	}
	if errors.As(err, &ce) {
		// Bounded: a server that does not read must not keep the read
		// loop, and with it every stream's end, waiting.
		c.mu.Lock()
		c.baseWDL = time.Now().Add(streamCloseWait)
		c.nc.SetWriteDeadline(c.baseWDL)
		c.mu.Unlock()
		c.write(func() error { return c.fr.WriteGoAway(0, http2.ErrCode(ce), nil) })
	}
	c.nc.Close()
	c.mu.Lock()
	c.err = fmt.Errorf("%w: %w", errConnLost, err)
	for id, s := range c.streams {
		s.endLocked(c.err)
		delete(c.streams, id)
	}
	c.mu.Unlock()
}

// handle acts on one frame; an error ends the connection.
func (c *Conn) handle(f http2.Frame) error {
	if c.idle(f) {
		// Only HEADERS and PRIORITY may open a stream, and a server may
		// open none (RFC 9113 section 5.1).
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.MetaHeadersFrame:
		c.onHeaders(f)
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		if err := c.applySettings(f); err != nil {
			return err
		}
		return c.write(c.fr.WriteSettingsAck)
	case *http2.PingFrame:
		if !f.IsAck() {
			return c.write(func() error { return c.fr.WritePing(true, f.Data) })
		}
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		c.mu.Lock()
		if s := c.streams[f.StreamID]; s != nil {
			delete(c.streams, f.StreamID)
			s.endLocked(fmt.Errorf("wsclient: HTTP/2 stream reset by the server: %v", f.ErrCode))
		}
		c.mu.Unlock()
	case *http2.GoAwayFrame:
		c.onGoAway(f)
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol) // push is disabled
	}
	return nil
}

// idle reports a frame on a stream we never opened, other than PRIORITY.
func (c *Conn) idle(f http2.Frame) bool {
	id := f.Header().StreamID
	if id == 0 {
		return false
	}
	switch f.(type) {
	case *http2.DataFrame, *http2.MetaHeadersFrame, *http2.RSTStreamFrame, *http2.WindowUpdateFrame:
	default:
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return id%2 == 0 || id >= c.nextID // nextID is written under c.mu too
}

// applySettings applies the server's SETTINGS.
func (c *Conn) applySettings(f *http2.SettingsFrame) error {
	if v, ok := f.Value(http2.SettingHeaderTableSize); ok {
		c.wmu.Lock()
		c.henc.SetMaxDynamicTableSizeLimit(v)
		c.unlockW()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingMaxConcurrentStreams:
			c.maxStreams = s.Val
		case http2.SettingInitialWindowSize:
			// Every stream's window moves by the difference (RFC 9113
			// section 6.9.2), and may go negative.
			delta := int64(s.Val) - c.initWindow
			c.initWindow = int64(s.Val)
			for _, st := range c.streams {
				st.sendWindow += delta
				if st.sendWindow > 1<<31-1 {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
				st.wakeWriter()
			}
		case http2.SettingMaxFrameSize:
			c.maxFrame = int(min(s.Val, maxDataFrame))
		case http2.SettingEnableConnectProtocol:
			// It may not be withdrawn (RFC 8441 section 3).
			if s.Val == 0 && c.first.enableConnect {
				return http2.ConnectionError(http2.ErrCodeProtocol)
			}
		}
		return nil
	})
}

// onData files a DATA frame's bytes into its stream's buffer. The
// connection's window is refunded as DATA arrives; the stream's as the
// WebSocket reads.
func (c *Conn) onData(f *http2.DataFrame) error {
	n := int(f.Length) // padding included: it counts against the windows
	data := f.Data()
	c.mu.Lock()
	c.recvUnacked += n
	refund := 0
	if c.recvUnacked >= connWindow/2 {
		refund, c.recvUnacked = c.recvUnacked, 0
	}
	s := c.streams[f.StreamID]
	var sRefund int
	var resetCode http2.ErrCode
	var reset bool
	if s != nil {
		s.recvd += n
		switch {
		case s.resp == nil || s.peerEnded:
			// DATA before the response's HEADERS is malformed (RFC 9113
			// section 8.1); after END_STREAM it is on a closed stream
			// (section 6.1): it is never taken for the WebSocket's bytes.
			reset, resetCode = true, http2.ErrCodeProtocol
			if s.peerEnded {
				resetCode = http2.ErrCodeStreamClosed
			}
			delete(c.streams, f.StreamID)
			s.endLocked(errDataOutOfPlace)
		case s.recvd > streamWindow:
			reset, resetCode = true, http2.ErrCodeFlowControl
			delete(c.streams, f.StreamID)
			s.endLocked(errors.New("wsclient: HTTP/2 stream: the server overran the flow-control window"))
		default:
			s.appendLocked(data)
			sRefund = s.consumedLocked(n - len(data)) // padding is read at once
			if f.StreamEnded() {
				s.peerEndedLocked()
			}
			s.wakeReader()
		}
	}
	c.mu.Unlock()
	if refund > 0 {
		c.writeWindowUpdate(0, refund)
	}
	if sRefund > 0 {
		c.writeWindowUpdate(f.StreamID, sRefund)
	}
	if reset {
		c.writeReset(f.StreamID, resetCode)
	}
	return nil
}

// errDataOutOfPlace ends a stream the server sent DATA on before its
// response or after its END_STREAM.
var errDataOutOfPlace = errors.New("wsclient: HTTP/2 stream: DATA before the response or after END_STREAM")

// onHeaders takes the response to a stream's CONNECT (informational 1xx
// answers are skipped), or its trailers.
func (c *Conn) onHeaders(f *http2.MetaHeadersFrame) {
	if code, reset := c.takeHeaders(f); reset {
		c.writeReset(f.StreamID, code)
	}
}

// takeHeaders is onHeaders under c.mu; it reports a stream to reset.
func (c *Conn) takeHeaders(f *http2.MetaHeadersFrame) (http2.ErrCode, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.streams[f.StreamID]
	if s == nil {
		return 0, false
	}
	if s.resp == nil {
		if f.Truncated {
			delete(c.streams, f.StreamID)
			s.endLocked(errors.New("wsclient: HTTP/2 response headers exceed the limit"))
			return http2.ErrCodeCancel, true
		}
		code, err := strconv.Atoi(f.PseudoValue("status"))
		if err != nil || code < 100 || code > 999 {
			delete(c.streams, f.StreamID)
			s.endLocked(errors.New("wsclient: HTTP/2 response without a valid :status"))
			return http2.ErrCodeProtocol, true
		}
		if code < 200 && !f.StreamEnded() {
			return 0, false
		}
		s.resp = c.response(code, f)
	} else if !f.StreamEnded() {
		// A second HEADERS is trailers, which end the stream (RFC 9113
		// section 8.1).
		delete(c.streams, f.StreamID)
		s.endLocked(errors.New("wsclient: HTTP/2 stream: HEADERS after the response without END_STREAM"))
		return http2.ErrCodeProtocol, true
	}
	if f.StreamEnded() {
		s.peerEndedLocked()
	}
	s.wake()
	return 0, false
}

// response builds the http.Response of a stream's answer.
func (c *Conn) response(code int, f *http2.MetaHeadersFrame) *http.Response {
	regular := f.RegularFields()
	hdr := make(http.Header, len(regular))
	for _, hf := range regular {
		k := http.CanonicalHeaderKey(hf.Name)
		hdr[k] = append(hdr[k], hf.Value)
	}
	return &http.Response{
		Status:        strconv.Itoa(code) + " " + http.StatusText(code),
		StatusCode:    code,
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		Header:        hdr,
		Body:          http.NoBody,
		ContentLength: -1,
		TLS:           c.tls,
	}
}

// onWindowUpdate adds to a send window and wakes the writers waiting.
func (c *Conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	if f.StreamID == 0 {
		defer c.mu.Unlock()
		c.sendWindow += int64(f.Increment)
		if c.sendWindow > 1<<31-1 {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		c.wakeConnWaitersLocked()
		return nil
	}
	overflow := false
	if s := c.streams[f.StreamID]; s != nil {
		s.sendWindow += int64(f.Increment)
		if overflow = s.sendWindow > 1<<31-1; overflow {
			delete(c.streams, f.StreamID)
			s.endLocked(errors.New("wsclient: HTTP/2 stream: flow-control window overflow"))
		}
		s.wakeWriter()
	}
	c.mu.Unlock()
	if overflow {
		c.writeReset(f.StreamID, http2.ErrCodeFlowControl)
	}
	return nil
}

// wakeConnWaitersLocked wakes the writers waiting for the connection's
// window.
func (c *Conn) wakeConnWaitersLocked() {
	for _, s := range c.connWaiters {
		s.connWait = false
		s.wakeWriter()
	}
	clear(c.connWaiters)
	c.connWaiters = c.connWaiters[:0]
}

// onGoAway stops new streams on the connection and ends those the server
// will not process.
func (c *Conn) onGoAway(f *http2.GoAwayFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.goAway = true
	for id, s := range c.streams {
		if id > f.LastStreamID {
			delete(c.streams, id)
			s.endLocked(fmt.Errorf("%w (%v)", ErrGoAway, f.ErrCode))
		}
	}
}

// failStream ends a stream the server sent something invalid for.
func (c *Conn) failStream(id uint32, code http2.ErrCode, err error) {
	c.mu.Lock()
	s := c.streams[id]
	if s != nil {
		delete(c.streams, id)
		s.endLocked(err)
	}
	c.mu.Unlock()
	c.writeReset(id, code)
}
