package contenders

import (
	"context"
	"strings"
	"sync"

	"github.com/wsclient/wsclient"
)

func init() {
	register(Contender{
		Name: "wsclient",
		Desc: "github.com/wsclient/wsclient Conn: one reused Dialer, NextReader read into a reused buffer, WriteMessage, context.Background()",
		Dial: dialWsclient,
	})
}

// wsclientDialers holds one Dialer per Options.
var wsclientDialers sync.Map

// wsclientDialer returns the shared Dialer for opt.
func wsclientDialer(opt Options) *wsclient.Dialer {
	return cached(&wsclientDialers, opt, func() *wsclient.Dialer {
		d := &wsclient.Dialer{MaxMessageSize: opt.MaxMessageSize}
		if opt.Compression {
			d.Compression = &wsclient.CompressionOptions{ClientNoContextTakeover: true, ServerNoContextTakeover: true, Level: 1}
		}
		return d
	})
}

type wsclientConn struct {
	c    *wsclient.Conn
	typ  wsclient.MessageType
	comp bool
	done *readerDone
}

func dialWsclient(ctx context.Context, url string, opt Options, h Handler) (Conn, error) {
	c, err := wsclient.Dial(ctx, url, wsclientDialer(opt))
	if err != nil {
		return nil, err
	}
	w := &wsclientConn{c: c, typ: wsclient.BinaryMessage, done: newReaderDone()}
	if opt.Text {
		w.typ = wsclient.TextMessage
	}
	w.comp = strings.Contains(c.Info().Extensions, "permessage-deflate")
	go w.readLoop(h)
	return w, nil
}

func (w *wsclientConn) readLoop(h Handler) {
	ctx := context.Background()
	var buf []byte // allocated on the first message, so idle connections hold none
	for {
		_, r, err := w.c.NextReader(ctx)
		if err == nil {
			buf, err = readAll(r, buf)
		}
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

// WriteBatch sends ps with Conn.WriteBatch: the messages are masked into
// one buffer and written together.
func (w *wsclientConn) WriteBatch(ps [][]byte) error {
	_, err := w.c.WriteBatch(context.Background(), w.typ, ps)
	return err
}

func (w *wsclientConn) Compressed() bool { return w.comp }

func (w *wsclientConn) Close() error {
	err := w.c.CloseNow()
	w.done.wait()
	return err
}
