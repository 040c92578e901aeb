// Package wsclient is a WebSocket client (RFC 6455, with permessage-deflate
// from RFC 7692 and WebSockets over HTTP/2 from RFC 8441) in two forms that
// share one protocol core:
//
//   - Conn, a plain connection: Dial, then read and write messages from your
//     own goroutines. Writes are safe for concurrent use; reads come from one
//     goroutine at a time.
//   - Client, a long-lived, callback-driven client modelled on the Erlang
//     library websocket_client: an explicit state machine whose callbacks
//     never overlap, each happening-before the next, so handler state needs
//     no locks. It reconnects by policy, keeps the connection alive with
//     pings, accounts for every frame handed to it, and ends with a
//     termination reason that Wait and Serve return.
//
// A Conn: dial, write, read, close.
//
//	func hello(ctx context.Context) error {
//		c, err := wsclient.Dial(ctx, "wss://example.com/feed", nil)
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
//			&wsclient.Options{Keepalive: 10 * time.Second})
//		if err != nil {
//			return err
//		}
//		if err := c.Cast(wsclient.TextFrame("subscribe")); err != nil {
//			return err
//		}
//		return c.Wait() // until ctx ends or the client stops
//	}
//
// # One way to do each thing
//
// Every action has one spelling; configuration is a struct owned by the
// type it configures (a nil pointer means the defaults). What you want, and
// the API that does it:
//
//   - connect a plain connection: [Dial], configured by [Dialer] fields
//     (headers, TLS, proxies, limits, compression, HTTP/2)
//   - send a message on a Conn: [Conn.WriteMessage]; to stream one,
//     [Conn.NextWriter]; a burst in few system calls, [Conn.WriteBatch]
//   - receive a message on a Conn: [Conn.ReadMessage]; to stream it or read
//     into a buffer of your own, [Conn.NextReader]
//   - send or receive a typed value (JSON by default, or any Codec):
//     package wsvalue (Write, Read; ErrDecode for a message that does not
//     decode)
//   - use a Conn where a net.Conn is wanted (HTTP, TLS, RPC): [NetConn]
//   - ping and wait for the pong (a round trip): [Conn.Ping]
//   - see pings, pongs and closes as they arrive: [Conn.SetControlHandler]
//   - close a Conn with the close handshake: [Conn.Close]; drop it at once:
//     [Conn.CloseNow]
//   - describe a connection: [Conn.Info], [Client.Info] (a [ConnInfo])
//   - run a callback-driven client: [Start] (returns once Init has run), or
//     [New] and [Client.Serve] (for a supervisor), configured by [Options]
//   - send from a Client without waiting: [Client.Cast] (a ping or pong is a
//     [Frame] of that type); send and wait for the outcome: [Client.Send];
//     send as a callback's result: [Reply]
//   - send a typed value from a Client: wsvalue.Frame, then Cast, Send or
//     Reply; receive typed values: wsvalue.Handle
//   - bound the outbox by bytes and resume when it drains:
//     [Options].OutboxBytes and OutboxLowBytes, HandleInfo getting
//     [Drained]; waiting bytes and frames in [Stats]
//   - hand the handler a value from another goroutine: [Client.Post], which
//     runs HandleInfo
//   - close a Client's connection and let OnDisconnect decide what follows:
//     [Client.CloseConn]
//   - end a Client: from a callback, return [CloseAndStop]; from elsewhere,
//     [Client.Stop]; after a disconnect, OnDisconnect returns [StopWith]
//   - decide what follows a disconnect: [Stay], [ReconnectAfter] (with
//     [Disconnect].Backoff for the backoff delay), [StopWith]
//   - connect a client that is disconnected: [Client.Connect]
//   - wait for a Client's end and its reason: [Client.Wait]
//   - observe a Client: [Client.State], [Client.Stats]
//   - see inside a dial, a connection or a Client as it happens (DNS,
//     connect, proxy, TLS and upgrade; messages, pings, closes; states,
//     reconnects, outbox depth, frame fates): a [Trace] in [Dialer].Trace
//     or [Options].Trace (an httptrace.ClientTrace in the dial's context is
//     honoured too); OpenTelemetry and Prometheus: the otelwsclient module
//   - learn of frames that could not be delivered:
//     [UndeliveredHandler.OnUndelivered]
//   - tell the server's close, and its code, from other ends: errors.As with
//     a [*CloseError]
//
// # The Erlang library, in Go
//
//   - start_link(URL, Handler, Args, Opts): [Start](ctx, url, handler,
//     opts); or [New] and [Client.Serve]
//   - init/1 returning ok, once or reconnect: [Handler].Init returning
//     [StartDisconnected], [ConnectOnce] or [KeepReconnecting]
//   - onconnect/2 returning ok, {ok, State, KeepaliveMs}, reply or close:
//     OnConnect returning Action{}, [Keepalive](d), [Reply](frames...) or
//     [CloseAndStop](code, reason, err)
//   - ondisconnect/2 returning ok, reconnect, {reconnect, Ms} or {close,
//     Reason}: OnDisconnect returning [Stay](), [ReconnectAfter](0),
//     [ReconnectAfter](d) or ReconnectAfter(d.Backoff), [StopWith](err)
//   - websocket_handle/3 returning ok, reply or close: HandleFrame returning
//     Action{}, [Reply](frames...) or [CloseAndStop] (the client ends, as
//     the Erlang process does)
//   - websocket_info/3, fed by Pid ! Msg: HandleInfo, fed by [Client.Post]
//   - websocket_terminate/3: Terminate, exactly once, last, with the reason
//   - cast(Pid, Frame) and send(Pid, Frame): [Client.Cast] and [Client.Send]
//   - the websocket_req accessors: [ConnInfo] (URL, subprotocol,
//     extensions, response header, addresses, TLS state)
//   - {keepalive, Ms} and keepalive_max_attempts: [Options].Keepalive and
//     KeepaliveMissed, ending in [ErrKeepaliveTimeout]; the same bound limits
//     a handshake the server never answers
//   - {extra_headers, ...}, {ssl_verify, ...}, {socket_opts, ...}:
//     [Options].Dialer with [Dialer].Header, TLSConfig (verification on
//     unless InsecureSkipVerifyDangerously) and NetDialContext
//   - exit {error, {400, <<"Bad Request">>}}: a [*HandshakeError] with
//     StatusCode, Status, Header and Body
//   - {remote, Code, Reason} and {remote, closed}: a [*CloseError] with Code
//     and Reason; [ErrConnectionLost]
//   - the states disconnected, handshaking and connected: [Client.State]
//     reports [Disconnected], [Connecting], [Connected], [Closing],
//     [Stopping], [Terminated]
//   - a crash in a callback, and the supervisor's restart: the panic is
//     recovered, Terminate runs, [Client.Wait] and [Client.Serve] return a
//     [*PanicError]; a supervisor calls Serve again
//
// # Protocol
//
// Every frame the client sends is masked with a fresh key drawn from a
// ChaCha8 generator seeded from crypto/rand (pooled, so it costs no memory
// per connection). Incoming frames are checked strictly: masked server
// frames, reserved opcodes, RSV bits no extension claims, fragmented or
// oversized control frames, bad close payloads and text that is not UTF-8
// (checked incrementally, failing at the first bad fragment) close the
// connection with 1002 or 1007 and return a *ProtocolError. A message over
// Dialer.MaxMessageSize closes with 1009 (ErrMessageTooBig). Pings are
// answered automatically, also between the fragments of a message.
//
// # Errors
//
// Every message starts with "wsclient:"; every condition a caller may act
// on has a sentinel (errors.Is) or a type (errors.As). A refused or
// malformed upgrade returns a *HandshakeError with the status code, status
// text, headers, a bounded body and, for a redirect, its Location. Failing
// to reach the server or to complete TLS returns a *DialError (wrapping a
// *ProxyError when a proxy refused the CONNECT). A close frame from the
// server returns a *CloseError with its code and reason, also to a write
// (WriteMessage, Send) that failed because the server closed, such as with
// 1009 for a message over its limit; a connection that ends without a close
// frame returns an error matching ErrConnectionLost; a close the
// server never answers, ErrCloseTimeout. Misuse has its sentinels:
// ErrClosed, ErrBadFrame, ErrRunning, ErrNilHandler, ErrBadURL,
// ErrSendInCallback.
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
// lost if the connection dies before the server reads it. A Client accounts
// for every frame handed to it: each is written, or handed back (as the
// error of Cast or Send, or to OnUndelivered), never dropped in silence.
//
// Delivery confirmation (Options.Confirm) goes further: a server answers a
// ping only after reading everything sent before it, so a pong that answers
// a ping written after a frame proves that the server has read the frame.
// With confirmation on, written text and binary frames are kept until such
// a proof arrives; frames still unconfirmed when their connection ends go to
// OnUndelivered with ErrUnconfirmed (they may or may not have arrived), or,
// with Options.Redelivery, are sent again on the next connection
// (at-least-once; the server may see duplicates). Send then returns once its
// frame is confirmed. Stats reports Confirmed, Unconfirmed, Redelivered and
// PingRTT.
//
// A clean close confirms the frames written before it: the client writes a
// confirmation ping just before its close frame (Stop, CloseConn,
// CloseAndStop), and a server answers that ping before it answers the
// close. The server's close frame itself confirms nothing, even when it
// arrives after the client's close was written: a server that closed at the
// same moment sent its close before reading the client's last frames (and
// may drop them), and from the client that looks just like an answer. So
// frames are reported unconfirmed when the server closes first, or answers
// the close without answering the ping before it.
//
// The confirmation pings carry a 16-byte payload (a nonce of the client and
// a sequence); their pongs reach HandleFrame like any other. The server must
// answer a ping with a pong carrying the ping's payload, as RFC 6455 section
// 5.5.3 requires. A server that answers with another payload (lxzan/gws's
// default handler sends empty pongs) can confirm nothing: the client notices
// it when a confirmation ping is still unanswered a bound after it was
// written (Keepalive × KeepaliveMissed, or 2 s without keepalive) and a pong
// answering none of its pings came meanwhile. It then gives confirmation up
// on that connection: the frames kept are reported with an error matching
// ErrUnconfirmed that says why, a warning is logged, Stats counts the
// connection (PongMismatches) and each frame written on it afterwards
// (Unconfirmable), and the client works on without confirmation until the
// connection ends. A server that answers no ping at all is taken for one
// after 20 s without an answer (or Keepalive × KeepaliveMissed, if longer)
// and treated the same way, so that it does not stop the client's writes at
// the retention bound.
//
// # In the browser
//
// The package builds for GOOS=js GOARCH=wasm: Dial and Conn use the
// browser's WebSocket and the Client runs unchanged on them. What a browser
// forbids (request headers, cookie jars, TLS settings, proxies, compression
// options, HTTP/2, pings, most close codes) fails with an error naming it
// that matches errors.ErrUnsupported; docs/browser.md lists every
// difference, and examples/browser runs a Client in a page.
package wsclient
