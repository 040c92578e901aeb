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
// The client side of HTTP/2 is this package's own (Conn, Stream), built on
// golang.org/x/net/http2's Framer and HPACK codec. It does only what
// extended CONNECT streams need — no request bodies of known length, no
// trailers, no push, no priorities — and in exchange a WebSocket over
// HTTP/2 costs no more than one over HTTP/1.1: one read loop goroutine per
// connection, none per stream, and no buffer per stream while it is idle.
// x/net's own client connection (Transport.NewClientConn) keeps a
// goroutine per request and reads the request body through a 16 KiB
// buffer held for the stream's whole life; net/http's Transport and
// ClientConn refuse the :protocol pseudo-header that RFC 8441 needs.
package h2
