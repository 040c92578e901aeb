package contenders

import (
	"context"
	"sync"

	"github.com/gorilla/websocket"
)

// gorillaWritePool is shared by all gorilla connections of a ManyConns
// workload, as gorilla's docs recommend for many mostly idle connections.
var gorillaWritePool sync.Pool

func init() {
	register(Contender{
		Name: "gorilla",
		Desc: "github.com/gorilla/websocket: Dialer, NextReader into a reused buffer, NextWriter per message, WriteBufferPool for many connections",
		Dial: dialGorilla,
	})
}

type gorillaConn struct {
	c    *websocket.Conn
	typ  int
	comp bool
	done *readerDone
}

func dialGorilla(ctx context.Context, url string, opt Options, h Handler) (Conn, error) {
	d := websocket.Dialer{
		ReadBufferSize:    4096,
		WriteBufferSize:   4096,
		EnableCompression: opt.Compression,
	}
	if opt.ManyConns {
		d.WriteBufferPool = &gorillaWritePool
	}
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	if opt.MaxMessageSize > 0 {
		c.SetReadLimit(opt.MaxMessageSize)
	}
	if opt.Compression {
		c.SetCompressionLevel(1) // flate.BestSpeed, gorilla's default, stated
	}
	g := &gorillaConn{c: c, typ: websocket.BinaryMessage, done: newReaderDone()}
	if opt.Text {
		g.typ = websocket.TextMessage
	}
	g.comp = resp.Header.Get("Sec-WebSocket-Extensions") != ""
	go g.readLoop(h)
	return g, nil
}

func (g *gorillaConn) readLoop(h Handler) {
	var buf []byte // allocated on the first message, so idle connections hold none
	for {
		_, r, err := g.c.NextReader()
		if err != nil {
			g.done.finish(h, err)
			return
		}
		buf, err = readAll(r, buf)
		if err != nil {
			g.done.finish(h, err)
			return
		}
		h.Message(buf)
	}
}

func (g *gorillaConn) Write(p []byte) error {
	w, err := g.c.NextWriter(g.typ)
	if err != nil {
		return err
	}
	if _, err := w.Write(p); err != nil {
		_ = w.Close()
		return err
	}
	return w.Close()
}

func (g *gorillaConn) Compressed() bool { return g.comp }

func (g *gorillaConn) Close() error {
	err := g.c.Close()
	g.done.wait()
	return err
}
