package contenders

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

func init() {
	register(Contender{
		Name: "gobwas",
		Desc: "github.com/gobwas/ws low level: ws.Dialer, ReadHeaderBuffer/WriteHeaderBuffer over a 4 KiB bufio.Reader with reused buffers, ws.Cipher; wsflate with compress/flate (best speed) for compression",
		Dial: dialGobwas,
	})
}

// gobwasChunk bounds the write buffer: larger payloads are masked and sent
// in chunks of this size, as wsutil.Writer does.
const gobwasChunk = 64 << 10

type gobwasConn struct {
	nc      net.Conn
	op      ws.OpCode
	comp    bool
	maxSize int64
	done    *readerDone

	wmu  sync.Mutex   // guards everything below: data writes and pongs
	aw   appendWriter // the reused write buffer, as an io.Writer for WriteHeaderBuffer
	hbuf [ws.MaxHeaderSize]byte
	cbuf bytes.Buffer    // compressed payload
	fw   *wsflate.Writer // nil without compression
}

// appendWriter lets WriteHeaderBuffer append to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// flateReader adapts compress/flate's reader to wsflate.ReadResetter so it
// is reused across messages instead of rebuilt. (gobwas's docs use
// compress/flate; github.com/klauspost/compress/flate v1.20.4 fails with
// "corrupt input" on the final empty block wsflate appends to each message.)
type flateReader struct{ io.ReadCloser }

func (f flateReader) Reset(r io.Reader) { _ = f.ReadCloser.(flate.Resetter).Reset(r, nil) }

func dialGobwas(ctx context.Context, url string, opt Options, h Handler) (Conn, error) {
	d := ws.Dialer{}
	if opt.Compression {
		p := wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
		d.Extensions = []httphead.Option{p.Option()}
	}
	nc, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	g := &gobwasConn{nc: nc, op: ws.OpBinary, maxSize: opt.MaxMessageSize, done: newReaderDone()}
	if opt.Text {
		g.op = ws.OpText
	}
	for _, e := range hs.Extensions {
		if bytes.Equal(e.Name, wsflate.ExtensionNameBytes) {
			g.comp = true
		}
	}
	if g.comp {
		g.fw = wsflate.NewWriter(nil, func(w io.Writer) wsflate.Compressor {
			f, _ := flate.NewWriter(w, flate.BestSpeed)
			return f
		})
	}
	var r *bufio.Reader
	if br != nil {
		r = br // holds bytes the server sent right after the handshake
	} else {
		r = bufio.NewReaderSize(nc, 4096)
	}
	go g.readLoop(r, h)
	return g, nil
}

func (g *gobwasConn) readLoop(r *bufio.Reader, h Handler) {
	g.done.finish(h, g.read(r, h))
}

func (g *gobwasConn) read(r *bufio.Reader, h Handler) error {
	var (
		hb         = make([]byte, ws.MaxHeaderSize)
		msg        []byte // allocated on the first message
		ctl        = make([]byte, 125)
		out        []byte
		compressed bool
		inMessage  bool
		fr         *wsflate.Reader
		src        bytes.Reader
	)
	for {
		hdr, err := ws.ReadHeaderBuffer(r, hb)
		if err != nil {
			return err
		}
		if hdr.OpCode.IsControl() {
			if hdr.Length > 125 {
				return ws.ErrProtocolControlPayloadOverflow
			}
			p := ctl[:hdr.Length]
			if _, err := io.ReadFull(r, p); err != nil {
				return err
			}
			if hdr.Masked {
				ws.Cipher(p, hdr.Mask, 0)
			}
			switch hdr.OpCode {
			case ws.OpPing:
				if err := g.writeFrame(ws.OpPong, 0, p); err != nil {
					return err
				}
			case ws.OpClose:
				_ = g.writeFrame(ws.OpClose, 0, p)
				return io.EOF
			}
			continue
		}
		if hdr.OpCode == ws.OpContinuation {
			if !inMessage {
				return ws.ErrProtocolContinuationUnexpected
			}
		} else {
			if inMessage {
				return ws.ErrProtocolContinuationExpected
			}
			msg = msg[:0]
			compressed = hdr.Rsv1()
			inMessage = true
		}
		n := int64(len(msg)) + hdr.Length
		if g.maxSize > 0 && n > g.maxSize {
			return errTooBig
		}
		old := len(msg)
		msg = grow(msg, int(n))
		if _, err := io.ReadFull(r, msg[old:]); err != nil {
			return err
		}
		if hdr.Masked {
			ws.Cipher(msg[old:], hdr.Mask, 0)
		}
		if !hdr.Fin {
			continue
		}
		inMessage = false
		if !compressed {
			h.Message(msg)
			continue
		}
		if !g.comp {
			return errors.New("gobwas: compressed frame without negotiation")
		}
		src.Reset(msg)
		if fr == nil {
			fr = wsflate.NewReader(&src, func(r io.Reader) wsflate.Decompressor {
				return flateReader{flate.NewReader(r)}
			})
		} else {
			fr.Reset(&src)
		}
		if out, err = readAll(fr, out); err != nil {
			return err
		}
		h.Message(out)
	}
}

func (g *gobwasConn) Write(p []byte) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	var rsv byte
	if g.fw != nil {
		g.cbuf.Reset()
		g.fw.Reset(&g.cbuf)
		if _, err := g.fw.Write(p); err != nil {
			return err
		}
		if err := g.fw.Flush(); err != nil {
			return err
		}
		p = g.cbuf.Bytes()
		rsv = ws.Rsv(true, false, false)
	}
	return g.writeFrameLocked(g.op, rsv, p)
}

func (g *gobwasConn) writeFrame(op ws.OpCode, rsv byte, p []byte) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	return g.writeFrameLocked(op, rsv, p)
}

// writeFrameLocked masks p into the reused write buffer behind the header
// and sends it with as few writes as the chunk size allows.
func (g *gobwasConn) writeFrameLocked(op ws.OpCode, rsv byte, p []byte) error {
	hdr := ws.Header{Fin: true, Rsv: rsv, OpCode: op, Masked: true, Mask: ws.NewMask(), Length: int64(len(p))}
	w := &g.aw
	w.b = w.b[:0]
	if err := ws.WriteHeaderBuffer(w, hdr, g.hbuf[:]); err != nil {
		return err
	}
	pos := 0
	for {
		n := min(len(p), gobwasChunk)
		start := len(w.b)
		w.b = append(w.b, p[:n]...)
		ws.Cipher(w.b[start:], hdr.Mask, pos)
		pos += n
		p = p[n:]
		if _, err := g.nc.Write(w.b); err != nil {
			return err
		}
		w.b = w.b[:0]
		if len(p) == 0 {
			return nil
		}
	}
}

func (g *gobwasConn) Compressed() bool { return g.comp }

func (g *gobwasConn) Close() error {
	err := g.nc.Close()
	g.done.wait()
	return err
}
