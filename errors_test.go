//go:build !js

package wsclient

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// CloseStatus reports the server's close code and -1 for everything else,
// including the codes this side sent.
func TestCloseStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, -1},
		{errors.New("other"), -1},
		{&CloseError{Code: 4001, Reason: "x"}, 4001},
		{&CloseError{Code: CloseNoStatusReceived}, CloseNoStatusReceived},
		{fmt.Errorf("read: %w", &CloseError{Code: 1001}), 1001},
		{protoErr(CloseProtocolError, ErrProtocol, "bad"), -1},
		{&LocalCloseError{Code: 4000}, -1},
		{ErrConnectionLost, -1},
	} {
		if got := closeStatus(tc.err); got != tc.want {
			t.Errorf("CloseStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}

	// And from a real close frame.
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.Close(4321, "done"); err != nil {
			return err
		}
		_, _, err := c.ExpectClose()
		if !gone(err) {
			return err
		}
		return nil
	})
	conn := dialT(t, srv.URL, nil)
	_, err := readUntilErr(t, conn)
	if got := closeStatus(err); got != 4321 {
		t.Fatalf("CloseStatus(%v) = %d, want 4321", err, got)
	}
}

// An invalid close code is ErrInvalidCloseCode from every entry point, and
// nothing is sent.
func TestErrInvalidCloseCode(t *testing.T) {
	conn := dialT(t, newEcho(t).URL, nil)
	for _, code := range []int{0, 999, 1004, 1006, 1015, 2999, 5000} {
		if err := conn.sendClose(code, ""); !errors.Is(err, ErrBadFrame) {
			t.Errorf("SendClose(%d) = %v, want ErrInvalidCloseCode", code, err)
		}
		if err := conn.Close(code, ""); !errors.Is(err, ErrBadFrame) {
			t.Errorf("Close(%d) = %v, want ErrInvalidCloseCode", code, err)
		}
	}
	// The connection is still usable.
	ctx := testCtx(t)
	if err := conn.WriteMessage(ctx, TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.ReadMessage(ctx); err != nil || string(msg) != "still here" {
		t.Fatalf("%q, %v", msg, err)
	}

	c := New("ws://127.0.0.1:1/", &BaseHandler{}, nil)
	if err := c.CloseConn(5000, ""); !errors.Is(err, ErrBadFrame) {
		t.Errorf("Client.CloseConn(5000) = %v, want ErrInvalidCloseCode", err)
	}
}

// The same mistake, a message of the wrong type, is one error from Conn
// and Client.
func TestErrBadFrameType(t *testing.T) {
	conn := dialT(t, newEcho(t).URL, nil)
	ctx := testCtx(t)
	for _, typ := range []MessageType{PingMessage, PongMessage, CloseMessage, 0, 3} {
		if err := conn.WriteMessage(ctx, typ, nil); !errors.Is(err, ErrBadFrame) {
			t.Errorf("WriteMessage(%v) = %v, want ErrBadFrameType", typ, err)
		}
		if _, err := conn.NextWriter(ctx, typ); !errors.Is(err, ErrBadFrame) {
			t.Errorf("NextWriter(%v) = %v, want ErrBadFrameType", typ, err)
		}
	}
	c := New("ws://127.0.0.1:1/", &BaseHandler{}, nil)
	if err := c.Cast(Frame{Type: CloseMessage}); !errors.Is(err, ErrBadFrame) {
		t.Errorf("Client.Cast(close) = %v, want ErrBadFrameType", err)
	}
}

// A server that never answers the close: Close returns ErrCloseTimeout,
// whether Close reads the connection itself or another goroutine does.
func TestErrCloseTimeout(t *testing.T) {
	for _, reader := range []bool{false, true} {
		t.Run(fmt.Sprintf("reader=%v", reader), func(t *testing.T) {
			srv := newServer(t, func(c *wstest.Conn) error {
				c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
				if _, _, err := c.ExpectClose(); err != nil {
					return err
				}
				_, err := c.ReadFrame() // until the client drops TCP
				if !gone(err) {
					return err
				}
				return nil
			})
			conn := dialT(t, srv.URL, &Dialer{CloseTimeout: 200 * time.Millisecond})
			readErr := make(chan error, 1)
			if reader {
				go func() {
					_, err := readUntilErr(t, conn)
					readErr <- err
				}()
			}
			if err := conn.Close(CloseNormalClosure, ""); !errors.Is(err, ErrCloseTimeout) {
				t.Fatalf("Close = %v, want ErrCloseTimeout", err)
			}
			if reader {
				recv(t, readErr)
			}
		})
	}
}

// closeOnConnect closes each connection from OnConnect and reports the
// disconnect reason, then stops the client.
type closeOnConnect struct {
	BaseHandler
	reasons chan error
}

func (h *closeOnConnect) OnConnect(c *Client, _ ConnInfo) Action {
	if err := c.CloseConn(4000, "bye"); err != nil {
		panic(err)
	}
	return Action{}
}

func (h *closeOnConnect) OnDisconnect(_ *Client, d Disconnect) DisconnectAction {
	h.reasons <- d.Reason
	return StopWith(nil)
}

// A Client whose close the server never answers reports a *LocalCloseError
// wrapping ErrCloseTimeout, the same sentinel as Conn.Close.
func TestClientErrCloseTimeout(t *testing.T) {
	srv := newServer(t, func(c *wstest.Conn) error {
		c.NetConn().SetReadDeadline(time.Now().Add(waitLong))
		if _, _, err := c.ExpectClose(); err != nil {
			return err
		}
		_, err := c.ReadFrame() // never answer; until the client drops TCP
		if !gone(err) {
			return err
		}
		return nil
	})
	h := &closeOnConnect{reasons: make(chan error, 1)}
	c, err := Start(testCtx(t), srv.URL, h, &Options{Dialer: &Dialer{Proxy: NoProxy, CloseTimeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	reason := recv(t, h.reasons)
	var lc *LocalCloseError
	if !errors.As(reason, &lc) || lc.Code != 4000 || !errors.Is(reason, ErrCloseTimeout) {
		t.Fatalf("disconnect reason %v, want a *LocalCloseError 4000 matching ErrCloseTimeout", reason)
	}
	if closeStatus(reason) != -1 {
		t.Fatalf("closeStatus(%v) = %d, want -1: the server sent no close", reason, closeStatus(reason))
	}
	if err := c.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
}

// lostErr's error matches ErrConnectionLost and its cause, says both, and
// formats nothing until asked.
func TestLostErr(t *testing.T) {
	cause := &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
	err := lostErr(cause)
	if !errors.Is(err, ErrConnectionLost) || !errors.Is(err, net.ErrClosed) {
		t.Errorf("%v: does not match ErrConnectionLost and net.ErrClosed", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe != cause {
		t.Errorf("%v: errors.As finds %v, want the cause", err, oe)
	}
	if got, want := err.Error(), ErrConnectionLost.Error()+": "+cause.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _ = lostErr(cause) }); n > 1 {
		t.Errorf("lostErr: %v allocations, want 1", n)
	}
	if lostErr(nil) != ErrConnectionLost {
		t.Error("lostErr(nil) is not ErrConnectionLost")
	}
}
