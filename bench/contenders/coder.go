package contenders

import (
	"context"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

func init() {
	register(Contender{
		Name: "coder",
		Desc: "github.com/coder/websocket: Dial with one reused DialOptions, Conn.Reader into a reused buffer, Conn.Write (one frame per message), read limit raised",
		Dial: dialCoder,
	})
}

// coderOptions holds one DialOptions per Options.
var coderOptions sync.Map

type coderConn struct {
	c    *websocket.Conn
	typ  websocket.MessageType
	comp bool
	done *readerDone
}

func dialCoder(ctx context.Context, url string, opt Options, h Handler) (Conn, error) {
	dopt := cached(&coderOptions, opt, func() *websocket.DialOptions {
		d := &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled}
		if opt.Compression {
			d.CompressionMode = websocket.CompressionNoContextTakeover
		}
		return d
	})
	c, resp, err := websocket.Dial(ctx, url, dopt)
	if err != nil {
		return nil, err
	}
	limit := opt.MaxMessageSize
	if limit <= 0 {
		limit = -1
	}
	c.SetReadLimit(limit)
	cc := &coderConn{c: c, typ: websocket.MessageBinary, done: newReaderDone()}
	if opt.Text {
		cc.typ = websocket.MessageText
	}
	cc.comp = strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
	go cc.readLoop(h)
	return cc, nil
}

func (cc *coderConn) readLoop(h Handler) {
	ctx := context.Background()
	var buf []byte // allocated on the first message, so idle connections hold none
	for {
		_, r, err := cc.c.Reader(ctx)
		if err != nil {
			cc.done.finish(h, err)
			return
		}
		buf, err = readAll(r, buf)
		if err != nil {
			cc.done.finish(h, err)
			return
		}
		h.Message(buf)
	}
}

func (cc *coderConn) Write(p []byte) error {
	return cc.c.Write(context.Background(), cc.typ, p)
}

func (cc *coderConn) Compressed() bool { return cc.comp }

func (cc *coderConn) Close() error {
	err := cc.c.CloseNow()
	cc.done.wait()
	return err
}
