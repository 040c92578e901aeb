package wstest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/wsclient/wsclient/internal/frame"
)

// Opcode is a WebSocket frame opcode (RFC 6455 section 5.2). Any 4-bit value
// may be written; the constants are the defined ones.
type Opcode byte

// Opcodes defined by RFC 6455.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// String returns the opcode's name, such as "text" or "opcode(0x3)".
func (op Opcode) String() string { return frame.Opcode(op).String() }

// IsControl reports whether op is a control opcode (0x8-0xF).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// Reserved bits, in their positions in the first header byte, for the rsv
// arguments and Frame.RSV.
const (
	RSV1 byte = 0x40
	RSV2 byte = 0x20
	RSV3 byte = 0x10
)

// Frame is one WebSocket frame: a frame read from the client, or one to
// encode with Bytes.
type Frame struct {
	Fin     bool
	RSV     byte // RSV1|RSV2|RSV3 bits in their wire positions
	Opcode  Opcode
	Masked  bool
	Mask    [4]byte // the masking key, when Masked
	Payload []byte  // unmasked application data
}

// Bytes encodes the frame: header with the length in its shortest form, then
// the payload, masked with Mask when Masked is set. Opcode and RSV are
// written as given, so invalid frames can be built too.
func (f Frame) Bytes() []byte {
	h := frame.Header{
		Fin:    f.Fin,
		RSV:    f.RSV & 0x70,
		Opcode: frame.Opcode(f.Opcode & 0x0f),
		Masked: f.Masked,
		Mask:   f.Mask,
		Length: int64(len(f.Payload)),
	}
	b := frame.Append(make([]byte, 0, frame.MaxHeaderLen+len(f.Payload)), h)
	n := len(b)
	b = append(b, f.Payload...)
	if f.Masked {
		frame.Mask(f.Mask, 0, b[n:])
	}
	return b
}

// Conn is the server side of one accepted connection, handed to the script.
// Writes are safe from several goroutines; reads (ReadFrame, ReadMessage,
// ExpectClose, Echo) must come from one goroutine at a time.
type Conn struct {
	srv  *Server
	id   int
	nc   net.Conn // the TCP connection
	done chan struct{}

	wmu sync.Mutex // serialises writes (and compression)

	mu       sync.Mutex // guards the fields below
	rw       net.Conn   // nc, or the TLS connection over it
	req      *http.Request
	subproto string
	ext      string
	frames   []Frame
	nframes  int
	deflate  *deflater

	br *bufio.Reader // reading goroutine only
	// message being reassembled by ReadMessage
	inMsg    bool
	msgOp    Opcode
	msgFlate bool
	msg      []byte
}

func newConn(s *Server, nc net.Conn, id int) *Conn {
	return &Conn{srv: s, id: id, nc: nc, rw: nc, br: bufio.NewReader(nc), done: make(chan struct{})}
}

func (c *Conn) setRW(rw net.Conn) {
	c.mu.Lock()
	c.rw = rw
	c.mu.Unlock()
	c.br = bufio.NewReader(rw)
}

// release frees the per-connection buffers and compression state once the
// connection has ended, so that the Server's list of connections stays small
// in long-running servers.
func (c *Conn) release() {
	c.br = bufio.NewReaderSize(c.nc, 16)
	c.msg = nil
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deflate != nil {
		c.deflate.w, c.deflate.dict = nil, nil
		c.deflate.buf = bytes.Buffer{}
	}
}

func (c *Conn) conn() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rw
}

// Request returns the client's handshake request (its Body is empty), or nil
// before it has been read or when it could not be parsed.
func (c *Conn) Request() *http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.req
}

// Subprotocol returns the Sec-WebSocket-Protocol value the server answered.
func (c *Conn) Subprotocol() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subproto
}

// Extensions returns the Sec-WebSocket-Extensions value the server answered.
func (c *Conn) Extensions() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ext
}

// Deflate reports whether permessage-deflate was negotiated (see WithDeflate).
func (c *Conn) Deflate() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deflate != nil
}

// NetConn returns the underlying connection (a *tls.Conn with WithTLS), for
// deadlines and addresses. Reading from it bypasses the Conn's buffer.
func (c *Conn) NetConn() net.Conn { return c.conn() }

// Context returns a context that is cancelled when the server closes.
func (c *Conn) Context() context.Context { return c.srv.ctx }

// Done returns a channel that is closed when the connection's goroutine has
// finished: script returned and TCP connection closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Frames returns the frames received from the client so far (up to the
// record limit, see WithRecordLimit), in order. The payloads are shared and
// must not be modified.
func (c *Conn) Frames() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.frames)
}

func (c *Conn) record(f Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nframes++
	if l := c.srv.cfg.recordLimit; l < 0 || len(c.frames) < l {
		c.frames = append(c.frames, f)
	}
}

// WriteRaw writes b verbatim in one Write call.
func (c *Conn) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.conn().Write(b)
	return err
}

