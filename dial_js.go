//go:build js

package wsclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"syscall/js"
)

// unsupported is the error of an option or call the browser cannot honour.
func unsupported(what string) error {
	return fmt.Errorf("wsclient: %s: not possible in the browser (GOOS=js): %w", what, errors.ErrUnsupported)
}

// browserCheck returns the error of the first option of d, or part of t,
// the browser cannot honour.
func (d *Dialer) browserCheck(t *dialTarget) error {
	for _, o := range [...]struct {
		set  bool
		name string
	}{
		{len(d.Header) > 0, "Dialer.Header"},
		{d.Origin != "", "Dialer.Origin"},
		{d.TLSConfig != nil, "Dialer.TLSConfig"},
		{d.InsecureSkipVerifyDangerously, "Dialer.InsecureSkipVerifyDangerously"},
		{d.NetDialContext != nil, "Dialer.NetDialContext"},
		{d.Proxy != nil, "Dialer.Proxy (the browser's proxy settings apply)"},
		{d.ProxyTLSConfig != nil, "Dialer.ProxyTLSConfig"},
		{d.Jar != nil, "Dialer.Jar (the browser sends its own cookies)"},
		{d.FollowRedirects, "Dialer.FollowRedirects"},
		{d.Compression != nil, "Dialer.Compression (the browser negotiates permessage-deflate itself)"},
		{d.HTTP2 != HTTP2Off, "Dialer.HTTP2"},
		{t.auth != "", "user:password in the URL"},
	} {
		if o.set {
			return unsupported(o.name)
		}
	}
	return nil
}

// dialAbort ends a Client's dial attempt from another goroutine: abort
// cancels the attempt's context. Its zero value is ready; one serves one
// attempt.
type dialAbort struct {
	mu      sync.Mutex
	aborted bool
	cancel  context.CancelFunc
}

// abort ends the attempt; it may be called more than once, from any
// goroutine.
func (a *dialAbort) abort() {
	a.mu.Lock()
	a.aborted = true
	f := a.cancel
	a.mu.Unlock()
	if f != nil {
		f()
	}
}

// watch makes abort cancel the attempt's context; it reports false when
// the attempt was aborted already.
func (a *dialAbort) watch(cancel context.CancelFunc) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cancel = cancel
	return !a.aborted
}

// dial opens the WebSocket to t and waits for the browser's open event,
// the end of ctx or HandshakeTimeout, or ab's abort (nil: none).
func (d *Dialer) dial(ctx context.Context, t *dialTarget, ab *dialAbort) (*Conn, error) {
	if err := d.browserCheck(t); err != nil {
		return nil, err
	}
	timeout := d.HandshakeTimeout
	if timeout <= 0 {
		timeout = defaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if ab != nil && !ab.watch(cancel) {
		return nil, context.Canceled
	}
	c, err := openWebSocket(t.u, d)
	if err != nil {
		return nil, err
	}
	select {
	case <-c.arrived:
	case <-ctx.Done():
	}
	c.mu.Lock()
	opened, cerr := c.opened, c.closeErr
	c.mu.Unlock()
	if opened {
		c.subprotocol = c.ws.Get("protocol").String()
		c.extensions = c.ws.Get("extensions").String()
		if c.trace != nil {
			c.trace.traceResponse(101, "HTTP/1.1", c.subprotocol, c.extensions)
			c.trace.traceReady(c)
		}
		return c, nil
	}
	c.CloseNow()
	if cerr == nil {
		cerr = ctx.Err()
	}
	return nil, &DialError{Op: "handshake", Err: cerr}
}

// openWebSocket makes the browser's WebSocket for u and the Conn around
// it.
func openWebSocket(u *url.URL, d *Dialer) (c *Conn, err error) {
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, unsupported("WebSocket (this JavaScript environment has no WebSocket; in Node 20 run with --experimental-websocket)")
	}
	protos := make([]any, len(d.Subprotocols))
	for i, p := range d.Subprotocols {
		protos[i] = p
	}
	defer func() {
		if r := recover(); r != nil { // the constructor throws on a bad URL or subprotocol
			err = &DialError{Op: "dial", Err: fmt.Errorf("%v", r)}
		}
	}()
	ws := ctor.New(u.String(), js.ValueOf(protos))
	ws.Set("binaryType", "arraybuffer")
	maxMsg := d.MaxMessageSize
	if maxMsg == 0 {
		maxMsg = defaultMaxMessage
	}
	closeTimeout := d.closeTimeout()
	c = &Conn{
		ws: ws, url: u, trace: d.Trace,
		cfg:     connConfig{maxMessage: maxMsg, closeTimeout: closeTimeout},
		arrived: make(chan struct{}, 1),
		closed:  make(chan struct{}),
		wmu:     make(chan struct{}, 1),
	}
	c.listen()
	return c, nil
}

