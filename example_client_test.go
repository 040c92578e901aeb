//go:build !js

package wsclient_test

import (
	"context"
	"fmt"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// echoHandler sends one message on connect, prints the echo and closes.
type echoHandler struct {
	wsclient.BaseHandler
}

func (echoHandler) OnConnect(c *wsclient.Client, info wsclient.ConnInfo) wsclient.Action {
	fmt.Println("connected")
	return wsclient.Reply(wsclient.TextFrame("hello"))
}

func (echoHandler) HandleFrame(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
	fmt.Printf("received %s %q\n", f.Type, f.Data)
	c.CloseConn(wsclient.CloseNormalClosure, "done") // OnDisconnect decides what follows
	return wsclient.Action{}
}

func (echoHandler) OnDisconnect(c *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	fmt.Println("disconnected:", d.Reason)
	return wsclient.DisconnectAction{} // ConnectOnce's default: stop
}

func (echoHandler) Terminate(c *wsclient.Client, reason error) {
	fmt.Println("terminated:", reason)
}

// A handler that sends a message, prints the echo and closes, against a
// local echo server.
func Example() {
	srv := wstest.NewEchoServer()
	defer srv.Close()

	c, err := wsclient.Start(context.Background(), srv.URL, echoHandler{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Wait:", c.Wait())
	// Output:
	// connected
	// received text "hello"
	// disconnected: wsclient: closed by the client with code 1000 (normal closure): done
	// terminated: <nil>
	// Wait: <nil>
}

// counter echoes nothing itself; it counts what comes back.
type counter struct {
	wsclient.BaseHandler
	got chan string
}

func (counter) Init(*wsclient.Client) (wsclient.InitMode, error) {
	return wsclient.StartDisconnected, nil
}

func (h counter) HandleFrame(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
	h.got <- string(f.Data)
	return wsclient.Action{}
}

// Frames cast while the client is disconnected wait in the outbox and are
// written, in order, once it connects; Send returns after its frame is
// written.
func ExampleClient_Cast() {
	srv := wstest.NewEchoServer()
	defer srv.Close()

	h := counter{got: make(chan string, 3)}
	c, _ := wsclient.Start(context.Background(), srv.URL, h, nil)
	defer c.Stop(context.Background())

	c.Cast(wsclient.TextFrame("first"))
	c.Cast(wsclient.TextFrame("second"))
	c.Connect()
	if err := c.Send(context.Background(), wsclient.TextFrame("third")); err != nil {
		fmt.Println(err)
	}
	for range 3 {
		fmt.Println(<-h.got)
	}
	// Output:
	// first
	// second
	// third
}

// pinger starts a keepalive from OnConnect and stops after two pongs.
type pinger struct {
	wsclient.BaseHandler
	pongs int
}

func (p *pinger) OnConnect(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
	return wsclient.Keepalive(10 * time.Millisecond)
}

func (p *pinger) HandleFrame(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
	if f.Type == wsclient.PongMessage {
		p.pongs++
		fmt.Println("pong", p.pongs)
		if p.pongs == 2 {
			return wsclient.CloseAndStop(wsclient.CloseNormalClosure, "", nil)
		}
	}
	return wsclient.Action{}
}

// Keepalive started from OnConnect: each pong arrives at HandleFrame.
func ExampleKeepalive() {
	srv := wstest.NewEchoServer()
	defer srv.Close()

	c, _ := wsclient.Start(context.Background(), srv.URL, &pinger{}, nil)
	fmt.Println("Wait:", c.Wait())
	// Output:
	// pong 1
	// pong 2
	// Wait: <nil>
}

// retrier reports the reconnect delays its backoff gives, then stops.
type retrier struct {
	wsclient.BaseHandler
}

func (retrier) Init(*wsclient.Client) (wsclient.InitMode, error) {
	return wsclient.KeepReconnecting, nil
}

func (retrier) OnDisconnect(_ *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	fmt.Println(d.Attempt, d.Backoff)
	if d.Attempt == 4 {
		return wsclient.StopWith(nil)
	}
	return wsclient.ReconnectAfter(d.Backoff)
}

// The reconnect delays of a backoff without jitter, against a server that
// refuses every upgrade.
func ExampleBackoff() {
	srv := wstest.NewServer(nil, wstest.WithStatus(503, "try later"))
	defer srv.Close()

	b := wsclient.Backoff{Initial: time.Millisecond, Max: 4 * time.Millisecond, Multiplier: 2, Jitter: -1}
	c, _ := wsclient.Start(context.Background(), srv.URL, retrier{}, &wsclient.Options{Backoff: b})
	fmt.Println("Wait:", c.Wait())
	// Output:
	// 1 2ms
	// 2 4ms
	// 3 4ms
	// 4 4ms
	// Wait: <nil>
}

// stopper ends the client from HandleFrame, like {close, Payload} from the
// Erlang websocket_handle: no OnDisconnect, no reconnect.
type stopper struct {
	wsclient.BaseHandler
}

func (stopper) Init(*wsclient.Client) (wsclient.InitMode, error) {
	return wsclient.KeepReconnecting, nil
}

func (stopper) OnConnect(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
	return wsclient.Reply(wsclient.TextFrame("ping me back"))
}

func (stopper) HandleFrame(c *wsclient.Client, f wsclient.Frame) wsclient.Action {
	fmt.Printf("received %s %q\n", f.Type, f.Data)
	return wsclient.CloseAndStop(wsclient.CloseNormalClosure, "done", nil)
}

func (stopper) Terminate(c *wsclient.Client, reason error) {
	fmt.Println("terminated:", reason)
}

// CloseAndStop from a callback closes the connection and ends the client,
// even one that keeps reconnecting.
func ExampleCloseAndStop() {
	srv := wstest.NewEchoServer()
	defer srv.Close()

	c, err := wsclient.Start(context.Background(), srv.URL, stopper{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Wait:", c.Wait(), "connects:", c.Stats().Connects)
	// Output:
	// received text "ping me back"
	// terminated: <nil>
	// Wait: <nil> connects: 1
}
