package wsclient

import "errors"

// CompressionOptions configures permessage-deflate (RFC 7692). INTERIM.
type CompressionOptions struct {
	ClientNoContextTakeover bool
	ServerNoContextTakeover bool
	ClientMaxWindowBits     int
	ServerMaxWindowBits     int
	Level                   int
	Threshold               int
}

type negotiated struct{}

func (o *CompressionOptions) offer() string { return "permessage-deflate" }
func (o *CompressionOptions) accept([]string) (*negotiated, error) {
	return nil, errors.New("interim")
}
func (c *Conn) setCompression(*negotiated) {}

type deflater struct{}

func (d *deflater) worth(int) bool                                      { return false }
func (d *deflater) compress(p []byte) ([]byte, error)                   { return p, nil }
func (d *deflater) beginStream()                                        {}
func (d *deflater) streamWrite(p []byte, emit func([]byte) error) error { return emit(p) }
func (d *deflater) streamClose(emit func([]byte) error) error           { return nil }

type inflater struct{}

func (i *inflater) begin()                     {}
func (i *inflater) read(p []byte) (int, error) { return 0, nil }
