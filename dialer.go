package wsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// The Dialer's options and the errors of a dial, shared by the native
// dialer (dial.go) and the browser's (dial_js.go).

// Dialer holds the options for connecting to a WebSocket server. The zero
// value is usable: TLS verification on, proxies from the environment, safe
// limits. A Dialer is safe for concurrent use once configured; do not
// change its fields after its first use. A Dialer may be copied (by value)
// to make a variant of it, before or after its first use: the copy shares
// none of the original's HTTP/2 connections (see HTTP2).
type Dialer struct {
	// Header holds extra request headers (Authorization, Cookie, User-Agent,
	// Host ...). The handshake's own headers (Upgrade, Connection,
	// Sec-WebSocket-*) may not be set here.
	Header http.Header

	// Origin, if set, is sent as the Origin header.
	Origin string

	// Subprotocols are offered in Sec-WebSocket-Protocol, in order of
	// preference. The server's choice is ConnInfo.Subprotocol.
	Subprotocols []string

	// TLSConfig configures wss:// connections. Nil means the system roots,
	// full certificate and host-name verification, and SNI from the URL.
	// ServerName is filled from the URL when empty. It applies to the
	// server only, never to an https:// proxy (see ProxyTLSConfig).
	TLSConfig *tls.Config

	// InsecureSkipVerifyDangerously turns off verification of the server's
	// certificate chain and host name for wss:// URLs. Anyone on the path can
	// then read and change the traffic. It exists for local experiments; a
	// warning is logged on every dial that uses it (to Logger, or to slog's
	// default logger when Logger is nil), as it is for a TLSConfig with
	// InsecureSkipVerify set.
	InsecureSkipVerifyDangerously bool

	// NetDialContext dials the TCP (or other stream) connection; nil means a
	// net.Dialer. Use it for socket options, Unix sockets or test networks.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy returns the proxy for a request: http://, https:// (CONNECT) or
	// socks5:// URLs, with optional user:password. Nil means
	// http.ProxyFromEnvironment (which never proxies localhost); use
	// NoProxy to dial directly.
	Proxy func(*http.Request) (*url.URL, error)

	// ProxyTLSConfig configures the TLS connection to an https:// proxy,
	// which is separate from the server's (TLSConfig and
	// InsecureSkipVerifyDangerously never apply to the proxy). Nil means the
	// system roots, full certificate and host-name verification, and SNI
	// from the proxy URL. A config with InsecureSkipVerify set logs a
	// warning on every dial through the proxy, as for the server.
	ProxyTLSConfig *tls.Config

	// Jar, if set, supplies cookies for the handshake request and stores the
	// ones the server sets in its response (also in a redirect).
	Jar http.CookieJar

	// FollowRedirects makes Dial follow a redirect (301, 302, 303, 307 or
	// 308 with a Location) in answer to the upgrade request, up to
	// MaxRedirects times, like python-websockets. Each hop is a new
	// connection with a new handshake, all within HandshakeTimeout. A
	// redirect from wss:// to ws:// is never followed (ErrInsecureRedirect).
	// From the first hop whose host or port differs from the original
	// URL's on (ports compared with the defaults filled in: ws://h and
	// ws://h:80 are one host, ws://h and wss://h are not), requests carry
	// no Authorization, Cookie or Host header from Header and no
	// user:password from the original URL, even if a later redirect leads
	// back to the original host: another port can be another service with
	// another owner. Jar cookies follow the jar's rules for each URL.
	// Other headers in Header go to every hop.
	//
	// It is off by default, and a redirect is then a *HandshakeError whose
	// Location says where the server points: a WebSocket URL names one
	// endpoint, and a redirect there is more often a misconfiguration (a
	// login page, an http-to-https rule on a load balancer) than a move
	// worth following silently; a Client would repeat the detour on every
	// reconnect without its owner ever seeing it; and following a redirect
	// hands the connection, and possibly headers, to a URL the caller never
	// chose.
	FollowRedirects bool

	// OnRedirect, if set, is called before each redirect Dial follows
	// (FollowRedirects on), on the dialing goroutine, once the redirect has
	// passed the rules above. Use it to report redirects (the wsclient
	// command prints one line per hop) or to restrict where they may go: an
	// error it returns stops the chain, and Dial returns that redirect's
	// *HandshakeError with Err set to the error. A Client calls it on every
	// connection attempt that meets a redirect.
	OnRedirect func(Redirect) error

	// MaxRedirects bounds the redirects followed when FollowRedirects is
	// on; one more is a *HandshakeError matching ErrTooManyRedirects. Zero
	// means 10.
	MaxRedirects int

	// HandshakeTimeout bounds dialing, the TLS handshake and the HTTP upgrade
	// together (every hop of a followed redirect included). It is also what
	// bounds a response that trickles in: MaxResponseHeaderBytes limits its
	// size, HandshakeTimeout its duration, so a 101 whose headers never end
	// fails when it expires. Zero means 30 seconds.
	HandshakeTimeout time.Duration

	// MaxResponseHeaderBytes bounds the handshake response header. Zero
	// means 64 KiB. A header that trickles in and never ends within this
	// size is bounded by HandshakeTimeout (or ctx) alone.
	MaxResponseHeaderBytes int

	// MaxMessageSize bounds the size of a received message (after
	// decompression). A larger message closes the connection with 1009 and
	// ErrMessageTooBig. The frame headers of a message count too: more than
	// an eighth of the limit (at least 1 KiB) of them, such as endless empty
	// fragments, also closes with 1009. Zero means 32 MiB; negative means no
	// limit.
	MaxMessageSize int64

	// ReadBufferSize and WriteBufferSize size the connection's buffers. Zero
	// means 4 KiB each. The write buffer is only allocated on first write.
	ReadBufferSize, WriteBufferSize int

	// FragmentSize is the frame payload size used by writers from
	// NextWriter. Zero means 4 KiB.
	FragmentSize int

	// CloseTimeout bounds each wait in the close handshake, and the write
	// of an automatic pong. Zero means 5 seconds.
	CloseTimeout time.Duration

	// Compression, if set, offers permessage-deflate (RFC 7692).
	Compression *CompressionOptions

	// HTTP2 chooses whether WebSockets are opened over HTTP/2 (RFC 8441):
	// HTTP2Off (the default), HTTP2Auto or HTTP2Only. Over HTTP/2 the
	// WebSockets this Dialer opens to one origin are streams of one shared
	// connection (more once the server's stream limit is reached), closed
	// when the last of them ends.
	HTTP2 HTTP2Mode

	// Logger receives debug and warning logs. Nil means silent.
	Logger *slog.Logger

	// Trace, when set, reports the phases of each dial and what the
	// connections made by this Dialer do (see Trace).
	Trace *Trace

	h2 atomic.Value // *h2State: the HTTP/2 connections (dial_h2.go)
}

