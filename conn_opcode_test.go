package wsclient

import (
	"fmt"
	"testing"

	"github.com/wsclient/wsclient/wstest"
)

// Reserved opcodes (data 0x3-0x7, control 0xB-0xF) fail the connection with
// 1002, before or after a valid message, with or without payload.
func TestConnReservedOpcodes(t *testing.T) {
	for _, op := range []wstest.Opcode{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		for _, payload := range []string{"", "reserved"} {
			name := fmt.Sprintf("opcode %#x len %d", byte(op), len(payload))
			t.Run(name, func(t *testing.T) {
				runFailCase(t, failCase{
					write: func(c *wstest.Conn) error {
						if err := c.WriteMessage(wstest.OpText, []byte("before")); err != nil {
							return err
						}
						return c.WriteFrame(true, 0, op, []byte(payload))
					},
					code: CloseProtocolError, sentinel: ErrProtocol, msgs: 1,
				})
			})
		}
	}
}

// A server must never mask its frames (RFC 6455 section 5.1): the client
// fails the connection with 1002, for data and control frames alike.
func TestConnMaskedServerFrame(t *testing.T) {
	for _, op := range []wstest.Opcode{wstest.OpText, wstest.OpBinary, wstest.OpPing, wstest.OpPong, wstest.OpClose} {
		t.Run(op.String(), func(t *testing.T) {
			payload := []byte("masked")
			if op == wstest.OpClose {
				payload = []byte("\x03\xe8bye")
			}
			runFailCase(t, failCase{
				write: func(c *wstest.Conn) error {
					return c.WriteRaw(wstest.Frame{Fin: true, Opcode: op, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Payload: payload}.Bytes())
				},
				code: CloseProtocolError, sentinel: ErrProtocol,
			})
		})
	}
	// A zero mask key leaves the payload as is, but the MASK bit still counts.
	t.Run("zero key", func(t *testing.T) {
		runFailCase(t, failCase{
			write: func(c *wstest.Conn) error {
				return c.WriteRaw(wstest.Frame{Fin: true, Opcode: wstest.OpText, Masked: true, Payload: []byte("x")}.Bytes())
			},
			code: CloseProtocolError, sentinel: ErrProtocol,
		})
	})
}
