//go:build !js

package wsclient

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsclient/wsclient/wstest"
)

// FuzzConnRead feeds arbitrary bytes from the server end of a pipe to
// a Conn (as after a handshake) and reads until the connection ends. It must
// not panic or hang, every text message it returns must be valid UTF-8 and
// within the size limit, and the final error must be one of the typed
// errors: *CloseError, *ProtocolError or ErrConnectionLost.
func FuzzConnRead(f *testing.F) {
	fr := func(fin bool, rsv byte, op wstest.Opcode, p string) []byte {
		return wstest.Frame{Fin: fin, RSV: rsv, Opcode: op, Payload: []byte(p)}.Bytes()
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	f.Add([]byte{})
	f.Add(fr(true, 0, wstest.OpText, "hello"))
	f.Add(cat(fr(false, 0, wstest.OpText, "hel"), fr(true, 0, wstest.OpPing, "p"), fr(true, 0, wstest.OpContinuation, "lo")))
	f.Add(cat(fr(true, 0, wstest.OpBinary, string(pattern(300, 1))), fr(true, 0, wstest.OpClose, "\x03\xe8bye")))
	f.Add(fr(true, 0, wstest.OpText, "\xff"))
	f.Add(cat(fr(false, 0, wstest.OpText, "\xe6"), fr(true, 0, wstest.OpContinuation, "\x97\xa5")))
	f.Add(fr(true, wstest.RSV1, wstest.OpText, "x"))
	f.Add(fr(true, 0, 0x3, ""))
	f.Add(fr(true, 0, wstest.OpClose, "\x03"))
	f.Add(fr(true, 0, wstest.OpClose, ""))
	f.Add([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 0})
	f.Add([]byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0})
	f.Add([]byte{0x81, 0x85, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e'})
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 16
		// net.Pipe is synchronous: one goroutine feeds the data and then
		// ends the connection, another drains what the client writes.
		c, s := net.Pipe()
		cfg := connConfig{maxMessage: limit, fragmentSize: 4096, closeTimeout: 500 * time.Millisecond, writeBufSize: defaultWriteBuf}
		conn := newConn(c, nil, cfg, 512)
		fed := make(chan struct{})
		drained := make(chan struct{})
		go func() {
			defer close(fed)
			s.Write(data)
			s.Close()
		}()
		go func() {
			defer close(drained)
			io.Copy(io.Discard, s)
		}()
		defer func() {
			conn.CloseNow()
			<-fed
			<-drained
		}()
		conn.setReadDeadline(time.Now().Add(5 * time.Second)) // a hang fails below as a timeout
		var err error
		for range len(data) + 2 {
			var typ MessageType
			var p []byte
			typ, p, err = conn.ReadMessage(context.Background())
			if err != nil {
				break
			}
			if typ != TextMessage && typ != BinaryMessage {
				t.Fatalf("message of type %v", typ)
			}
			if typ == TextMessage && !utf8.Valid(p) {
				t.Fatalf("invalid UTF-8 text message %q", p)
			}
			if len(p) > limit {
				t.Fatalf("message of %d bytes over the %d limit", len(p), limit)
			}
		}
		if err == nil {
			t.Fatalf("more messages than possible from %d bytes", len(data))
		}
		var ce *CloseError
		var pe *ProtocolError
		switch {
		case errors.As(err, &ce):
		case errors.As(err, &pe):
			if pe.Code != CloseProtocolError && pe.Code != CloseInvalidFramePayloadData && pe.Code != CloseMessageTooBig {
				t.Fatalf("ProtocolError with code %d", pe.Code)
			}
		case errors.Is(err, ErrConnectionLost):
		default:
			t.Fatalf("untyped error %v (%T)", err, err)
		}
	})
}
