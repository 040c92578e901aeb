// Package h2 is the HTTP/2 byte stream under a wsclient Conn: WebSockets
// over HTTP/2 (RFC 8441), one extended CONNECT stream per WebSocket on
// connections shared by the WebSockets one Dialer opens to one origin.
//
// What it gives the Conn is a Stream: a net.Conn whose Read returns the
// server's DATA and whose Write sends the client's, with deadlines that
// interrupt a blocked Read or Write without harming the stream (as on a TCP
// socket), CloseWrite (END_STREAM) and Close (END_STREAM after a complete
// close handshake, RST_STREAM otherwise). The Conn frames WebSocket
// messages over it exactly as over a socket.
//
// The Dialer keeps one Pool: Acquire finds a connection with room for one
// more stream (or sets one up with the dial function the Dialer gives:
// TCP, proxy, TLS with ALPN, then NewConn for the HTTP/2 preface and the
// server's first SETTINGS), and OpenStream sends the CONNECT. A connection
// closes when its last stream ends. The package knows nothing of the
// Dialer or the Conn: building the request and validating the answer are
// the Dialer's (package handshake checks it).
//
// The HTTP/2 framing is golang.org/x/net/http2's client connection
// (Transport.NewClientConn): net/http's Transport and ClientConn refuse the
// :protocol pseudo-header that RFC 8441 needs.
package h2
