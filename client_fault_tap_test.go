//go:build !js

package wsclient_test

// The fault suite's tap (see client_fault_test.go): a net.Conn wrapper that
// parses the client's outgoing frames to learn which were written whole.

import (
	"bytes"
	"net"
	"slices"
	"sync"
	"testing"
)

type tapConn struct {
	net.Conn
	rec *fateRecorder

	mu        sync.Mutex
	handshake []byte // request bytes until the blank line
	inFrames  bool
	hdr       [14]byte // the frame header being read
	hdrLen    int
	hdrNeed   int
	remaining int64 // payload bytes of the current frame still to come
	key       [4]byte
	pos       int // payload offset within the frame, for unmasking
	fin       bool
	data      bool // the current message is text or binary
	inMessage bool // between a message's first frame and its final one
	id        []byte
}

func (c *tapConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.mu.Lock()
	c.feed(b[:n])
	c.mu.Unlock()
	return n, err
}

func (c *tapConn) feed(b []byte) {
	for len(b) > 0 {
		switch {
		case !c.inFrames:
			c.handshake = append(c.handshake, b...)
			i := bytes.Index(c.handshake, []byte("\r\n\r\n"))
			if i < 0 {
				return
			}
			rest := c.handshake[i+4:]
			b = append([]byte(nil), rest...)
			c.handshake, c.inFrames, c.hdrNeed = nil, true, 2
		case c.hdrLen < c.hdrNeed:
			m := copy(c.hdr[c.hdrLen:c.hdrNeed], b)
			c.hdrLen += m
			b = b[m:]
			if c.hdrLen == 2 {
				// Client frames are masked: 4 key bytes follow the length.
				switch c.hdr[1] & 0x7f {
				case 126:
					c.hdrNeed = 2 + 2 + 4
				case 127:
					c.hdrNeed = 2 + 8 + 4
				default:
					c.hdrNeed = 2 + 4
				}
			}
			if c.hdrLen == c.hdrNeed && c.hdrLen > 2 {
				c.startFrame()
			}
		default:
			m := int(min(int64(len(b)), c.remaining))
			if c.data && len(c.id) < faultIDLen {
				for _, x := range b[:min(m, faultIDLen-len(c.id))] {
					c.id = append(c.id, x^c.key[c.pos&3])
					c.pos++
				}
			}
			c.remaining -= int64(m)
			b = b[m:]
			if c.remaining == 0 {
				c.endFrame()
			}
		}
	}
}

func (c *tapConn) startFrame() {
	h := c.hdr[:c.hdrLen]
	c.fin = h[0]&0x80 != 0
	op := h[0] & 0x0f
	var n int64
	switch h[1] & 0x7f {
	case 126:
		n = int64(h[2])<<8 | int64(h[3])
	case 127:
		for _, x := range h[2:10] {
			n = n<<8 | int64(x)
		}
	default:
		n = int64(h[1] & 0x7f)
	}
	copy(c.key[:], h[len(h)-4:])
	c.remaining, c.pos = n, 0
	switch {
	case op == 1 || op == 2:
		c.data, c.inMessage, c.id = true, true, c.id[:0]
	case op == 0 && c.inMessage:
		// continuation of the current message
	default:
		c.data = false // control frame, possibly between fragments
	}
	if n == 0 {
		c.endFrame()
	}
}

func (c *tapConn) endFrame() {
	if c.data && c.fin {
		c.rec.written(c.id)
		c.inMessage = false
	}
	if !c.data && c.inMessage {
		c.data = true // back to the interrupted message
	}
	c.hdrLen, c.hdrNeed = 0, 2
}

// ---------------------------------------------------------------------------
// Rows.

// The tap counts a message once its last byte is written, whatever the
// write boundaries, fragments and control frames in between.
func TestFaultTap(t *testing.T) {
	var wire []byte
	wire = append(wire, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"...)
	frame := func(fin bool, op byte, payload []byte) {
		key := [4]byte{1, 2, 3, 4}
		b0 := op
		if fin {
			b0 |= 0x80
		}
		wire = append(wire, b0)
		switch n := len(payload); {
		case n < 126:
			wire = append(wire, 0x80|byte(n))
		case n < 1<<16:
			wire = append(wire, 0x80|126, byte(n>>8), byte(n))
		default:
			wire = append(wire, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		}
		wire = append(wire, key[:]...)
		for i, x := range payload {
			wire = append(wire, x^key[i&3])
		}
	}
	frame(true, 1, append(faultID('C', 0), "small"...))
	frame(true, 9, []byte("ping"))
	frame(true, 2, append(faultID('S', 1), bytes.Repeat([]byte{'x'}, 300)...))
	frame(false, 1, []byte("C00"))
	frame(true, 10, nil) // a pong between fragments
	frame(false, 0, []byte("00002-"))
	frame(true, 0, bytes.Repeat([]byte{'y'}, 70000))
	frame(true, 1, faultID('Z', 7))
	frame(true, 1, append(faultID('C', 3), "cut short"...))
	wire = wire[:len(wire)-1] // the last frame's write failed part-way

	for _, chunk := range []int{1, 3, 7, 1000, len(wire)} {
		rec := newFateRecorder(10)
		tc := &tapConn{rec: rec}
		for rest := wire; len(rest) > 0; {
			m := min(chunk, len(rest))
			tc.feed(rest[:m])
			rest = rest[m:]
		}
		got := []int{rec.fates[0][0].written, rec.fates[1][1].written, rec.fates[0][2].written, rec.fates[0][3].written}
		if want := []int{1, 1, 1, 0}; !slices.Equal(got, want) || rec.markerWrite != 1 || rec.dataWrites != 4 {
			t.Fatalf("chunks of %d: written %v (want %v), markers %d, messages %d", chunk, got, want, rec.markerWrite, rec.dataWrites)
		}
	}
}
