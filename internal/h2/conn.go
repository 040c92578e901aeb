//lint:file-ignore SA1019 golang.org/x/net/http2's client is deprecated in favour of net/http, whose Transport and ClientConn refuse the :protocol pseudo-header that RFC 8441 needs (see doc.go).

package h2

import (
	"context"
	"errors"
	"net"
	"net/http"

	"golang.org/x/net/http2"
)

// Conn is one HTTP/2 connection of a Pool.
type Conn struct {
	pool       *Pool
	key        Key
	cc         *http2.ClientConn
	nc         net.Conn
	maxStreams uint32 // the server's first SETTINGS_MAX_CONCURRENT_STREAMS, 0 if absent
	users      int    // WebSockets open or being opened on it; guarded by pool.mu
	closed     bool   // guarded by pool.mu
}

// ErrNoSettings reports a server whose first frame was not a SETTINGS
// frame: it does not speak HTTP/2.
var ErrNoSettings = errors.New("no HTTP/2 SETTINGS from the server")

// ErrNoExtendedConnect reports a server whose SETTINGS do not enable
// extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 section 3).
var ErrNoExtendedConnect = errors.New("the server does not send SETTINGS_ENABLE_CONNECT_PROTOCOL")

// NewConn starts HTTP/2 on nc (after TLS with ALPN h2, or from the first
// byte for prior-knowledge h2c): the client preface, and the server's first
// SETTINGS, which must enable extended CONNECT. maxHeaderBytes bounds the
// response headers. On failure nc is closed and the error is ErrNoSettings,
// ErrNoExtendedConnect, ctx's error or an I/O error.
func NewConn(ctx context.Context, nc net.Conn, maxHeaderBytes int) (*Conn, error) {
	tr := &http2.Transport{
		DisableCompression: true, // no Accept-Encoding on the CONNECT
		MaxHeaderListSize:  uint32(maxHeaderBytes),
	}
	sn := newSettingsSniffer(nc)
	cc, err := tr.NewClientConn(sn)
	if err != nil {
		nc.Close()
		return nil, err
	}
	select {
	case <-sn.done:
	case <-ctx.Done():
		cc.Close()
		return nil, ctx.Err()
	}
	if !sn.first.valid {
		cc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ErrNoSettings
	}
	if !sn.first.enableConnect {
		cc.Close()
		return nil, ErrNoExtendedConnect
	}
	// x/net applies the server's SETTINGS on its read loop, after the
	// sniffer saw them go by; until then it assumes 100 streams, and dials
	// waiting for this connection would open another. The server sends its
	// SETTINGS before it acknowledges a PING, so once the PING's answer is
	// in, the stream limit is the server's.
	if err := cc.Ping(ctx); err != nil {
		cc.Close()
		return nil, err
	}
	return &Conn{cc: cc, nc: nc, maxStreams: sn.first.maxStreams}, nil
}

// MaxStreams is the stream limit of the server's first SETTINGS; 0 if it
// set none.
func (c *Conn) MaxStreams() uint32 { return c.maxStreams }

// reserve reserves a stream for a request about to be sent.
func (c *Conn) reserve() bool { return c.cc.ReserveNewRequest() }

// shutdown ends the connection: GOAWAY, then close.
func (c *Conn) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), streamCloseWait)
	c.cc.Shutdown(ctx)
	cancel()
	c.cc.Close()
}

// OpenStream sends the extended CONNECT req on the stream reserved by
// Acquire and returns the stream with the server's response (whose body is
// the stream's Read side: use the Stream, not resp.Body). ctx bounds the
// wait for the response; it does not affect the stream afterwards. On
// failure the reservation is given back.
func (c *Conn) OpenStream(ctx context.Context, req *http.Request) (*Stream, *http.Response, error) {
	s := newStream(c.nc.LocalAddr(), c.nc.RemoteAddr())
	s.release = c.release
	streamCtx, reset := context.WithCancel(context.Background())
	s.reset = reset
	req.Body = bodyReader{s}
	req = req.WithContext(streamCtx)

	stop := context.AfterFunc(ctx, reset)
	resp, err := c.cc.RoundTrip(req)
	if !stop() {
		err = ctx.Err()
		if resp != nil {
			resp.Body.Close()
		}
	}
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	s.start(resp.Body)
	return s, resp, nil
}