// defaultDialer is the Dialer of a nil *Dialer: a zero Dialer, never
// modified.
var defaultDialer = &Dialer{}

// NoProxy is a Dialer.Proxy function that never uses a proxy.
func NoProxy(*http.Request) (*url.URL, error) { return nil, nil }

const (
	defaultHandshakeTimeout = 30 * time.Second
	defaultMaxHeader        = 64 << 10
	defaultMaxMessage       = 32 << 20
	defaultCloseTimeout     = 5 * time.Second
	defaultMaxRedirects     = 10
)

// DialError wraps a failure to reach the server (DNS, TCP, proxy) or to
// complete TLS. errors.As a *tls.CertificateVerificationError to tell a
// certificate problem apart.
type DialError struct {
	Op  string // "dial", "proxy", "tls", or "handshake" (timeout or I/O error during the upgrade)
	Err error
}

// Error describes the DialError. The operation is named once: an
// underlying error that already starts with it ("dial tcp ...",
// "tls: ...") is not prefixed again.
func (e *DialError) Error() string {
	if e.Err == nil {
		return "wsclient: " + e.Op + " failed"
	}
	msg := e.Err.Error()
	if strings.HasPrefix(msg, "wsclient: ") {
		return msg
	}
	if strings.HasPrefix(msg, e.Op+" ") || strings.HasPrefix(msg, e.Op+": ") {
		return "wsclient: " + msg
	}
	return "wsclient: " + e.Op + ": " + msg
}

// ProxyError is an HTTP proxy's refusal of the CONNECT request, such as
// 407 Proxy Authentication Required (wrong or missing user:password in the
// proxy URL), 403 Forbidden or 502 Bad Gateway. Dial returns it wrapped in
// a *DialError with Op "proxy"; use errors.As.
type ProxyError struct {
	StatusCode int
	Status     string      // such as "407 Proxy Authentication Required"
	Header     http.Header // the proxy's response header (Proxy-Authenticate, ...)
}

// Error describes the ProxyError.
func (e *ProxyError) Error() string { return "wsclient: proxy refused CONNECT: " + e.Status }

// Unwrap returns the underlying error.
func (e *DialError) Unwrap() error { return e.Err }

// Dialer.OnRedirect). The URLs never carry user:password.
type Redirect struct {
	StatusCode int    // 301, 302, 303, 307 or 308
	From       string // the URL that answered with the redirect
	URL        string // the ws:// or wss:// URL about to be dialed
	N          int    // 1 for the first redirect of the chain

	// CredentialsDropped reports that the next request carries none of the
	// original host's credentials (see FollowRedirects): this redirect, or
	// an earlier one, went to another host or port.
	CredentialsDropped bool
}

// HTTP2Mode chooses whether a Dialer opens WebSockets over HTTP/2 (RFC 8441:
// an extended CONNECT request with :protocol websocket, one HTTP/2 stream
// per WebSocket) or with the HTTP/1.1 Upgrade (one TCP connection per
// WebSocket).
type HTTP2Mode uint8

