package wsclient

import (
	"crypto/tls"
	"net"
	"net/http"
	"strings"
)

// ConnInfo describes an established connection (the Erlang websocket_req
// accessors): Conn.Info returns it, and a Client hands it to OnConnect.
type ConnInfo struct {
	// URL is the URL dialled, the last hop of a followed redirect chain,
	// with any password redacted.
	URL string
	// Subprotocol and Extensions are what the server selected
	// (Sec-WebSocket-Protocol and Sec-WebSocket-Extensions), or "".
	Subprotocol string
	Extensions  string
	// Header is the server's handshake response header; do not modify it.
	Header http.Header
	// LocalAddr and RemoteAddr are the connection's addresses (over a
	// proxy, the proxy's).
	LocalAddr  net.Addr
	RemoteAddr net.Addr
	// HTTP2 reports a WebSocket over an HTTP/2 stream (RFC 8441).
	HTTP2 bool
	// TLS is the state of the TLS connection to the server (wss://), or
	// nil.
	TLS *tls.ConnectionState
}

// infoAs is Info with the URL as the caller gave it (asGiven, the URL it
// dialled) when the connection went there, with no redirect and no
// password to redact: the string the user wrote, not one rebuilt from its
// parts.
func (c *Conn) infoAs(asGiven string) ConnInfo {
	if !c.redirected && !strings.Contains(asGiven, "@") {
		return c.info(asGiven)
	}
	return c.Info()
}