// WriteFrame writes one unmasked frame with the given FIN bit, RSV bits,
// opcode and payload, uncompressed, in one Write call.
func (c *Conn) WriteFrame(fin bool, rsv byte, op Opcode, payload []byte) error {
	return c.WriteRaw(Frame{Fin: fin, RSV: rsv, Opcode: op, Payload: payload}.Bytes())
}

// WriteMessage writes a message as one unmasked frame. Text and binary
// messages are compressed (RSV1 set) when permessage-deflate was negotiated.
func (c *Conn) WriteMessage(op Opcode, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var rsv byte
	c.mu.Lock()
	d := c.deflate
	c.mu.Unlock()
	if d != nil && (op == OpText || op == OpBinary) {
		payload = d.compress(payload)
		rsv = RSV1
	}
	_, err := c.conn().Write(Frame{Fin: true, RSV: rsv, Opcode: op, Payload: payload}.Bytes())
	return err
}

// WriteChunked writes data in pieces, each in its own Write call, waiting
// delay between pieces. The piece lengths are taken from sizes in order, the
// last one repeating; no sizes means one byte per piece. The cut points may
// fall anywhere, inside headers included. No other write interleaves.
func (c *Conn) WriteChunked(data []byte, sizes []int, delay time.Duration) error {
	if len(sizes) == 0 {
		sizes = []int{1}
	}
	for _, n := range sizes {
		if n <= 0 {
			return fmt.Errorf("wstest: chunk size %d", n)
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	rw := c.conn()
	for i, off := 0, 0; off < len(data); i++ {
		if off > 0 && delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-c.srv.ctx.Done():
				t.Stop()
				return net.ErrClosed
			}
		}
		end := min(off+sizes[min(i, len(sizes)-1)], len(data))
		if _, err := rw.Write(data[off:end]); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// Close sends a close frame with code and reason (an empty payload when
// code is 1005). It does not close the TCP connection: see ExpectClose and
// Drop. For an invalid close payload use WriteFrame.
func (c *Conn) Close(code int, reason string) error {
	return c.WriteFrame(true, 0, OpClose, frame.AppendClose(nil, code, reason))
}

// Drop closes the TCP connection at once, without a close frame (and, with
// TLS, without a close_notify alert).
func (c *Conn) Drop() error { return c.nc.Close() }

// ReadFrame reads the client's next frame, records it and returns it with
// its payload unmasked. It accepts any frame whose length can be read. For
// a frame that breaks a rule of RFC 6455 that does not depend on the
// connection (reserved opcode, fragmented or long control frame, length not
// minimally encoded) it returns the frame and an error. Masking and RSV bits
// are not checked here.
func (c *Conn) ReadFrame() (Frame, error) {
	b, err := c.br.Peek(2)
	if err != nil {
		if len(b) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	n := frame.HeaderLen(b[0], b[1])
	if b, err = c.br.Peek(n); err != nil {
		return Frame{}, unexpected(err)
	}
	h, _, perr := frame.Parse(b)
	if errors.Is(perr, frame.ErrLengthTopBit) {
		return Frame{}, fmt.Errorf("wstest: %w", perr)
	}
	if perr == nil {
		switch b[1] & 0x7f {
		case 126:
			if h.Length < 126 {
				perr = frame.ErrNonMinimalLength
			}
		case 127:
			if h.Length <= 0xffff {
				perr = frame.ErrNonMinimalLength
			}
		}
	}
	if h.Length > c.srv.cfg.readLimit {
		return Frame{}, &protocolError{frame.CloseTooBig, fmt.Sprintf("frame of %d bytes over the read limit", h.Length)}
	}
	if _, err := c.br.Discard(n); err != nil {
		return Frame{}, unexpected(err)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		return Frame{}, unexpected(err)
	}
	if h.Masked {
		frame.Mask(h.Mask, 0, p)
	}
	f := Frame{Fin: h.Fin, RSV: h.RSV, Opcode: Opcode(h.Opcode), Masked: h.Masked, Mask: h.Mask, Payload: p}
	c.record(f)
	if perr != nil {
		return f, &protocolError{frame.CloseProtocolError, perr.Error()}
	}
	return f, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// protocolError is a violation by the client, with the close code a server
// answers it with.
type protocolError struct {
	code int
	msg  string
}

func (e *protocolError) Error() string {
	return fmt.Sprintf("wstest: client protocol violation (close %d): %s", e.code, e.msg)
}

// ReadMessage reads the client's next message and returns its opcode and
// payload, checking what a server must check: every frame masked, RSV bits
// only as negotiated, continuation frames only within a fragmented message,
// the read limit. Fragments are reassembled and compressed messages
// decompressed. A control frame (ping, pong, close) is returned as a message
// of its own as soon as it arrives, also between the fragments of a data
// message, whose reassembly the next call continues. Nothing is answered
// automatically.
func (c *Conn) ReadMessage() (Opcode, []byte, error) {
	for {
		f, err := c.ReadFrame()
		if err != nil {
			return 0, nil, err
		}
		if !f.Masked {
			return 0, nil, &protocolError{frame.CloseProtocolError, "client frame not masked"}
		}
		if f.Opcode.IsControl() {
			if f.RSV != 0 {
				return 0, nil, &protocolError{frame.CloseProtocolError, "RSV bits set on a control frame"}
			}
			return f.Opcode, f.Payload, nil
		}
		c.mu.Lock()
		d := c.deflate
		c.mu.Unlock()
		switch f.Opcode {
		case OpContinuation:
			if !c.inMsg {
				return 0, nil, &protocolError{frame.CloseProtocolError, "continuation frame without a message to continue"}
			}
			if f.RSV != 0 {
				return 0, nil, &protocolError{frame.CloseProtocolError, "RSV bits set on a continuation frame"}
			}
			if int64(len(c.msg))+int64(len(f.Payload)) > c.srv.cfg.readLimit {
				return 0, nil, &protocolError{frame.CloseTooBig, "message over the read limit"}
			}
			c.msg = append(c.msg, f.Payload...)
		default: // text or binary
			if c.inMsg {
				return 0, nil, &protocolError{frame.CloseProtocolError, "new data frame within a fragmented message"}
			}
			if f.RSV&^RSV1 != 0 || (f.RSV&RSV1 != 0 && d == nil) {
				return 0, nil, &protocolError{frame.CloseProtocolError, fmt.Sprintf("RSV bits %#x set without a negotiated extension", f.RSV)}
			}
			c.inMsg, c.msgOp, c.msgFlate = true, f.Opcode, f.RSV&RSV1 != 0
			c.msg = f.Payload
			if !f.Fin {
				c.msg = slices.Clone(f.Payload)
			}
		}
		if !f.Fin {
			continue
		}
		op, p, compressed := c.msgOp, c.msg, c.msgFlate
		c.inMsg, c.msg = false, nil
		if compressed {
			if p, err = d.decompress(p, c.srv.cfg.readLimit); err != nil {
				return 0, nil, err
			}
		}
		return op, p, nil
	}
}

// ExpectClose reads and discards (but records) the client's frames until a
// close frame arrives, and returns its code and reason: code 1005 for an
// empty payload, and an error for an invalid one. It does not answer.
func (c *Conn) ExpectClose() (code int, reason string, err error) {
	for {
		f, err := c.ReadFrame()
		if err != nil && f.Opcode != OpClose {
			var pe *protocolError
			if errors.As(err, &pe) && pe.code == frame.CloseProtocolError {
				continue
			}
			return 0, "", err
		}
		if f.Opcode == OpClose {
			code, reason, err := frame.ParseClose(f.Payload)
			if err != nil {
				return code, reason, fmt.Errorf("wstest: invalid close payload %x: %w", f.Payload, err)
			}
			return code, reason, nil
		}
	}
}

// Echo serves the connection as an echo server until it ends: text and
// binary messages (reassembled, decompressed) are sent back as one frame
// (compressed when permessage-deflate was negotiated), pings are answered
// with pongs carrying the same payload, pongs are ignored, and a close frame
// is answered with a close frame carrying the same code and reason, after
// which Echo returns nil and the connection is closed.
//
// A client that violates the protocol (unmasked frame, bad RSV bits, text
// that is not UTF-8, invalid close payload ...) gets a close frame with the
// matching code, and Echo returns an error describing the violation. A
// client that just disconnects is not an error.
func (c *Conn) Echo() error {
	for {
		op, p, err := c.ReadMessage()
		if err != nil {
			var pe *protocolError
			if errors.As(err, &pe) {
				_ = c.Close(pe.code, "")
				return err
			}
			return ignoreDisconnect(err)
		}
		switch op {
		case OpPing:
			err = c.WriteFrame(true, 0, OpPong, p)
		case OpPong:
		case OpClose:
			if _, _, perr := frame.ParseClose(p); perr != nil {
				_ = c.Close(frame.CloseProtocolError, "")
				return fmt.Errorf("wstest: invalid close payload %x from client: %w", p, perr)
			}
			return ignoreDisconnect(c.WriteFrame(true, 0, OpClose, p))
		case OpText:
			if !utf8.Valid(p) {
				_ = c.Close(frame.CloseInvalidPayload, "")
				return &protocolError{frame.CloseInvalidPayload, "text message is not valid UTF-8"}
			}
			err = c.WriteMessage(op, p)
		default:
			err = c.WriteMessage(op, p)
		}
		if err != nil {
			return ignoreDisconnect(err)
		}
	}
}

// ignoreDisconnect maps errors that mean "the peer went away" to nil.
func ignoreDisconnect(err error) error {
	switch {
	case err == nil,
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return nil
	}
	return err
}
