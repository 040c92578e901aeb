//go:build !js

package wsclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// Dial connects to a WebSocket server; here a local echo server from wstest.
func ExampleDial() {
	srv := wstest.NewEchoServer()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := wsclient.Dial(ctx, srv.URL+"/echo", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()

	if err := conn.WriteMessage(ctx, wsclient.TextMessage, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	typ, msg, err := conn.ReadMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v: %s\n", typ, msg)
	fmt.Println(conn.Close(wsclient.CloseNormalClosure, "bye"))
	// Output:
	// text: hello
	// <nil>
}

// A Dialer carries the options: extra headers, Origin, subprotocols, TLS,
// limits and timeouts.
func ExampleDialer() {
	srv := wstest.NewEchoServer(wstest.WithSubprotocols("chat.v2"))
	defer srv.Close()

	d := &wsclient.Dialer{
		Header:           http.Header{"Authorization": {"Bearer example-token"}},
		Origin:           "https://app.example",
		Subprotocols:     []string{"chat.v3", "chat.v2"},
		HandshakeTimeout: 5 * time.Second,
		MaxMessageSize:   1 << 20,
	}
	conn, err := wsclient.Dial(context.Background(), srv.URL+"/chat?room=42", d)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()
	fmt.Println("subprotocol:", conn.Info().Subprotocol)
	fmt.Println("server saw:", srv.Conns()[0].Request().URL)
	// Output:
	// subprotocol: chat.v2
	// server saw: /chat?room=42
}

// WriteMessage sends a whole message in one frame; it is safe to call from
// several goroutines.
func ExampleConn_WriteMessage() {
	srv := wstest.NewEchoServer()
	defer srv.Close()
	ctx := context.Background()
	conn, err := wsclient.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()

	if err := conn.WriteMessage(ctx, wsclient.BinaryMessage, []byte{1, 2, 3}); err != nil {
		log.Fatal(err)
	}
	typ, msg, err := conn.ReadMessage(ctx)
	fmt.Println(typ, msg, err)
	// Output:
	// binary [1 2 3] <nil>
}

// ReadMessage returns messages until the connection ends; a close by the
// server comes back as a *CloseError with its code and reason.
func ExampleConn_ReadMessage() {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		c.WriteMessage(wstest.OpText, []byte("first"))
		c.WriteMessage(wstest.OpText, []byte("second"))
		c.Close(wsclient.CloseGoingAway, "server restarting")
		_, _, err := c.ExpectClose() // the client answers the close
		return err
	})
	defer srv.Close()
	ctx := context.Background()
	conn, err := wsclient.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()

	for {
		_, msg, err := conn.ReadMessage(ctx)
		if err != nil {
			var ce *wsclient.CloseError
			if errors.As(err, &ce) {
				fmt.Println("closed by server:", ce.Code, ce.Reason)
			} else {
				fmt.Println("error:", err)
			}
			return
		}
		fmt.Println("message:", string(msg))
	}
	// Output:
	// message: first
	// message: second
	// closed by server: 1001 server restarting
}

// NextWriter streams a message of unknown length as continuation frames of
// the Dialer's FragmentSize; Close sends the final frame.
func ExampleConn_NextWriter() {
	srv := wstest.NewEchoServer()
	defer srv.Close()
	ctx := context.Background()
	conn, err := wsclient.Dial(ctx, srv.URL, &wsclient.Dialer{FragmentSize: 8})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()

	w, err := conn.NextWriter(ctx, wsclient.TextMessage)
	if err != nil {
		log.Fatal(err)
	}
	for _, part := range []string{"streamed ", "in ", "several ", "writes"} {
		io.WriteString(w, part)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	_, msg, err := conn.ReadMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (%d frames)\n", msg, len(srv.Conns()[0].Frames()))
	// Output:
	// streamed in several writes (4 frames)
}

// Close performs the close handshake and returns nil once the server has
// answered.
func ExampleConn_Close() {
	srv := wstest.NewEchoServer()
	defer srv.Close()
	conn, err := wsclient.Dial(context.Background(), srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("close:", conn.Close(wsclient.CloseNormalClosure, "done"))
	err = conn.WriteMessage(context.Background(), wsclient.TextMessage, []byte("late"))
	fmt.Println("write after close:", errors.Is(err, wsclient.ErrClosed))
	// Output:
	// close: <nil>
	// write after close: true
}

// A refused upgrade is a *HandshakeError with the server's status, headers
// and the start of its body.
func ExampleHandshakeError() {
	srv := wstest.NewServer(nil, wstest.WithStatus(http.StatusForbidden, "no entry\n"))
	defer srv.Close()
	_, err := wsclient.Dial(context.Background(), srv.URL, nil)
	var he *wsclient.HandshakeError
	if errors.As(err, &he) {
		fmt.Printf("%d %q %q\n", he.StatusCode, he.Status, he.Body)
	}
	// Output:
	// 403 "403 Forbidden" "no entry\n"
}

// A *CloseError tells a close by the server, with its code and reason,
// from every other way a connection ends.
func ExampleCloseError() {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		if err := c.WriteMessage(wstest.OpText, []byte("last news")); err != nil {
			return err
		}
		if err := c.Close(4000, "maintenance"); err != nil {
			return err
		}
		_, _, err := c.ExpectClose()
		return err
	})
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := wsclient.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()
	for {
		_, msg, err := conn.ReadMessage(ctx)
		if err != nil {
			var ce *wsclient.CloseError
			if errors.As(err, &ce) {
				fmt.Printf("closed by the server: %d %q\n", ce.Code, ce.Reason)
			}
			break
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// last news
	// closed by the server: 4000 "maintenance"
}

// A redirect answer to the upgrade shows its target in Location; with
// FollowRedirects the Dialer follows it (here from a plain HTTP server to a
// WebSocket server).
func ExampleDialer_FollowRedirects() {
	echo := wstest.NewEchoServer()
	defer echo.Close()
	moved := httptest.NewServer(http.RedirectHandler(echo.URL+"/new", http.StatusMovedPermanently))
	defer moved.Close()
	old := "ws" + strings.TrimPrefix(moved.URL, "http") + "/old"

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := wsclient.Dial(ctx, old, nil)
	var he *wsclient.HandshakeError
	if errors.As(err, &he) {
		fmt.Println(he.StatusCode, he.Location == echo.URL+"/new")
	}

	conn, err := wsclient.Dial(ctx, old, &wsclient.Dialer{FollowRedirects: true})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()
	fmt.Println("connected")
	// Output:
	// 301 true
	// connected
}
