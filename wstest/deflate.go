package wstest

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wsclient/wsclient/internal/frame"
)

// DeflateOptions configures the permessage-deflate negotiation of
// WithDeflate. The zero value answers the first acceptable offer with
// "permessage-deflate; server_no_context_takeover;
// client_no_context_takeover".
//
// An offer is acceptable when it has only the four parameters of RFC 7692,
// each at most once and with valid values. When it asks for
// server_max_window_bits below 15, the answer repeats it and the server
// compresses with Huffman coding only, which never refers back.
type DeflateOptions struct {
	// ServerContextTakeover keeps the compression context across the
	// server's messages, unless the client offered
	// server_no_context_takeover.
	ServerContextTakeover bool
	// ClientContextTakeover omits client_no_context_takeover from the
	// answer, so the client may keep its context; the server then
	// decompresses with the previous 32 KiB of the client's messages.
	ClientContextTakeover bool
	// ClientMaxWindowBits (8-15), when not 0 and the client offered
	// client_max_window_bits, is answered as client_max_window_bits
	// (never above the value offered).
	ClientMaxWindowBits int
}

// deflater holds one connection's permessage-deflate state.
type deflater struct {
	serverNoCtx bool
	huffman     bool
	clientCtx   bool
	w           *flate.Writer
	buf         bytes.Buffer
	dict        []byte // last 32 KiB the client sent, with client context takeover
}

type deflateOffer struct {
	serverNoCtx, clientNoCtx bool
	serverBits               int // 0: not given
	clientBits               int // -1: not given, 0: given without a value
}

func parseOffer(s string) (deflateOffer, bool) {
	o := deflateOffer{clientBits: -1}
	parts := strings.Split(s, ";")
	if !strings.EqualFold(strings.TrimSpace(parts[0]), "permessage-deflate") {
		return o, false
	}
	seen := map[string]bool{}
	for _, p := range parts[1:] {
		k, v, hasV := strings.Cut(strings.TrimSpace(p), "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.Trim(strings.TrimSpace(v), `"`)
		if seen[k] {
			return o, false
		}
		seen[k] = true
		bits := func() (int, bool) {
			n, err := strconv.Atoi(v)
			return n, err == nil && n >= 8 && n <= 15
		}
		var ok bool
		switch k {
		case "server_no_context_takeover":
			o.serverNoCtx, ok = true, !hasV
		case "client_no_context_takeover":
			o.clientNoCtx, ok = true, !hasV
		case "server_max_window_bits":
			o.serverBits, ok = bits()
		case "client_max_window_bits":
			o.clientBits, ok = 0, true
			if hasV {
				o.clientBits, ok = bits()
			}
		}
		if !ok {
			return o, false
		}
	}
	return o, true
}

// negotiateDeflate answers the first acceptable permessage-deflate offer.
func negotiateDeflate(values []string, opt DeflateOptions) (string, *deflater) {
	for _, v := range values {
		for offer := range strings.SplitSeq(v, ",") {
			o, ok := parseOffer(offer)
			if !ok {
				continue
			}
			d := &deflater{
				serverNoCtx: !opt.ServerContextTakeover || o.serverNoCtx,
				clientCtx:   opt.ClientContextTakeover,
			}
			ans := "permessage-deflate"
			if d.serverNoCtx {
				ans += "; server_no_context_takeover"
			}
			if !d.clientCtx {
				ans += "; client_no_context_takeover"
			}
			if o.serverBits != 0 {
				ans += "; server_max_window_bits=" + strconv.Itoa(o.serverBits)
				d.huffman = o.serverBits < 15
			}
			if b := opt.ClientMaxWindowBits; b != 0 && o.clientBits >= 0 {
				if o.clientBits > 0 {
					b = min(b, o.clientBits)
				}
				ans += "; client_max_window_bits=" + strconv.Itoa(b)
			}
			return ans, d
		}
	}
	return "", nil
}

// compress returns p compressed as a permessage-deflate payload (without
// the final 00 00 ff ff). The caller serialises calls.
func (d *deflater) compress(p []byte) []byte {
	d.buf.Reset()
	if d.w == nil {
		level := flate.DefaultCompression
		if d.huffman {
			level = flate.HuffmanOnly
		}
		d.w, _ = flate.NewWriter(&d.buf, level) // error only for a bad level
	}
	_, _ = d.w.Write(p) // a bytes.Buffer does not fail
	_ = d.w.Flush()
	out := bytes.Clone(bytes.TrimSuffix(d.buf.Bytes(), []byte{0, 0, 0xff, 0xff}))
	if d.serverNoCtx {
		d.w.Reset(&d.buf)
	}
	return out
}

// deflateTail ends a message's data: the sync marker removed by the sender,
// then an empty final stored block so the reader sees the end of stream.
var deflateTail = []byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}

// decompress inflates one message payload, at most limit bytes of output.
// It is called from the reading goroutine only.
func (d *deflater) decompress(p []byte, limit int64) ([]byte, error) {
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader(deflateTail))
	var r io.ReadCloser
	if d.clientCtx && len(d.dict) > 0 {
		r = flate.NewReaderDict(src, d.dict)
	} else {
		r = flate.NewReader(src)
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &protocolError{frame.CloseInvalidPayload, fmt.Sprintf("inflating message: %v", err)}
	}
	if int64(len(out)) > limit {
		return nil, &protocolError{frame.CloseTooBig, "decompressed message over the read limit"}
	}
	if d.clientCtx {
		d.dict = append(d.dict, out...)
		if n := len(d.dict) - 32<<10; n > 0 {
			d.dict = append(d.dict[:0], d.dict[n:]...)
		}
	}
	return out, nil
}
