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
// A Conn: dial, write, read, close.
//
//	func hello(ctx context.Context) error {
//		c, err := wsclient.Dial(ctx, "wss://example.com/feed")
//		if err != nil {
//			return err // a *HandshakeError, a *DialError, ...
//		}
//		defer c.CloseNow()
//		if err := c.WriteMessage(ctx, wsclient.TextMessage, []byte("hello")); err != nil {
//			return err
//		}
//		_, msg, err := c.ReadMessage(ctx)
//		if err != nil {
//			return err
//		}
//		fmt.Printf("%s\n", msg)
//		return c.Close(wsclient.CloseNormalClosure, "bye")
//	}
//
// A Client: a handler with the callbacks it needs (BaseHandler supplies the
// others), started with options; it reconnects and pings on its own.
//
//	type printer struct{ wsclient.BaseHandler }
//
//	func (printer) Init(*wsclient.Client) (wsclient.InitMode, error) {
//		return wsclient.KeepReconnecting, nil
//	}
//
//	func (printer) HandleFrame(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
//		fmt.Printf("%s\n", f.Data)
//		return wsclient.Action{}
//	}
//
//	func feed(ctx context.Context) error {
//		c, err := wsclient.Start(ctx, "wss://example.com/feed", printer{},
//			wsclient.WithKeepalive(10*time.Second, 3))
//		if err != nil {
//			return err
//		}
//		if err := c.Cast(wsclient.TextFrame("subscribe")); err != nil {
//			return err
//		}
//		return c.Wait() // until ctx ends or the client stops
//	}
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
// Every message starts with "wsclient:"; every condition a caller may act
// on has a sentinel (errors.Is) or a type (errors.As). A refused or
// malformed upgrade returns a *HandshakeError with the status code, status
// text, headers, a bounded body and, for a redirect, its Location. Failing
// to reach the server or to complete TLS returns a *DialError (wrapping a
// *ProxyError when a proxy refused the CONNECT). A close frame
// from the server returns a *CloseError with its code and reason
// (CloseStatus extracts the code); a connection that ends without one
// returns an error matching ErrConnectionLost; a close the server never
// answers, ErrCloseTimeout. Misuse has its sentinels: ErrClosed,
// ErrInvalidCloseCode, ErrBadFrameType, ErrControlTooLong.
//
// # TLS
//
// wss:// URLs verify the server's certificate chain and host name against
// the system roots by default. Dialer.TLSConfig adjusts that;
// Dialer.InsecureSkipVerifyDangerously turns verification off and says so in
// the logs. An https:// proxy is a separate TLS hop with its own settings,
// Dialer.ProxyTLSConfig, verified by default in the same way.
//
// # Redirects
//
// A redirect in answer to the upgrade is a *HandshakeError with Location;
// Dialer.FollowRedirects follows it (off by default; see there why), never
// from wss:// to ws://, and without credentials once the chain has left the
// first host and port. Dialer.OnRedirect sees (and may veto) each hop.
//
// # Delivery
//
// WebSocket has no acknowledgements. A message written to the socket can be
// lost if the connection dies before the server reads it; applications that
// need delivery guarantees must acknowledge at their own level.
package wsclient
