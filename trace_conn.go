//go:build !js

package wsclient

// The trace hooks that look into the native Conn's engine (trace.go has
// the rest).

// traceSent reports a frame of a Client's batch written on c (wire -1
// when the connection compresses: the batch does not tell).
func traceSent(c *Conn, f Frame) {
	if c.trace == nil {
		return
	}
	wire := len(f.Data)
	if c.deflater != nil {
		wire = -1
	}
	c.traceWrite(f.Type, len(f.Data), wire, nil)
}

// traceRead reports the message just read in full.
func (c *Conn) traceRead() {
	if c.trace.MessageRead != nil {
		wire, size := c.proto.MessageSize()
		c.trace.MessageRead(MessageType(c.proto.Opcode()), int(size), int(wire))
	}
}
