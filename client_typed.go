package wsclient

// HandleValues returns a Handler that decodes each text and binary
// message with codec (nil: JSON) into a T and passes it to handle, and
// leaves every other callback to h: Init, OnConnect, OnDisconnect,
// HandleInfo, Terminate, HandleFrame for pings and pongs, and
// OnUndelivered if h implements UndeliveredHandler. Send values with
// ValueFrame.
//
// A message the codec cannot decode reaches handle with the zero T and an
// error matching ErrDecode that names the message (see there); nothing is
// closed on the handler's behalf. handle decides, with its Action: skip
// the message (Action{}), reply, or end the client with CloseAndStop
// (CloseInvalidFramePayloadData, 1007, is the code for a payload that is
// not what was agreed; CloseUnsupportedData, 1003, for a message the
// application does not take).
//
// Each message is decoded into one T the handler keeps and zeroes before
// each decode, so decoding costs the codec's own allocations only; the
// returned Handler therefore belongs to one Client.
func HandleValues[T any](codec Codec, h Handler, handle func(c *Client, v T, err error) Action) Handler {
	vh := &valueHandler[T]{Handler: h, codec: codecOrJSON(codec), handle: handle}
	if u, ok := h.(UndeliveredHandler); ok {
		return valueUndelivered[T]{vh, u}
	}
	return vh
}

// valueHandler is HandleValues' Handler.
type valueHandler[T any] struct {
	Handler
	codec  Codec
	handle func(*Client, T, error) Action
	v      T // decoded into (callbacks never overlap)
}

func (h *valueHandler[T]) HandleFrame(c *Client, f Frame) Action {
	if f.Type != TextMessage && f.Type != BinaryMessage {
		return h.Handler.HandleFrame(c, f)
	}
	var zero T
	h.v = zero
	if err := h.codec.Decode(f.Data, &h.v); err != nil {
		h.v = zero
		return h.handle(c, zero, decodeError(f.Type, f.Data, &h.v, err))
	}
	return h.handle(c, h.v, nil)
}

// valueUndelivered is valueHandler for an h that is an UndeliveredHandler.
type valueUndelivered[T any] struct {
	*valueHandler[T]
	u UndeliveredHandler
}

func (h valueUndelivered[T]) OnUndelivered(c *Client, f Frame, err error) {
	h.u.OnUndelivered(c, f, err)
}
