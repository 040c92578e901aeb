package contenders

import (
	"context"
	"strings"

	"github.com/wsclient/wsclient"
)

func init() {
	register(Contender{
		Name: "wsclient",
		Desc: "github.com/wsclient/wsclient Conn: Dialer.Dial, AppendMessage into a reused buffer, WriteMessage, context.Background()",
		Dial: dialWsclient,
	})
}

type wsclientConn struct {
	c    *wsclient.Conn
	typ  wsclient.MessageType
	comp bool
	done *readerDone
}

func dialWsclient(ctx context.Context, url string, opt Options, h Handler) (Conn, error) {
	d := &wsclient.Dialer{MaxMessageSize: opt.MaxMessageSize}
	if opt.Compression {
		d.Compression = &wsclient.CompressionOptions{ClientNoContextTakeover: true, ServerNoContextTakeover: true, Level: 1}
	}
	c, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	w := &wsclientConn{c: c, typ: wsclient.BinaryMessage, done: newReaderDone()}
	if opt.Text {
		w.typ = wsclient.TextMessage
	}
	w.comp = strings.Contains(c.Extensions(), "permessage-deflate")
	go w.readLoop(h)
	return w, nil
}

func (w *wsclientConn) readLoop(h Handler) {
	ctx := context.Background()
	var buf []byte // allocated on the first message, so idle connections hold none
	for {
		var err error
		_, buf, err = w.c.AppendMessage(ctx, buf[:0])
		if err != nil {
			w.done.finish(h, err)
			return
		}
		h.Message(buf)
	}
}

func (w *wsclientConn) Write(p []byte) error {
	return w.c.WriteMessage(context.Background(), w.typ, p)
}

func (w *wsclientConn) Compressed() bool { return w.comp }

func (w *wsclientConn) Close() error {
	err := w.c.CloseNow()
	w.done.wait()
	return err
}
