//go:build js

// Command app is the page's program (see ../main.go): a wsclient Client
// that keeps reconnecting to the URL the page passes as its argument,
// casts what is typed in the form and shows what comes back.
package main

import (
	"context"
	"fmt"
	"os"
	"syscall/js"
	"time"

	"github.com/wsclient/wsclient"
)

var doc = js.Global().Get("document")

func logf(format string, a ...any) {
	el := doc.Call("getElementById", "log")
	el.Set("textContent", el.Get("textContent").String()+time.Now().Format("15:04:05 ")+fmt.Sprintf(format, a...)+"\n")
}

type handler struct{ wsclient.BaseHandler }

func (handler) Init(*wsclient.Client) (wsclient.InitMode, error) {
	return wsclient.KeepReconnecting, nil
}

func (handler) OnConnect(_ *wsclient.Client, info wsclient.ConnInfo) wsclient.Action {
	logf("connected to %s (extensions %q)", info.URL, info.Extensions)
	return wsclient.Reply(wsclient.TextFrame("hello from wasm"))
}

func (handler) OnDisconnect(_ *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	logf("disconnected: %v; reconnecting in %v", d.Reason, d.Backoff)
	return wsclient.ReconnectAfter(d.Backoff)
}

func (handler) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	logf("received %v: %s", f.Type, f.Data)
	return wsclient.Action{}
}

func (handler) OnUndelivered(_ *wsclient.Client, f wsclient.Frame, err error) {
	logf("not delivered: %s (%v)", f.Data, err)
}

func main() {
	if len(os.Args) < 2 {
		logf("no WebSocket URL given")
		return
	}
	c, err := wsclient.Start(context.Background(), os.Args[1], handler{}, &wsclient.Options{
		Trace: &wsclient.Trace{StateChanged: func(_, to wsclient.State) {
			doc.Call("getElementById", "state").Set("textContent", to.String())
		}},
	})
	if err != nil {
		logf("start: %v", err)
		return
	}
	submit := js.FuncOf(func(_ js.Value, args []js.Value) any {
		args[0].Call("preventDefault")
		msg := doc.Call("getElementById", "msg").Get("value").String()
		if err := c.Cast(wsclient.TextFrame(msg)); err != nil {
			logf("cast: %v", err)
		}
		return nil
	})
	defer submit.Release()
	doc.Call("getElementById", "form").Call("addEventListener", "submit", submit)
	logf("client: %v", c.Wait())
}
