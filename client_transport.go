package wsclient

import (
	"context"
)

// transport is everything a Client needs from a Conn beyond the Conn's
// exported methods (CloseNow, Info, SetControlHandler): the one seam between the two layers.
// *Conn implements it; the Client reaches the unexported side of its
// connections only through clientConn.t, and nothing below the Client
// names a Client type.
type transport interface {
	// appendMessage reads the next data message, appending its payload
	// to dst; with pooled, a large message may come instead in a buffer
	// from the big-buffer pools (bigbuf.go), which putBig takes back.
	appendMessage(ctx context.Context, dst []byte, pooled bool) (MessageType, []byte, error)

	// putBig gives b, a buffer appendMessage returned, to the big-buffer
	// pools if it is one they take, and reports whether it did (b must
	// then not be used again).
	putBig(b []byte) bool

	// bytesRead counts the bytes that have arrived so far: the keepalive's
	// sign of life, which moves while a large message is still arriving.
	bytesRead() uint64

	// send takes the write locks, asks fill for the frames to write and
	// writes them as one batch (masked into one buffer, few system calls),
	// returning how many of them, from the first, reached the socket
	// whole (errNoFrames when fill returned nil: nothing to write). fill
	// is not called when the locks could not be taken. With
	// now, send waits for nothing: errWouldWait says the locks were taken
	// by someone else or the socket allows no such attempt (fill not
	// called), or that the socket took only part of the batch, which a
	// later send without now finishes (the locks stay held meanwhile and
	// fill is not called again). See Conn.send.
	send(ctx context.Context, fill func(now bool) []outFrame, now bool) (int, error)

	// sendClose sends a close frame, starting the close handshake, and
	// returns without waiting for the answer, which the reader receives.
	sendClose(code int, reason string) error

	// writeFailure turns a failed write's error (err) into the server's
	// close when the server closed first and said why: it waits, up to the
	// close timeout, for the reader (reading: one is under way, as the
	// Client's always is) to reach the end of the connection.
	writeFailure(err error, reading bool) error

	// infoAs is Info with the URL as the Client was given it (asGiven)
	// when the connection went there unredirected.
	infoAs(asGiven string) ConnInfo

	// closeNowOnce is CloseNow for a caller that may have called it
	// already: the socket is closed once.
	closeNowOnce()
}

var _ transport = (*Conn)(nil)

// t returns cc's connection as the Client may use it beyond its exported
// methods.
func (cc *clientConn) t() transport { return cc.cn }
