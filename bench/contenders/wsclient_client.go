package contenders

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/wsclient/wsclient"
)

func init() {
	register(Contender{
		Name: "wsclient-client",
		Desc: "github.com/wsclient/wsclient callback Client: Start with a Handler (HandleFrame per message) and the shared Dialer, Cast to write (Send when the outbox is full, and for messages of 1 MiB or more, which Send writes without copying), default options",
		Dial: dialWsclientClient,
	})
}

type wsclientClient struct {
	c    *wsclient.Client
	typ  wsclient.MessageType
	comp bool
	done *readerDone
	// ctx is Send's: a context that can end, as Send's doc asks of a
	// Send that may be made while a callback runs (here: right after
	// OnConnect, before it has returned); Close ends it.
	ctx    context.Context
	cancel context.CancelFunc
}

// clientHandler turns Client callbacks into Handler calls.
type clientHandler struct {
	wsclient.BaseHandler
	h         Handler
	done      *readerDone
	connected chan struct{}
	once      sync.Once
	comp      bool // permessage-deflate was negotiated
}

// OnConnect keeps what the adapter needs of info, as the Conn adapter asks
// its Conn, rather than info itself (with the response header).
func (ch *clientHandler) OnConnect(_ *wsclient.Client, info wsclient.ConnInfo) wsclient.Action {
	ch.comp = strings.Contains(info.Extensions, "permessage-deflate")
	ch.once.Do(func() { close(ch.connected) })
	return wsclient.Action{}
}

func (ch *clientHandler) OnDisconnect(_ *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	return wsclient.StopWith(errors.New("disconnected"))
}

func (ch *clientHandler) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	if f.Type == wsclient.TextMessage || f.Type == wsclient.BinaryMessage {
		ch.h.Message(f.Data)
	}
	return wsclient.Action{}
}

func (ch *clientHandler) Terminate(_ *wsclient.Client, reason error) { ch.done.finish(ch.h, reason) }

func dialWsclientClient(ctx context.Context, url string, opt Options, h Handler) (Conn, error) {
	return dialWsclientClientWith(ctx, url, opt, h, wsclient.Options{})
}

// dialWsclientClientWith is dialWsclientClient with extra Client options
// (other adapters of the Client, such as wsclient-confirm).
func dialWsclientClientWith(ctx context.Context, url string, opt Options, h Handler, co wsclient.Options) (Conn, error) {
	d := wsclientDialer(opt)
	ch := &clientHandler{h: h, done: newReaderDone(), connected: make(chan struct{})}
	co.Dialer = d
	if opt.MessageSize > 64<<10 {
		// Large messages expected: keep the connection's receive buffer
		// between them (Options.ReadBufferRetain's doc), as the Conn
		// adapter keeps its own reused buffer.
		co.ReadBufferRetain = opt.MessageSize
	}
	c, err := wsclient.Start(context.Background(), url, ch, &co)
	if err != nil {
		return nil, err
	}
	select {
	case <-ch.connected:
	case <-ch.done.ch:
		return nil, c.Wait()
	case <-ctx.Done():
		w := &wsclientClient{c: c, done: ch.done, cancel: func() {}}
		_ = w.Close()
		return nil, ctx.Err()
	}
	w := &wsclientClient{c: c, typ: wsclient.BinaryMessage, done: ch.done}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	if opt.Text {
		w.typ = wsclient.TextMessage
	}
	// OnConnect ran before ch.connected was closed, so reading comp is safe.
	w.comp = ch.comp
	return w, nil
}

// sendAtLeast is the payload size from which Write sends rather than
// casts: Cast copies the payload into the outbox, and for a megabyte or
// more that copy costs more than waiting for the write (Cast's doc says
// so).
const sendAtLeast = 1 << 20

// Write casts p; when the outbox is full (the writer goroutine is behind),
// or p is large, it sends p instead, which waits for room and for the
// write and does not copy p. With confirmation on, Send waits for the
// confirmation too; a frame written but not confirmed (ErrUnconfirmed:
// a server whose pongs do not echo) was still written.
func (w *wsclientClient) Write(p []byte) error {
	f := wsclient.Frame{Type: w.typ, Data: p}
	var err error
	if len(p) >= sendAtLeast {
		err = w.c.Send(w.ctx, f)
	} else if err = w.c.Cast(f); errors.Is(err, wsclient.ErrOutboxFull) {
		err = w.c.Send(w.ctx, f)
	}
	if errors.Is(err, wsclient.ErrUnconfirmed) {
		err = nil
	}
	return err
}

func (w *wsclientClient) Compressed() bool { return w.comp }

// Close drops the connection at once (Stop with an ended context skips the
// close handshake) and waits for the client to terminate.
func (w *wsclientClient) Close() error {
	w.cancel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = w.c.Stop(ctx)
	_ = w.c.Wait()
	w.done.wait()
	return nil
}
