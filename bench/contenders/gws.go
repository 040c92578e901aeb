package contenders

import (
	"context"
	"time"

	"github.com/lxzan/gws"
)

func init() {
	register(Contender{
		Name: "gws",
		Desc: "github.com/lxzan/gws: NewClient with an event handler, ReadLoop on its own goroutine, WriteMessage",
		Dial: dialGws,
	})
}

type gwsConn struct {
	c    *gws.Conn
	op   gws.Opcode
	comp bool
	done *readerDone
}

// gwsHandler turns gws events into Handler calls.
type gwsHandler struct {
	gws.BuiltinEventHandler
	h    Handler
	done *readerDone
}

func (e *gwsHandler) OnMessage(_ *gws.Conn, m *gws.Message) {
	e.h.Message(m.Bytes())
	_ = m.Close()
}

func (e *gwsHandler) OnClose(_ *gws.Conn, err error) { e.done.finish(e.h, err) }

func dialGws(ctx context.Context, url string, opt Options, h Handler) (Conn, error) {
	maxSize := int(opt.MaxMessageSize)
	if maxSize <= 0 {
		maxSize = 64 << 20
	}
	timeout := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	done := newReaderDone()
	ev := &gwsHandler{h: h, done: done}
	c, resp, err := gws.NewClient(ev, &gws.ClientOption{
		Addr:                url,
		ReadMaxPayloadSize:  maxSize,
		WriteMaxPayloadSize: maxSize,
		HandshakeTimeout:    timeout,
		PermessageDeflate: gws.PermessageDeflate{
			Enabled:               opt.Compression,
			Level:                 1, // flate.BestSpeed, gws's default, stated
			ServerContextTakeover: false,
			ClientContextTakeover: false,
		},
	})
	if err != nil {
		return nil, err
	}
	g := &gwsConn{c: c, op: gws.OpcodeBinary, done: done}
	if opt.Text {
		g.op = gws.OpcodeText
	}
	g.comp = resp.Header.Get("Sec-WebSocket-Extensions") != ""
	go c.ReadLoop()
	return g, nil
}

func (g *gwsConn) Write(p []byte) error { return g.c.WriteMessage(g.op, p) }

func (g *gwsConn) Compressed() bool { return g.comp }

func (g *gwsConn) Close() error {
	err := g.c.NetConn().Close()
	g.done.wait()
	return err
}
