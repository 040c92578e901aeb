package wsclient

import (
	"bytes"
	"compress/flate"
	"io"
)

func newTestFlate(w io.Writer) *flate.Writer {
	fw, _ := flate.NewWriter(w, flate.BestSpeed)
	return fw
}

// deflateBomb returns a permessage-deflate payload (without its 00 00 ff
// ff tail) that inflates to 64 MiB of zeros: a few tens of KiB.
func deflateBomb() []byte {
	var bomb bytes.Buffer
	fw := newTestFlate(&bomb)
	zeros := make([]byte, 1<<20)
	for range 64 {
		fw.Write(zeros)
	}
	fw.Flush()
	return bytes.TrimSuffix(bomb.Bytes(), []byte{0, 0, 0xff, 0xff})
}
