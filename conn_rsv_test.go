package wsclient

import (
	"fmt"
	"testing"

	"github.com/wsclient/wsclient/wstest"
)

// RFC 6455 section 5.2: RSV1-3 must be 0 unless a negotiated extension gives
// them a meaning; with no extension the client fails the connection (1002).
func TestConnReservedBits(t *testing.T) {
	type frameSpec struct {
		fin bool
		rsv byte
		op  wstest.Opcode
		p   string
	}
	var cases []failCase
	add := func(name string, msgs int, frames ...frameSpec) {
		cases = append(cases, failCase{
			name: name,
			write: func(c *wstest.Conn) error {
				for _, f := range frames {
					if err := c.WriteFrame(f.fin, f.rsv, f.op, []byte(f.p)); err != nil {
						return err
					}
				}
				return nil
			},
			code: CloseProtocolError, sentinel: ErrProtocol, msgs: msgs,
		})
	}
	for _, rsv := range []byte{wstest.RSV1, wstest.RSV2, wstest.RSV3, wstest.RSV1 | wstest.RSV2 | wstest.RSV3} {
		add(fmt.Sprintf("text rsv %#x", rsv), 1,
			frameSpec{true, 0, wstest.OpText, "fine"},
			frameSpec{true, rsv, wstest.OpText, "bad"})
		add(fmt.Sprintf("binary rsv %#x", rsv), 0, frameSpec{true, rsv, wstest.OpBinary, "bad"})
		add(fmt.Sprintf("ping rsv %#x", rsv), 0, frameSpec{true, rsv, wstest.OpPing, "p"})
		add(fmt.Sprintf("close rsv %#x", rsv), 0, frameSpec{true, rsv, wstest.OpClose, "\x03\xe8"})
		add(fmt.Sprintf("continuation rsv %#x", rsv), 0,
			frameSpec{false, 0, wstest.OpText, "start"},
			frameSpec{true, rsv, wstest.OpContinuation, "end"})
	}
	// An empty frame with RSV set is still an error, even with no payload to read.
	add("empty text rsv2", 0, frameSpec{true, wstest.RSV2, wstest.OpText, ""})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runFailCase(t, tc) })
	}
}
