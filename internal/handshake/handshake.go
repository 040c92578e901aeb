// Package handshake holds the client side of the RFC 6455 opening handshake
// without I/O: key generation, the request bytes, and validation of the
// server's response.
package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// NewKey returns a fresh Sec-WebSocket-Key: 16 random bytes, base64.
func NewKey() string {
	var k [KeyLen]byte
	PutKey(&k)
	return string(k[:])
}

// KeyLen is the length of a Sec-WebSocket-Key.
const KeyLen = 24

// PutKey writes a fresh Sec-WebSocket-Key into k, for a caller that keeps
// it on its stack. The 16 random bytes (RFC 6455 section 4.1: a nonce)
// come from the runtime's per-thread ChaCha8 generator behind math/rand/v2's
// top-level functions, seeded from the operating system's CSPRNG, as the
// masking keys do: unpredictable, with no system call per dial (a
// getrandom call here grew every new dialling goroutine's stack).
func PutKey(k *[KeyLen]byte) {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	base64.StdEncoding.Encode(k[:], b[:])
}

// Accept returns the Sec-WebSocket-Accept value that answers key.
func Accept(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(acceptGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// Request describes the client's opening handshake.
type Request struct {
	URL          *url.URL // ws or wss URL; user info is ignored here
	Key          string
	Origin       string
	Subprotocols []string
	Extensions   string      // Sec-WebSocket-Extensions offer, empty for none
	Header       http.Header // extra headers; may override Host and add others
}

// reserved request headers that the caller's Header may not set.
var reserved = map[string]bool{
	"Upgrade": true, "Connection": true, "Sec-Websocket-Key": true,
	"Sec-Websocket-Version": true, "Sec-Websocket-Extensions": true,
	"Sec-Websocket-Protocol": true,
}

// ErrReservedHeader is returned by Append when the extra headers try to set
// a header that the handshake itself controls.
var ErrReservedHeader = errors.New("handshake: extra headers may not set Upgrade, Connection, Sec-WebSocket-Key, -Version, -Protocol or -Extensions (use the options for subprotocols and compression)")

// ErrInvalidHeader is returned by Append for a header name or value that is
// not valid HTTP (a CR or LF in a value would smuggle in other headers).
var ErrInvalidHeader = errors.New("handshake: invalid header field")

// HostHeader returns the Host header value for u: host[:port], with the port
// left out when it is the scheme's default.
func HostHeader(u *url.URL) string {
	host := u.Host
	port := u.Port()
	if (port == "80" && u.Scheme == "ws") || (port == "443" && u.Scheme == "wss") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return host
}

// Append appends the HTTP/1.1 request bytes to dst.
func (r *Request) Append(dst []byte) ([]byte, error) {
	for k, vs := range r.Header {
		if reserved[http.CanonicalHeaderKey(k)] {
			return dst, fmt.Errorf("%w: %s", ErrReservedHeader, k)
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return dst, fmt.Errorf("%w: name %q", ErrInvalidHeader, k)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return dst, fmt.Errorf("%w: %s value %q", ErrInvalidHeader, k, v)
			}
		}
	}
	if h := r.Header.Get("Host"); h != "" && !httpguts.ValidHostHeader(h) {
		return dst, fmt.Errorf("%w: Host %q", ErrInvalidHeader, h)
	}
	// (Each value checked in place, and copied for an error: the
	// Request's strings may stay on the caller's stack.)
	for i := -2; i < len(r.Subprotocols); i++ {
		var v string
		switch i {
		case -2:
			v = r.Origin
		case -1:
			v = r.Extensions
		default:
			v = r.Subprotocols[i]
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			return dst, fmt.Errorf("%w: value %q", ErrInvalidHeader, strings.Clone(v))
		}
	}
	target := r.URL.RequestURI()
	dst = append(dst, "GET "...)
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	if h := r.Header.Get("Host"); h != "" {
		dst = append(dst, h...)
	} else {
		dst = append(dst, HostHeader(r.URL)...)
	}
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "...)
	dst = append(dst, r.Key...)
	dst = append(dst, "\r\n"...)
	if r.Origin != "" {
		dst = appendHeader(dst, "Origin", r.Origin)
	}
	if len(r.Subprotocols) > 0 {
		dst = appendHeader(dst, "Sec-WebSocket-Protocol", strings.Join(r.Subprotocols, ", "))
	}
	if r.Extensions != "" {
		dst = appendHeader(dst, "Sec-WebSocket-Extensions", r.Extensions)
	}
	for k, vs := range r.Header {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Host" || (ck == "Origin" && r.Origin != "") {
			continue
		}
		for _, v := range vs {
			dst = appendHeader(dst, k, v)
		}
	}
	return append(dst, "\r\n"...), nil
}

func appendHeader(dst []byte, k, v string) []byte {
	dst = append(dst, k...)
	dst = append(dst, ": "...)
	dst = append(dst, v...)
	return append(dst, "\r\n"...)
}

// Result is what a valid 101 response negotiated.
type Result struct {
	Subprotocol string
	Extensions  []string // raw Sec-WebSocket-Extensions values
}

// Failure is a handshake response that does not complete the upgrade. Reason
// says why in words.
type Failure struct {
	StatusCode int
	Reason     string
}

// Error describes the Failure.
func (f *Failure) Error() string {
	return fmt.Sprintf("handshake: %s (status %d)", f.Reason, f.StatusCode)
}

// Check validates the server's response to a request with the given key and
// offered subprotocols. allowExtensions says whether the client offered any
// extension; the caller validates the extension parameters themselves. It
// allocates only for the error and the extensions it returns.
func Check(resp *Response, key string, subprotocols []string, allowExtensions bool) (Result, error) {
	var res Result
	fail := func(format string, a ...any) (Result, error) {
		return res, &Failure{StatusCode: resp.StatusCode, Reason: fmt.Sprintf(format, a...)}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// (A copy: a Response kept on the caller's stack stays there.)
		return fail("server refused the upgrade: %s", strings.Clone(resp.Status))
	}
	if !resp.hasToken("Upgrade", "websocket") {
		return fail("response Upgrade header is %q, want websocket", resp.Get("Upgrade"))
	}
	if !resp.hasToken("Connection", "upgrade") {
		return fail("response Connection header %q lacks the upgrade token", resp.Get("Connection"))
	}
	if resp.count("Sec-Websocket-Accept") != 1 || !acceptMatches(resp.Get("Sec-Websocket-Accept"), key) {
		return fail("Sec-WebSocket-Accept %q does not match the key", strings.Join(resp.Values("Sec-Websocket-Accept"), ", "))
	}
	switch resp.count("Sec-Websocket-Protocol") {
	case 0:
	case 1:
		p := strings.TrimSpace(resp.Get("Sec-Websocket-Protocol"))
		ok := false
		for _, o := range subprotocols {
			if o == p {
				ok = true
			}
		}
		if !ok {
			return fail("server chose subprotocol %q, which was not offered", p)
		}
		res.Subprotocol = p
	default:
		return fail("more than one Sec-WebSocket-Protocol in the response")
	}
	if resp.count("Sec-Websocket-Extensions") > 0 {
		exts := resp.Values("Sec-Websocket-Extensions")
		if !allowExtensions {
			return fail("server answered extensions %q, none were offered", strings.Join(exts, ", "))
		}
		res.Extensions = exts
	}
	return res, nil
}