const (
	// HTTP2Off uses the HTTP/1.1 Upgrade only. It is the default.
	HTTP2Off HTTP2Mode = iota
	// HTTP2Auto uses HTTP/2 where the server offers it and HTTP/1.1
	// otherwise. For wss:// URLs TLS offers ALPN h2 and http/1.1; when the
	// server picks h2 and its first SETTINGS frame enables extended CONNECT
	// (SETTINGS_ENABLE_CONNECT_PROTOCOL), the WebSocket is a stream on a
	// shared HTTP/2 connection. Otherwise the Dialer connects again with
	// HTTP/1.1 and remembers, for a few minutes, to use HTTP/1.1 for that
	// origin straight away. ws:// URLs use HTTP/1.1: without TLS there is
	// no way to learn whether the server speaks HTTP/2 (see HTTP2Only).
	HTTP2Auto
	// HTTP2Only requires HTTP/2: for wss:// URLs the server must pick ALPN
	// h2 (http/1.1 is offered too, so that a server without h2 answers
	// rather than aborting TLS), and for ws:// URLs the Dialer speaks
	// HTTP/2 without TLS from the first byte ("prior knowledge" h2c). A
	// server that does not offer WebSockets over HTTP/2 (TLS did not
	// negotiate h2, or its SETTINGS did not enable extended CONNECT, RFC
	// 8441 section 3) fails the dial with a *DialError matching
	// errors.ErrUnsupported.
	HTTP2Only
)

// errHTTP2Unsupported reports a server that does not offer WebSockets over
// HTTP/2 to a Dialer with HTTP2Only (see HTTP2Only).
var errHTTP2Unsupported = fmt.Errorf("wsclient: server does not offer WebSockets over HTTP/2 (RFC 8441): %w", errors.ErrUnsupported)

// CompressionOptions configures permessage-deflate (RFC 7692). Set
// Dialer.Compression to offer it; a server that declines leaves the
// connection uncompressed, and Conn.Info().Extensions tells what was agreed.
//
// What is offered: by default "permessage-deflate; client_max_window_bits",
// telling the server it may ask the client for any window from 8 to 15
// bits. The client honours every such request: for a window below 15 bits
// it compresses with a window-limited encoder whose back-references never
// reach further than the window (klauspost/compress's NewWriterWindow), so
// the ratio stays close to a full window's. Incoming messages are
// decompressed with a full 32 KiB window, which reads any smaller one.
//
// Decompressed messages are bounded by Dialer.MaxMessageSize: a
// decompression bomb ends with close 1009 after little memory.
type CompressionOptions struct {
	// ClientNoContextTakeover offers client_no_context_takeover: the client
	// resets its compressor after every message (no compressor memory kept
	// between messages; worse ratio). Honoured even if the server's answer
	// leaves it out.
	ClientNoContextTakeover bool
	// ServerNoContextTakeover offers server_no_context_takeover: the server
	// resets its compressor after every message, so the client keeps no
	// dictionary between messages. A server that accepts must echo it.
	ServerNoContextTakeover bool
	// ClientMaxWindowBits: 0 offers client_max_window_bits without a value;
	// 8..15 offers it with that value; -1 leaves it out (the server may then
	// not ask for a smaller client window).
	ClientMaxWindowBits int
	// ServerMaxWindowBits: 0 does not offer server_max_window_bits; 8..15
	// asks the server to use at most that window.
	ServerMaxWindowBits int
	// Level is the compression level: 0 means 1 (fastest); 1..9; -1 the
	// library default; -2 Huffman-only.
	Level int
	// Threshold: messages shorter than this many bytes are sent
	// uncompressed. 0 means 128; negative compresses every message.
	// Messages written with NextWriter are always compressed.
	Threshold int
}

// closeTimeout is CloseTimeout, or its default: how long the server may
// take to answer a close frame.
func (d *Dialer) closeTimeout() time.Duration {
	if d.CloseTimeout > 0 {
		return d.CloseTimeout
	}
	return defaultCloseTimeout
}

// Dial connects to a ws:// or wss:// URL (http:// and https:// are taken
// as their WebSocket equivalents) and performs the opening handshake, with
// the options of d; nil means a zero Dialer. ctx bounds the whole
// connection set-up (with Dialer.HandshakeTimeout); it does not affect the
// connection once Dial has returned.
//
// A refused or invalid upgrade returns a *HandshakeError (with Location
// for a redirect; see Dialer.FollowRedirects); a failure to reach the
// server or to complete TLS returns a *DialError.
//
// In the browser (GOOS=js) the browser's WebSocket does the handshake: a
// Dialer option it cannot honour (Header, Origin, TLS settings,
// NetDialContext, Proxy, Jar, FollowRedirects, Compression, HTTP2, a URL
// with user:password) fails the dial with an error naming it that matches
// errors.ErrUnsupported, and a refused handshake, like any failure to
// connect, is a *DialError with Op "handshake": the browser does not tell
// the page why.
func Dial(ctx context.Context, rawURL string, d *Dialer) (*Conn, error) {
	if d == nil {
		d = defaultDialer
	}
	u, addr, auth, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return d.dial(ctx, &dialTarget{raw: rawURL, u: u, addr: addr, auth: auth}, nil)
}
