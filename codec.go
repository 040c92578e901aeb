package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Codec turns values into message payloads and back, for ReadValue,
// WriteValue, ValueFrame and HandleValues. A nil Codec is JSON
// (encoding/json, in text messages). Bring your own for protobuf, CBOR,
// msgpack: two methods, usually a line each around the library's Marshal
// and Unmarshal.
type Codec interface {
	// Encode appends the encoding of v to buf and returns the extended
	// buffer and the type of the message that carries it (TextMessage or
	// BinaryMessage). buf is the caller's pooled buffer: appending to it
	// saves an allocation; returning a new slice is fine.
	Encode(buf []byte, v any) ([]byte, MessageType, error)

	// Decode decodes a message payload into v, a non-nil pointer. data is
	// only valid during the call.
	Decode(data []byte, v any) error
}

// ErrDecode matches (errors.Is) the error of a message that the Codec
// could not decode (ReadValue, HandleValues). The message has been read
// and the connection is left as it is: whether to skip the message or
// close (CloseInvalidFramePayloadData, 1007, for a payload that is not
// what was agreed; CloseUnsupportedData, 1003, for a message of a type the
// application does not take) is the caller's decision. The error names
// the message: its type, size and first bytes, and the Go type decoded
// into, and wraps the Codec's error.
var ErrDecode = errors.New("wsclient: message could not be decoded")

// jsonCodec is the nil Codec: encoding/json in text messages.
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

func (jsonCodec) Encode(buf []byte, v any) ([]byte, MessageType, error) {
	// An Encoder writes from encoding/json's pooled buffer into ours,
	// where Marshal would allocate its result.
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
	return b, TextMessage, nil
}

func (jsonCodec) Decode(data []byte, v any) error { return json.Unmarshal(data, v) }

func codecOrJSON(c Codec) Codec {
	if c == nil {
		return jsonCodec{}
	}
	return c
}

// valueBufs holds the buffers values are encoded into and read into; a
// buffer grown past maxValueBuf is left to the garbage collector.
var valueBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxValueBuf = 64 << 10

func putValueBuf(p *[]byte, b []byte) {
	if cap(b) <= maxValueBuf {
		*p = b[:0]
		valueBufs.Put(p)
	}
}

// WriteValue sends v as one message, encoded by codec (nil: JSON in a
// text message). It costs the codec's own allocations and none more: the
// encoding goes into a pooled buffer. ctx bounds the write as for
// WriteMessage. An encoding error names v's type and wraps the codec's.
func WriteValue(ctx context.Context, c *Conn, codec Codec, v any) error {
	p := valueBufs.Get().(*[]byte)
	b, typ, err := codecOrJSON(codec).Encode((*p)[:0], v)
	if err != nil {
		putValueBuf(p, b)
		return fmt.Errorf("wsclient: encoding a %T: %w", v, err)
	}
	err = c.WriteMessage(ctx, typ, b)
	putValueBuf(p, b)
	return err
}

// ReadValue reads the next message and decodes it into v with codec (nil:
// JSON). The message is read into a pooled buffer, so ReadValue costs the
// codec's own allocations and none more. A message the codec cannot
// decode returns an error matching ErrDecode and leaves the connection
// open (see ErrDecode); any other error is ReadMessage's.
func ReadValue[T any](ctx context.Context, c *Conn, codec Codec, v *T) error {
	p := valueBufs.Get().(*[]byte)
	typ, b, err := c.appendMessage(ctx, (*p)[:0], false)
	if err == nil {
		if derr := codecOrJSON(codec).Decode(b, v); derr != nil {
			err = decodeError(typ, b, v, derr)
		}
	}
	putValueBuf(p, b)
	return err
}

// decodeError says which message could not be decoded into v, and why.
func decodeError(typ MessageType, data []byte, v any, err error) error {
	const show = 32
	head, more := data, ""
	if len(head) > show {
		head, more = head[:show], "..."
	}
	return fmt.Errorf("%w: %v message of %d bytes (%q%s) into %T: %w", ErrDecode, typ, len(data), head, more, v, err)
}

// ValueFrame returns a Frame holding v encoded by codec (nil: JSON, a text
// frame), to send with Client.Cast, Client.Send or Reply. An encoding
// error names v's type and wraps the codec's.
func ValueFrame(codec Codec, v any) (Frame, error) {
	b, typ, err := codecOrJSON(codec).Encode(nil, v)
	if err != nil {
		return Frame{}, fmt.Errorf("wsclient: encoding a %T: %w", v, err)
	}
	return Frame{Type: typ, Data: b}, nil
}
