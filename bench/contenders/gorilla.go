package contenders

import (
	"context"
	"sync"

	"github.com/gorilla/websocket"
)

// gorillaWritePool is shared by all gorilla connections of a ManyConns
// workload, as gorilla's docs recommend for many mostly idle connections.
var gorillaWritePool sync.Pool

// gorillaDialers holds one Dialer per Options.
var gorillaDialers sync.Map

func init() {
	register(Contender{
		Name: "gorilla",
		Desc: "github.com/gorilla/websocket: one Dialer (4 KiB read buffer, write buffer sized to the largest message as its docs advise, WriteBufferPool for many connections), NextReader into a reused buffer, WriteMessage",
		Dial: dialGorilla,
	})
}

type gorillaConn struct {
	c    *websocket.Conn
	wmu  *sync.Mutex // serialises concurrent writers; nil without ConcurrentWrites
	typ  int
	comp bool
	done *readerDone
}

func dialGorilla(ctx context.Context, url string, opt Options, h Handler) (Conn, error) {
	d := cached(&gorillaDialers, opt, func() *websocket.Dialer {
		d := &websocket.Dialer{
			ReadBufferSize: 4096,
			// gorilla fragments a message at its write buffer: its docs say
			// to size the buffer by the largest expected message.
			WriteBufferSize:   max(4096, opt.MessageSize),
			EnableCompression: opt.Compression,
		}
		if opt.ManyConns {
			d.WriteBufferPool = &gorillaWritePool
		}
		return d
	})
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
	if opt.ConcurrentWrites {
		g.wmu = new(sync.Mutex) // gorilla supports one concurrent writer
	}
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
	if g.wmu != nil {
		g.wmu.Lock()
		defer g.wmu.Unlock()
	}
	return g.c.WriteMessage(g.typ, p)
}

func (g *gorillaConn) Compressed() bool { return g.comp }

func (g *gorillaConn) Close() error {
	err := g.c.Close()
	g.done.wait()
	return err
}
