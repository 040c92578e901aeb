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
		Desc: "github.com/gobwas/ws low level: ws.Dialer; ReadHeaderBuffer over a 4 KiB bufio.Reader, payload into a reused buffer; " +
			"header + masked payload (ws.Cipher) built in one reused buffer and sent with one Write per message; " +
			"wsflate with compress/flate (best speed) only on compressed connections",
		Dial: dialGobwas,
	})
}

// gobwasDialers holds one ws.Dialer per Options, reused as an application
// would.
var gobwasDialers sync.Map

// gobwasConn is the plain connection: no compression state at all.
type gobwasConn struct {
	nc      net.Conn
	op      ws.OpCode
	maxSize int64
	done    *readerDone

	wmu sync.Mutex // guards wbuf: data writes and pongs
	// wbuf is reused for every frame: header and masked payload, sent with
	// one Write. It grows to the largest frame written.
	wbuf []byte
	hbuf [ws.MaxHeaderSize]byte // scratch for WriteHeaderBuffer; guarded by wmu
}

// gobwasDeflate adds permessage-deflate (no context takeover) to a
// gobwasConn.
type gobwasDeflate struct {
	*gobwasConn
	cbuf bytes.Buffer    // compressed payload, reused; guarded by wmu
	fw   *wsflate.Writer // reused; guarded by wmu
}

// flateReader adapts compress/flate's reader to wsflate.ReadResetter so it
// is reused across messages instead of rebuilt. (gobwas's docs use
// compress/flate; github.com/klauspost/compress/flate v1.20.4 fails with
// "corrupt input" on the final empty block wsflate appends to each message.)
type flateReader struct{ io.ReadCloser }

func (f flateReader) Reset(r io.Reader) { _ = f.ReadCloser.(flate.Resetter).Reset(r, nil) }

func dialGobwas(ctx context.Context, url string, opt Options, h Handler) (Conn, error) {
	d := cached(&gobwasDialers, opt, func() *ws.Dialer {
		d := &ws.Dialer{}
		if opt.Compression {
			p := wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
			d.Extensions = []httphead.Option{p.Option()}
		}
		return d
	})
	nc, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	g := &gobwasConn{nc: nc, op: ws.OpBinary, maxSize: opt.MaxMessageSize, done: newReaderDone()}
	if opt.Text {
		g.op = ws.OpText
	}
	comp := false
	for _, e := range hs.Extensions {
		if bytes.Equal(e.Name, wsflate.ExtensionNameBytes) {
			comp = true
		}
	}
	r := br // holds bytes the server sent right after the handshake
	if r == nil {
		r = bufio.NewReaderSize(nc, 4096)
	}
	if !comp {
		go func() { g.done.finish(h, g.read(r, h)) }()
		return g, nil
	}
	gd := &gobwasDeflate{gobwasConn: g}
	gd.fw = wsflate.NewWriter(nil, func(w io.Writer) wsflate.Compressor {
		f, _ := flate.NewWriter(w, flate.BestSpeed)
		return f
	})
	go func() { g.done.finish(h, gd.read(r, h)) }()
	return gd, nil
}

// control handles a control frame whose header has been read; it returns
// io.EOF after a close.
func (g *gobwasConn) control(r io.Reader, hdr ws.Header, ctl []byte) error {
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
		return g.writeFrame(ws.OpPong, 0, p)
	case ws.OpClose:
		_ = g.writeFrame(ws.OpClose, 0, p)
		return io.EOF
	}
	return nil
}

// readMessage reads the data frames of one message into msg[:0]; a
// control frame met on the way is handled.
func (g *gobwasConn) readMessage(r *bufio.Reader, hb, ctl, msg []byte) (data []byte, compressed bool, err error) {
	inMessage := false
	msg = msg[:0]
	for {
		hdr, err := ws.ReadHeaderBuffer(r, hb)
		if err != nil {
			return msg, false, err
		}
		if hdr.OpCode.IsControl() {
			if err := g.control(r, hdr, ctl); err != nil {
				return msg, false, err
			}
			continue
		}
		if hdr.OpCode == ws.OpContinuation {
			if !inMessage {
				return msg, false, ws.ErrProtocolContinuationUnexpected
			}
		} else {
			if inMessage {
				return msg, false, ws.ErrProtocolContinuationExpected
			}
			compressed = hdr.Rsv1()
			inMessage = true
		}
		n := int64(len(msg)) + hdr.Length
		if g.maxSize > 0 && n > g.maxSize {
			return msg, false, errTooBig
		}
		old := len(msg)
		msg = grow(msg, int(n))
		if _, err := io.ReadFull(r, msg[old:]); err != nil {
			return msg, false, err
		}
		if hdr.Masked {
			ws.Cipher(msg[old:], hdr.Mask, 0)
		}
		if hdr.Fin {
			return msg, compressed, nil
		}
	}
}