// listen installs the WebSocket's event handlers. They run on the
// browser's event loop and must not block: they queue and wake.
func (c *Conn) listen() {
	c.funcs[0] = js.FuncOf(func(js.Value, []js.Value) any {
		c.mu.Lock()
		c.opened = true
		c.wake()
		c.mu.Unlock()
		return nil
	})
	c.funcs[1] = js.FuncOf(func(_ js.Value, args []js.Value) any {
		c.onMessage(args[0].Get("data"))
		return nil
	})
	c.funcs[2] = js.FuncOf(func(js.Value, []js.Value) any { return nil }) // the close event follows with the details
	c.funcs[3] = js.FuncOf(func(_ js.Value, args []js.Value) any {
		c.onClose(args[0])
		return nil
	})
	for i, ev := range [...]string{"onopen", "onmessage", "onerror", "onclose"} {
		c.ws.Set(ev, c.funcs[i])
	}
}

// uint8Array is the browser's Uint8Array constructor, looked up once.
var uint8Array = sync.OnceValue(func() js.Value { return js.Global().Get("Uint8Array") })

// onMessage queues a message the browser delivered.
func (c *Conn) onMessage(data js.Value) {
	var m jsMessage
	if data.Type() == js.TypeString {
		m = jsMessage{typ: TextMessage, data: []byte(data.String())}
	} else {
		b := uint8Array().New(data)
		m = jsMessage{typ: BinaryMessage, data: make([]byte, b.Get("length").Int())}
		js.CopyBytesToGo(m.data, b)
	}
	c.bytesIn.Add(uint64(len(m.data)))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tooBig || c.closeErr != nil {
		return
	}
	if c.cfg.maxMessage >= 0 && int64(len(m.data)) > c.cfg.maxMessage {
		// The browser has buffered it already; the limit still ends the
		// connection as it does elsewhere.
		c.tooBig = true
		c.wake()
		return
	}
	c.msgs = append(c.msgs, m)
	c.wake()
}

// onClose records how the connection ended and releases the handlers.
func (c *Conn) onClose(ev js.Value) {
	code, reason := ev.Get("code").Int(), ev.Get("reason").String()
	var err error
	if ev.Get("wasClean").Bool() && code != 1006 {
		err = &CloseError{Code: code, Reason: reason}
		if f := c.onCtl.Load(); f != nil {
			p := append([]byte{byte(code >> 8), byte(code)}, reason...)
			(*f)(CloseMessage, p)
		}
	} else {
		err = ErrConnectionLost
	}
	if c.trace != nil {
		if ce, ok := err.(*CloseError); ok {
			c.traceCloseReceived(ce.Code, ce.Reason, c.closeSent.Load())
		} else {
			c.traceLost(err)
		}
	}
	c.ended(err)
	for i := range c.funcs {
		c.funcs[i].Release()
	}
}

// ended records err as the connection's end, if none is recorded, and
// wakes the reader and the writers.
func (c *Conn) ended(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr != nil {
		return
	}
	c.closeErr = err
	close(c.closed)
	c.wake()
}
