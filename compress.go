//go:build !js

package wsclient

import (
	"errors"
	"fmt"
	"io"

	"github.com/wsclient/wsclient/internal/deflate"
	"github.com/wsclient/wsclient/internal/protocol"
)

func (o *CompressionOptions) options() deflate.Options { return deflate.Options(*o) }

// offer returns the Sec-WebSocket-Extensions offer.
func (o *CompressionOptions) offer() (string, error) { return o.options().Offer() }

// negotiated is the agreed permessage-deflate configuration.
type negotiated struct {
	opts   deflate.Options
	params deflate.Params
}

// accept validates the server's Sec-WebSocket-Extensions answer; nil, nil
// means the server declined.
func (o *CompressionOptions) accept(values []string) (*negotiated, error) {
	p, ok, err := o.options().Accept(values)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	return &negotiated{opts: o.options(), params: p}, nil
}

// setCompression turns permessage-deflate on for the connection.
func (c *Conn) setCompression(n *negotiated) {
	c.proto.Reset(protocol.Config{MaxMessage: c.cfg.maxMessage, Deflate: true})
	c.deflater = &deflater{comp: deflate.NewCompressor(n.opts, n.params)}
	c.inflater = &inflater{d: deflate.NewDecompressor(n.params)}
	c.inflater.src.c = c
}

// deflater compresses outgoing messages; it is used under msgMu only.
type deflater struct {
	comp *deflate.Compressor
	buf  []byte
	w    *deflate.Writer
	sink emitSink
}

func (d *deflater) worth(n int) bool { return d.comp.ShouldCompress(n) }

// compress returns the compressed payload of one message, valid until the
// next call.
func (d *deflater) compress(p []byte) ([]byte, error) {
	out, err := d.comp.AppendCompress(d.buf[:0], p)
	if err != nil {
		return nil, fmt.Errorf("wsclient: compressing: %w", err)
	}
	d.buf = out
	return out, nil
}

// emitSink forwards compressed stream bytes to the message writer.
type emitSink struct{ emit func([]byte) error }

func (s *emitSink) Write(p []byte) (int, error) {
	if err := s.emit(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (d *deflater) beginStream(emit func([]byte) error) {
	d.sink.emit = emit
	d.w = d.comp.NewWriter(&d.sink)
}

func (d *deflater) streamWrite(p []byte) error {
	_, err := d.w.Write(p)
	return err
}

func (d *deflater) streamClose() error {
	err := d.w.Close()
	d.w = nil
	d.sink.emit = nil
	return err
}

// inflater decompresses incoming messages; it is used by the reader only.
type inflater struct {
	d   *deflate.Decompressor
	r   *deflate.Reader
	src rawSource
}

// rawSource reads the compressed payload of the current message's frames.
type rawSource struct{ c *Conn }

func (s *rawSource) Read(p []byte) (int, error) { return s.c.readRaw(p) }

func (i *inflater) begin(limit int64) {
	i.r = i.d.NewReader(&i.src, limit)
}

// read decompresses into p, mapping decompression errors to protocol
// errors that fail the connection.
func (i *inflater) read(c *Conn, p []byte) (int, error) {
	n, err := i.r.Read(p)
	if err == nil || err == io.EOF {
		return n, err
	}
	if c.rerr != nil {
		return n, c.rerr // the frame layer failed
	}
	if errors.Is(err, deflate.ErrTooBig) {
		return n, c.fail(protoErr(CloseMessageTooBig, ErrMessageTooBig, "decompressed message over the %d-byte limit", c.cfg.maxMessage))
	}
	return n, c.fail(protoErr(CloseProtocolError, ErrProtocol, "bad compressed data: %v", err))
}