func (g *gobwasConn) read(r *bufio.Reader, h Handler) error {
	hb := make([]byte, ws.MaxHeaderSize)
	ctl := make([]byte, 125)
	var msg []byte // allocated on the first message
	for {
		var (
			compressed bool
			err        error
		)
		msg, compressed, err = g.readMessage(r, hb, ctl, msg)
		if err != nil {
			return err
		}
		if compressed {
			return errors.New("gobwas: compressed frame without negotiation")
		}
		h.Message(msg)
	}
}

func (gd *gobwasDeflate) read(r *bufio.Reader, h Handler) error {
	hb := make([]byte, ws.MaxHeaderSize)
	ctl := make([]byte, 125)
	var (
		msg, out []byte
		src      bytes.Reader
		fr       *wsflate.Reader
	)
	for {
		var (
			compressed bool
			err        error
		)
		msg, compressed, err = gd.readMessage(r, hb, ctl, msg)
		if err != nil {
			return err
		}
		if !compressed {
			h.Message(msg)
			continue
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

func (g *gobwasConn) Write(p []byte) error { return g.writeFrame(g.op, 0, p) }

func (gd *gobwasDeflate) Write(p []byte) error {
	gd.wmu.Lock()
	defer gd.wmu.Unlock()
	gd.cbuf.Reset()
	gd.fw.Reset(&gd.cbuf)
	if _, err := gd.fw.Write(p); err != nil {
		return err
	}
	if err := gd.fw.Flush(); err != nil {
		return err
	}
	return gd.writeFrameLocked(gd.op, ws.Rsv(true, false, false), gd.cbuf.Bytes())
}

// WriteBatch builds the frames of all of ps (each header followed by its
// masked payload) in the reused write buffer and sends them with one Write:
// what gobwas's low-level API lets its users do for a burst.
func (g *gobwasConn) WriteBatch(ps [][]byte) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	g.wbuf = g.wbuf[:0]
	for _, p := range ps {
		if err := g.appendFrame(g.op, 0, p); err != nil {
			return err
		}
	}
	_, err := g.nc.Write(g.wbuf)
	return err
}

// WriteBatch compresses and writes each message in turn (the batch of the
// plain connection does not compress).
func (gd *gobwasDeflate) WriteBatch(ps [][]byte) error {
	for _, p := range ps {
		if err := gd.Write(p); err != nil {
			return err
		}
	}
	return nil
}

func (g *gobwasConn) writeFrame(op ws.OpCode, rsv byte, p []byte) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	return g.writeFrameLocked(op, rsv, p)
}

// appendWriter lets WriteHeaderBuffer append to a byte slice.
type appendWriter struct{ b *[]byte }

func (w appendWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

// writeFrameLocked builds header and masked payload in the reused write
// buffer and sends the frame with one Write, whatever its size.
func (g *gobwasConn) writeFrameLocked(op ws.OpCode, rsv byte, p []byte) error {
	g.wbuf = g.wbuf[:0]
	if err := g.appendFrame(op, rsv, p); err != nil {
		return err
	}
	_, err := g.nc.Write(g.wbuf)
	return err
}

// appendFrame appends the frame of p (header and masked payload) to wbuf.
func (g *gobwasConn) appendFrame(op ws.OpCode, rsv byte, p []byte) error {
	hdr := ws.Header{Fin: true, Rsv: rsv, OpCode: op, Masked: true, Mask: ws.NewMask(), Length: int64(len(p))}
	if err := ws.WriteHeaderBuffer(appendWriter{&g.wbuf}, hdr, g.hbuf[:]); err != nil {
		return err
	}
	start := len(g.wbuf)
	g.wbuf = append(g.wbuf, p...)
	ws.Cipher(g.wbuf[start:], hdr.Mask, 0)
	return nil
}

func (g *gobwasConn) Compressed() bool     { return false }
func (gd *gobwasDeflate) Compressed() bool { return true }

func (g *gobwasConn) Close() error {
	err := g.nc.Close()
	g.done.wait()
	return err
}
