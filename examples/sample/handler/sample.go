// Package handler is the Erlang websocket_client sample handler
// (examples/sample_ws_handler.erl) written for wsclient.Client. It is shared
// by examples/sample and the CLI's demo command.
//
// On connect it casts "message 1". It prints every text message it receives
// and answers it with "hello, this is message #N", N counting up from 2; when
// the echo of "hello, this is message #4" arrives it closes the connection.
// Against an echo server it so receives four messages and then terminates.
package handler

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wsclient/wsclient"
)

// Start is the value that, posted to the client, makes the handler send
// "erlang message received" (the Erlang websocket_info(start, ...) clause).
const Start = "start"

// LastMessage is the counter value at which the handler closes: the echo of
// message #4 arrives while the counter is 5, as in the Erlang sample.
const LastMessage = 5

// Handler is the sample handler. Set Out before starting the client.
type Handler struct {
	wsclient.BaseHandler

	// Out receives the printed lines.
	Out io.Writer
	// Delay is waited before each reply (the Erlang sample sleeps one
	// second). The wait does not block the client: the reply is posted
	// back to the handler with a timer.
	Delay time.Duration

	state int // the Erlang State: the number of the next message
}

// delayedReply is posted back to the handler when Delay has passed.
type delayedReply struct{ n int }

// Init starts counting at 2 and connects once (Erlang {once, 2}).
func (h *Handler) Init(*wsclient.Client) (wsclient.InitMode, error) {
	h.state = 2
	return wsclient.ConnectOnce, nil
}

// OnConnect casts the first message; it goes out once OnConnect returns.
func (h *Handler) OnConnect(c *wsclient.Client, _ wsclient.ConnInfo) wsclient.Action {
	if err := c.Cast(wsclient.TextFrame("message 1")); err != nil {
		fmt.Fprintf(h.Out, "cast failed: %v\n", err)
	}
	return wsclient.Action{}
}

// OnDisconnect reconnects once after a connection lost without a close
// frame (Erlang ondisconnect({remote, closed}, State) -> {reconnect,
// State}); anything else takes the ConnectOnce default, which stops.
func (h *Handler) OnDisconnect(_ *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	if d.WasConnected && errors.Is(d.Reason, wsclient.ErrConnectionLost) {
		return wsclient.ReconnectAfter(0)
	}
	return wsclient.DisconnectAction{}
}

// HandleFrame prints text messages, replies with the next one, and closes
// after the last.
func (h *Handler) HandleFrame(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
	if f.Type != wsclient.TextMessage {
		return wsclient.Action{} // pongs and the rest: ok
	}
	fmt.Fprintf(h.Out, "Received msg %q\n", f.Data)
	if h.state == LastMessage {
		return wsclient.CloseAndStop(wsclient.CloseNormalClosure, "done", nil)
	}
	n := h.state
	h.state++
	if h.Delay > 0 {
		time.AfterFunc(h.Delay, func() { _ = c.Post(delayedReply{n}) })
		return wsclient.Action{}
	}
	return wsclient.Reply(message(n))
}

// HandleInfo answers Start, and sends delayed replies.
func (h *Handler) HandleInfo(_ *wsclient.Client, msg any) wsclient.Action {
	switch m := msg.(type) {
	case delayedReply:
		return wsclient.Reply(message(m.n))
	case string:
		if m == Start {
			return wsclient.Reply(wsclient.TextFrame("erlang message received"))
		}
	}
	return wsclient.Action{}
}

// Terminate prints the final state and reason.
func (h *Handler) Terminate(_ *wsclient.Client, reason error) {
	r := "normal"
	if reason != nil {
		r = reason.Error()
	}
	fmt.Fprintf(h.Out, "Websocket closed in state %d with reason %s\n", h.state, r)
}

func message(n int) wsclient.Frame {
	return wsclient.TextFrame(fmt.Sprintf("hello, this is message #%d", n))
}
