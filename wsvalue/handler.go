package wsvalue

import "github.com/wsclient/wsclient"

// Handle wraps h so that each text or binary message is decoded with codec
// (nil: JSON) into a T and given to handle, whose Action is the callback's
// result; a message that does not decode comes with a zero T and an error
// matching ErrDecode, and the client goes on unless handle's Action says
// otherwise. Every other callback (pings, pongs, connects, OnUndelivered
// if h has it) reaches h. As with every callback, handle runs on one
// callback at a time, so it needs no lock.
func Handle[T any](codec Codec, h wsclient.Handler, handle func(c *wsclient.Client, v T, err error) wsclient.Action) wsclient.Handler {
	vh := &valueHandler[T]{Handler: h, codec: orJSON(codec), handle: handle}
	if u, ok := h.(wsclient.UndeliveredHandler); ok {
		return valueUndelivered[T]{vh, u}
	}
	return vh
}

// valueHandler is Handle's handler.
type valueHandler[T any] struct {
	wsclient.Handler
	codec  Codec
	handle func(*wsclient.Client, T, error) wsclient.Action
	v      T // decoded into (callbacks never overlap)
}

// HandleFrame decodes data messages and hands control frames on.
func (h *valueHandler[T]) HandleFrame(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
	if f.Type != wsclient.TextMessage && f.Type != wsclient.BinaryMessage {
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

// valueUndelivered is a valueHandler whose wrapped handler takes
// OnUndelivered.
type valueUndelivered[T any] struct {
	*valueHandler[T]
	u wsclient.UndeliveredHandler
}

// OnUndelivered hands the frame to the wrapped handler.
func (h valueUndelivered[T]) OnUndelivered(c *wsclient.Client, f wsclient.Frame, err error) {
	h.u.OnUndelivered(c, f, err)
}
