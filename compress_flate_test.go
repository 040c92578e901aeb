package wsclient

import (
	"compress/flate"
	"io"
)

func newTestFlate(w io.Writer) *flate.Writer {
	fw, _ := flate.NewWriter(w, flate.BestSpeed)
	return fw
}
