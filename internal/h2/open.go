package h2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// OpenStream sends the extended CONNECT req (its ":protocol" header is
// sent as the pseudo-header; the body is the stream) on the stream
// reserved by Acquire, and returns the stream with the server's response
// head. The response's body is the Stream's Read side. ctx bounds the wait
// for the response; it does not affect the stream afterwards. On failure
// the reservation is given back.
func (c *Conn) OpenStream(ctx context.Context, req *http.Request) (*Stream, *http.Response, error) {
	s := &Stream{
		c:        c,
		release:  c.release,
		wsem:     make(chan struct{}, 1),
		readable: make(chan struct{}, 1),
		writable: make(chan struct{}, 1),
	}
	err := c.sendHeaders(s, req)
	var resp *http.Response
	if err == nil {
		resp, err = s.awaitResponse(ctx)
	}
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, resp, nil
}

// hopByHop are the headers HTTP/2 forbids (RFC 9113 section 8.2.2).
var hopByHop = map[string]bool{"connection": true, "proxy-connection": true, "keep-alive": true, "transfer-encoding": true, "upgrade": true, "host": true, "te": true}

// sendHeaders gives s its stream ID and sends the request's HEADERS (and
// CONTINUATIONs); IDs go out in order, so both happen under the write lock.
func (c *Conn) sendHeaders(s *Stream, req *http.Request) error {
	c.wmu.Lock()
	defer c.unlockW()
	if c.werr != nil {
		return c.werr
	}
	c.hbuf.Reset()
	if err := c.encodeHeaders(req); err != nil {
		return err
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	if c.goAway {
		// Reserved before the server's GOAWAY: a stream sent now would
		// be above its last stream ID, ignored, and wait for nothing.
		c.mu.Unlock()
		return ErrGoAway
	}
	s.id = c.nextID
	c.nextID += 2
	c.reserved--
	c.streams[s.id] = s
	s.sendWindow = c.initWindow
	maxFrame := c.maxFrame
	c.mu.Unlock()

	hdrs := c.hbuf.Bytes()
	for first := true; first || len(hdrs) > 0; first = false {
		chunk := hdrs[:min(len(hdrs), maxFrame)]
		hdrs = hdrs[len(chunk):]
		var err error
		if first {
			err = c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: s.id, BlockFragment: chunk, EndHeaders: len(hdrs) == 0})
		} else {
			err = c.fr.WriteContinuation(s.id, len(hdrs) == 0, chunk)
		}
		if err != nil {
			c.werr = fmt.Errorf("wsclient: HTTP/2 connection: %w", err)
			c.nc.Close()
			return c.werr
		}
	}
	return nil
}

// encodeHeaders HPACK-encodes req's head into c.hbuf.
func (c *Conn) encodeHeaders(req *http.Request) error {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	enc := func(k, v string) { c.henc.WriteField(hpack.HeaderField{Name: k, Value: v}) }
	enc(":method", req.Method)
	if p := req.Header.Get(":protocol"); p != "" {
		enc(":protocol", p)
	}
	enc(":scheme", req.URL.Scheme)
	enc(":authority", host)
	enc(":path", req.URL.RequestURI())
	for k, vv := range req.Header {
		if strings.HasPrefix(k, ":") {
			continue
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("wsclient: invalid HTTP/2 header name %q", k)
		}
		lk := strings.ToLower(k)
		if hopByHop[lk] {
			continue
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("wsclient: invalid HTTP/2 header value for %q", k)
			}
			enc(lk, v)
		}
	}
	return nil
}

// ErrGoAway reports a stream the server will not process: it sent GOAWAY
// before the stream's CONNECT reached it, or with a last stream ID below
// the stream's. The request had no effect and may be retried on another
// connection.
var ErrGoAway = errors.New("wsclient: HTTP/2 server sent GOAWAY; the stream was not processed")

// errNoResponse: the server ended the stream without answering.
var errNoResponse = errors.New("wsclient: HTTP/2 stream ended without a response")

// awaitResponse waits for the server's answer to the CONNECT.
func (s *Stream) awaitResponse(ctx context.Context) (*http.Response, error) {
	c := s.c
	for {
		c.mu.Lock()
		resp, err := s.resp, s.rerr
		c.mu.Unlock()
		if resp != nil {
			return resp, nil
		}
		if err == io.EOF {
			return nil, errNoResponse
		}
		if err != nil {
			return nil, err
		}
		select {
		case <-s.readable:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
