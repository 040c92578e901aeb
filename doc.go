// Package wsclient is a WebSocket client (RFC 6455, with permessage-deflate
// from RFC 7692) in two forms that share one protocol core:
//
//   - Conn, a plain connection: Dial, then read and write messages from your
//     own goroutines. Writes are safe for concurrent use; reads come from one
//     goroutine at a time.
//   - Client, a long-lived, callback-driven client modelled on the Erlang
//     library websocket_client: an explicit state machine whose callbacks
//     never overlap, each happening-before the next, so handler state needs
//     no locks; HandleFrame runs on the connection's reading goroutine and
//     frames are written without a hand-off when the socket takes them, so
//     Cast and callbacks never wait for the network and an idle client has
//     one goroutine. It reconnects by policy, keeps the connection alive
//     with pings, and ends with a termination reason that Wait and Serve
//     return.
//
// # Protocol
//
// Every frame the client sends is masked with a fresh key drawn from a
// ChaCha8 generator seeded from crypto/rand (pooled, so it costs no memory
// per connection). Incoming frames
// are checked strictly: masked server frames, reserved opcodes, RSV bits no
// extension claims, fragmented or oversized control frames, bad close
// payloads and text that is not UTF-8 (checked incrementally, failing at the
// first bad fragment) close the connection with 1002 or 1007 and return a
// *ProtocolError. A message over Dialer.MaxMessageSize closes with 1009
// (ErrMessageTooBig). Pings are answered automatically, also between the
// fragments of a message, and are shown to SetControlHandler.
//
// # Errors
//
// A refused or malformed upgrade returns a *HandshakeError with the status
// code, status text, headers and a bounded body. Failing to reach the server
// or to complete TLS returns a *DialError. A close frame from the server
// returns a *CloseError with its code and reason; a connection that ends
// without one returns an error matching ErrConnectionLost.
//
// # TLS
//
// wss:// URLs verify the server's certificate chain and host name against
// the system roots by default. Dialer.TLSConfig adjusts that;
// Dialer.InsecureSkipVerifyDangerously turns verification off and says so in
// the logs.
//
// # Delivery
//
// WebSocket has no acknowledgements. A message written to the socket can be
// lost if the connection dies before the server reads it; applications that
// need delivery guarantees must acknowledge at their own level.
package wsclient
