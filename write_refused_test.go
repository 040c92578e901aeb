//go:build !js

package wsclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// A write the server refuses by closing (1009 for a message over its limit,
// then the TCP close) reports the server's close, not the write's
// "connection reset": for Conn.WriteMessage and for Client.Send.
func TestWriteRefusedByCloseReportsTheClose(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithReadLimit(1 << 20))
	defer srv.Close()
	big := make([]byte, 40<<20)
	check := func(what string, err error) {
		t.Helper()
		var ce *wsclient.CloseError
		if !errors.As(err, &ce) || ce.Code != wsclient.CloseMessageTooBig {
			t.Fatalf("%s = %v, want the server's *CloseError 1009", what, err)
		}
	}
	t.Run("Conn", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := wsclient.Dial(ctx, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		read := make(chan error, 1)
		go func() {
			for {
				if _, _, err := conn.ReadMessage(ctx); err != nil {
					read <- err
					return
				}
			}
		}()
		// A Ping's pong is read inside ReadMessage, which goes on reading:
		// once Ping returns, a read is under way (a write fails before the
		// reader's first read otherwise, and nobody would read the close).
		if _, err := conn.Ping(ctx, nil); err != nil {
			t.Fatal(err)
		}
		check("WriteMessage", conn.WriteMessage(ctx, wsclient.BinaryMessage, big))
		check("ReadMessage", <-read)
	})
	t.Run("Client", func(t *testing.T) {
		c, _ := startConnected(t, srv.URL)
		check("Send", c.Send(t.Context(), wsclient.Frame{Type: wsclient.BinaryMessage, Data: big}))
		check("Wait", c.Wait())
	})
}
