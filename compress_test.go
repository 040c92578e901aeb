//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/wstest"
)

func TestCompressionEchoWithWstest(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithDeflate(wstest.DeflateOptions{}))
	defer srv.Close()
	ctx := t.Context()
	d := &Dialer{Compression: &CompressionOptions{Threshold: -1}}
	c, err := Dial(ctx, srv.URL, d)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if !strings.Contains(c.Info().Extensions, "permessage-deflate") {
		t.Fatalf("not negotiated: %q", c.Info().Extensions)
	}
	for _, n := range []int{0, 1, 200, 70000, 1 << 20} {
		msg := bytes.Repeat([]byte(`{"k":"value"}`), n/13+1)[:n]
		if err := c.WriteMessage(ctx, TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.ReadMessage(ctx)
		if err != nil || typ != TextMessage || !bytes.Equal(got, msg) {
			t.Fatalf("n=%d: typ %v err %v equal %v", n, typ, err, bytes.Equal(got, msg))
		}
	}
	// A streamed compressed message.
	w, err := c.NextWriter(ctx, BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("stream "), 5000)
	for i := 0; i < len(want); i += 1000 {
		w.Write(want[i:min(i+1000, len(want))])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, r, err := c.NextReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("stream echo: %v", err)
	}
	// The client's frames carried RSV1 on the first frame only.
	sc := srv.Conns()[0]
	var sawRSV1 bool
	for _, f := range sc.Frames() {
		if f.RSV&frame.RSV1 != 0 {
			sawRSV1 = true
			if f.Opcode == 0 {
				t.Fatal("RSV1 on a continuation frame")
			}
		}
	}
	if !sawRSV1 {
		t.Fatal("no compressed frame sent")
	}
	if err := c.Close(CloseNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

func TestDecompressionBombClosesWith1009(t *testing.T) {
	payload := deflateBomb() // 64 MiB of zeros in a few tens of KiB
	codes := make(chan int, 1)
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		if err := sc.WriteFrame(true, frame.RSV1, wstest.Opcode(frame.OpBinary), payload); err != nil {
			return err
		}
		code, _, err := sc.ExpectClose()
		codes <- code
		return err
	}, wstest.WithT(t), wstest.WithExtensions("permessage-deflate"))
	defer srv.Close()
	d := &Dialer{Compression: &CompressionOptions{}, MaxMessageSize: 1 << 20}
	c, err := Dial(t.Context(), srv.URL, d)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, _, err = c.ReadMessage(context.Background())
	if !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("got %v, want ErrMessageTooBig", err)
	}
	if code := <-codes; code != CloseMessageTooBig {
		t.Fatalf("server saw close %d, want 1009", code)
	}
}
