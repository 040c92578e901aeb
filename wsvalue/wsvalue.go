// Package wsvalue sends and receives typed values, one per WebSocket
// message, over a [wsclient.Conn] or a [wsclient.Client].
//
// A [Codec] turns values into message payloads and back: nil means [JSON]
// (encoding/json, in text messages); protobuf, CBOR or msgpack users bring
// a two-method Codec, usually a line each around the library's Marshal and
// Unmarshal.
//
//   - on a Conn: [Write] and [Read];
//   - from a Client: [Frame] makes the frame to Cast, Send or Reply;
//     [Handler] wraps a handler so that its function receives decoded
//     values.
//
// A message that does not decode gives an error matching [ErrDecode] that
// names it and leaves the connection as it is.
package wsvalue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/wsclient/wsclient"
)

// Codec turns values into message payloads and back.
type Codec interface {
	// Encode appends the encoding of v to buf and returns it with the
	// type of message to carry it (TextMessage or BinaryMessage).
	Encode(buf []byte, v any) ([]byte, wsclient.MessageType, error)

	// Decode decodes data, the payload of one message, into v, a
	// pointer. data is only valid during the call.
	Decode(data []byte, v any) error
}

// JSON is the Codec a nil Codec means: encoding/json, in text messages.
var JSON Codec = jsonCodec{}

// ErrDecode matches (errors.Is) the error of a message that the Codec
// could not decode (Read, Handler). The message has been read and the
// connection is left as it is: whether to skip the message or close
// (CloseInvalidFramePayloadData, 1007, for a payload that is not what was
// agreed; CloseUnsupportedData, 1003, for a message of a type the
// application does not take) is the caller's decision. The error names the
// message: its type, size and first bytes, and the Go type decoded into,
// and wraps the Codec's error.
var ErrDecode = errors.New("wsclient: message could not be decoded")

// jsonCodec is encoding/json in text messages.
type jsonCodec struct{}

// appendWriter appends what is written to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// appendWriters holds the writers jsonCodec encodes through (one would
// otherwise escape to the heap on each call).
var appendWriters = sync.Pool{New: func() any { return new(appendWriter) }}

// Encode appends the JSON encoding of v to buf (without a trailing
// newline).
func (jsonCodec) Encode(buf []byte, v any) ([]byte, wsclient.MessageType, error) {
	w := appendWriters.Get().(*appendWriter)
	w.b = buf
	err := json.NewEncoder(w).Encode(v)
	b := w.b
	w.b = nil
	appendWriters.Put(w)
	if err != nil {
		return buf, 0, err
	}
	if n := len(b); n > len(buf) && b[n-1] == '\n' {
		b = b[:n-1] // Encode ends the value with a newline
	}
	return b, wsclient.TextMessage, nil
}

// Decode is json.Unmarshal.
func (jsonCodec) Decode(data []byte, v any) error { return json.Unmarshal(data, v) }

// orJSON returns c, or JSON for nil.
func orJSON(c Codec) Codec {
	if c == nil {
		return JSON
	}
	return c
}

// bufs holds the buffers values are encoded into and read into.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooled is the largest buffer kept in bufs: a rare huge message does
// not pin its buffer.
const maxPooled = 64 << 10

// putBuf gives b, grown from *p, back to the pool.
func putBuf(p *[]byte, b []byte) {
	if cap(b) <= maxPooled {
		*p = b[:0]
		bufs.Put(p)
	}
}

// Write encodes v with codec (nil: JSON) and writes it as one message,
// as c.WriteMessage does.
func Write(ctx context.Context, c *wsclient.Conn, codec Codec, v any) error {
	p := bufs.Get().(*[]byte)
	b, typ, err := orJSON(codec).Encode((*p)[:0], v)
	if err != nil {
		putBuf(p, b)
		return fmt.Errorf("wsclient: encoding a %T: %w", v, err)
	}
	err = c.WriteMessage(ctx, typ, b)
	putBuf(p, b)
	return err
}

// Read reads the next data message of c and decodes it with codec (nil:
// JSON) into v. The message is read whole (within the Dialer's
// MaxMessageSize) into a pooled buffer. A message that does not decode
// returns an error matching ErrDecode; the connection goes on.
func Read[T any](ctx context.Context, c *wsclient.Conn, codec Codec, v *T) error {
	typ, r, err := c.NextReader(ctx)
	if err != nil {
		return err
	}
	p := bufs.Get().(*[]byte)
	b, err := readAll(r, (*p)[:0])
	if err == nil {
		if derr := orJSON(codec).Decode(b, v); derr != nil {
			err = decodeError(typ, b, v, derr)
		}
	}
	putBuf(p, b)
	return err
}

// readAll appends what r gives until io.EOF to b.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// decodeError describes a message that did not decode into v.
func decodeError(typ wsclient.MessageType, data []byte, v any, err error) error {
	const show = 32
	head, more := data, ""
	if len(head) > show {
		head, more = head[:show], "..."
	}
	return fmt.Errorf("%w: %v message of %d bytes (%q%s) into %T: %w", ErrDecode, typ, len(data), head, more, v, err)
}

// Frame encodes v with codec (nil: JSON) into a Frame for a Client's
// Cast, Send or a callback's Reply.
func Frame(codec Codec, v any) (wsclient.Frame, error) {
	b, typ, err := orJSON(codec).Encode(nil, v)
	if err != nil {
		return wsclient.Frame{}, fmt.Errorf("wsclient: encoding a %T: %w", v, err)
	}
	return wsclient.Frame{Type: typ, Data: b}, nil
}
