// Package interop holds wsclient's interoperability suite: tests that drive
// wsclient's Conn and Dialer against real WebSocket servers and proxies that
// no one on the project wrote, all started on 127.0.0.1 by
// internal/test/peertest.
//
// Peers:
//   - the npm package ws (Node.js), with and without perMessageDeflate, with
//     several window sizes and context-takeover settings;
//   - Python websockets (Debian python3-websockets), compression on by
//     default;
//   - tinyproxy (HTTP CONNECT, with and without Basic proxy
//     authentication) and microsocks (SOCKS5, with and without
//     username/password) in front of the ws server;
//   - nginx terminating TLS in front of the ws server (wss://).
//
// What is checked, for both WebSocket servers: echo of text and binary
// messages of 0, 1, 125, 126, 65535, 65536 bytes and 1 MiB, byte for byte;
// streamed (fragmented) writes reassembled by the server; pings answered by
// the server and seen by the control handler, and the server's pings
// answered by wsclient; close codes and reasons in both directions;
// subprotocol negotiation; request headers as the server received them;
// the size limit (close 1009); and permessage-deflate: that it is
// negotiated with the expected parameters, that messages echo correctly,
// and, by counting the bytes on the wire, that both sides really compress.
//
// The callback Client is driven through its public API only
// (client_test.go): Cast and Send keep their order, deflate is negotiated
// and compresses, keepalive pings are answered and a dead path ends in
// ErrKeepaliveTimeout, and a KeepReconnecting client reconnects across a
// real server restart (behind a small TCP relay that keeps the address),
// delivering the frames cast while the server was down.
//
// The package has no code of its own, only tests. They skip when a peer is
// not installed, unless WSCLIENT_REQUIRE_PEERS=1 is set (as in CI), which
// turns a missing peer into a failure. Run them with
//
//	WSCLIENT_REQUIRE_PEERS=1 go test -race ./interop/
package interop
