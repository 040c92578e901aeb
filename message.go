package wsclient

import "github.com/wsclient/wsclient/internal/frame"

// MessageType is the type of a message or control frame. Its values are the
// RFC 6455 opcodes.
type MessageType int

// Message and control frame types.
const (
	TextMessage   MessageType = 1
	BinaryMessage MessageType = 2
	CloseMessage  MessageType = 8
	PingMessage   MessageType = 9
	PongMessage   MessageType = 10
)

// String returns the name of the MessageType.
func (t MessageType) String() string { return frame.Opcode(t).String() }
