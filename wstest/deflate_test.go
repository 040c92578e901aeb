package wstest

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"testing"
)

func TestDeflateNegotiation(t *testing.T) {
	for _, tc := range []struct {
		offer string
		opt   DeflateOptions
		want  string
	}{
		{"permessage-deflate", DeflateOptions{}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"permessage-deflate; client_max_window_bits", DeflateOptions{ServerContextTakeover: true, ClientContextTakeover: true}, "permessage-deflate"},
		{"permessage-deflate; server_no_context_takeover", DeflateOptions{ServerContextTakeover: true, ClientContextTakeover: true}, "permessage-deflate; server_no_context_takeover"},
		{"permessage-deflate; server_max_window_bits=10", DeflateOptions{ClientContextTakeover: true}, "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
		{`permessage-deflate; client_max_window_bits="12"`, DeflateOptions{ClientMaxWindowBits: 14, ClientContextTakeover: true}, "permessage-deflate; server_no_context_takeover; client_max_window_bits=12"},
		{"permessage-deflate; client_max_window_bits", DeflateOptions{ClientMaxWindowBits: 9, ClientContextTakeover: true}, "permessage-deflate; server_no_context_takeover; client_max_window_bits=9"},
		{"permessage-deflate; unknown, permessage-deflate; server_max_window_bits=15", DeflateOptions{}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15"},
		{"permessage-deflate; server_max_window_bits=7", DeflateOptions{}, ""},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", DeflateOptions{}, ""},
		{"permessage-deflate; client_no_context_takeover=1", DeflateOptions{}, ""},
		{"x-webkit-deflate-frame", DeflateOptions{}, ""},
	} {
		got, d := negotiateDeflate([]string{tc.offer}, tc.opt)
		if got != tc.want || (d != nil) != (tc.want != "") {
			t.Errorf("offer %q %+v: answer %q, want %q", tc.offer, tc.opt, got, tc.want)
		}
	}
}

func TestDeflateEcho(t *testing.T) {
	s := NewEchoServer(WithDeflate(DeflateOptions{})) // an error is expected: no WithT
	defer s.Close()
	c := dial(t, s.URL, "Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
	if got := c.resp.Header.Get("Sec-WebSocket-Extensions"); got != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
		t.Fatalf("extensions %q", got)
	}
	if !oneConn(t, s).Deflate() {
		t.Fatal("Conn.Deflate false")
	}
	big := []byte(strings.Repeat(`{"name":"wstest","value":12345} `, 1<<15)) // 1 MiB
	for _, msg := range [][]byte{[]byte("hello hello hello hello"), {}, big} {
		// Compressed, and fragmented: RSV1 on the first frame only.
		z := deflateMsg(t, msg)
		half := len(z) / 2
		c.write(false, RSV1, OpText, z[:half])
		c.write(true, 0, OpContinuation, z[half:])
		f := c.mustRead()
		if f.RSV != RSV1 || f.Opcode != OpText || !f.Fin {
			t.Fatalf("echo frame rsv=%#x op=%v fin=%v", f.RSV, f.Opcode, f.Fin)
		}
		if len(msg) > 1000 && len(f.Payload) > len(msg)/10 {
			t.Fatalf("echo of %d bytes not compressed: %d", len(msg), len(f.Payload))
		}
		if got := inflateMsg(t, f.Payload); !bytes.Equal(got, msg) {
			t.Fatalf("round trip of %d bytes gave %d bytes", len(msg), len(got))
		}
	}
	// Uncompressed messages are allowed too, and echoed compressed.
	c.write(true, 0, OpBinary, []byte{1, 2, 3})
	if f := c.mustRead(); f.RSV != RSV1 || !bytes.Equal(inflateMsg(t, f.Payload), []byte{1, 2, 3}) {
		t.Fatalf("echo %+v", f)
	}
	// Control frames stay uncompressed.
	c.write(true, 0, OpPing, []byte("p"))
	if f := c.mustRead(); f.RSV != 0 || string(f.Payload) != "p" {
		t.Fatalf("pong %+v", f)
	}
	// Corrupt deflate data closes with 1007.
	c.write(true, RSV1, OpText, []byte{0xff, 0xff, 0xff})
	if f := c.mustRead(); f.Opcode != OpClose || string(f.Payload[:2]) != "\x03\xef" {
		t.Fatalf("got %v %x, want close 1007", f.Opcode, f.Payload)
	}
	waitDone(t, oneConn(t, s))
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "inflating") {
		t.Fatalf("corrupt data reported as %v", err)
	}
}

func TestDeflateNotOffered(t *testing.T) {
	s := NewEchoServer(WithT(t), WithDeflate(DeflateOptions{}))
	c := dial(t, s.URL)
	if c.resp.Header.Get("Sec-WebSocket-Extensions") != "" {
		t.Fatal("extension answered without an offer")
	}
	c.write(true, 0, OpText, []byte("plain"))
	if f := c.mustRead(); f.RSV != 0 || string(f.Payload) != "plain" {
		t.Fatalf("echo %+v", f)
	}
}

func TestDeflateContextTakeover(t *testing.T) {
	s := NewEchoServer(WithT(t), WithDeflate(DeflateOptions{ServerContextTakeover: true, ClientContextTakeover: true}))
	c := dial(t, s.URL, "Sec-WebSocket-Extensions", "permessage-deflate")
	if got := c.resp.Header.Get("Sec-WebSocket-Extensions"); got != "permessage-deflate" {
		t.Fatalf("extensions %q", got)
	}
	// The client keeps its compression context, the server too.
	var zb bytes.Buffer
	zw, _ := flate.NewWriter(&zb, flate.BestCompression)
	var in bytes.Buffer
	zr := flate.NewReader(&in)
	msg := []byte("a message long enough that its repetition compresses to a back reference")
	var sizes []int
	for range 3 {
		zb.Reset()
		_, _ = zw.Write(msg)
		_ = zw.Flush()
		c.write(true, RSV1, OpText, bytes.TrimSuffix(zb.Bytes(), []byte{0, 0, 0xff, 0xff}))
		f := c.mustRead()
		if f.RSV != RSV1 {
			t.Fatal("echo not compressed")
		}
		sizes = append(sizes, len(f.Payload))
		in.Write(f.Payload)
		in.Write([]byte{0, 0, 0xff, 0xff})
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(zr, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("inflate with context: %q %v", got, err)
		}
	}
	if sizes[1] >= sizes[0]/2 {
		t.Fatalf("server did not keep its context: sizes %v", sizes)
	}
}

func TestDeflateSmallServerWindow(t *testing.T) {
	s := NewEchoServer(WithT(t), WithDeflate(DeflateOptions{}))
	c := dial(t, s.URL, "Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=9")
	if got := c.resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasSuffix(got, "server_max_window_bits=9") {
		t.Fatalf("extensions %q", got)
	}
	msg := bytes.Repeat([]byte("0123456789"), 1000)
	c.write(true, 0, OpBinary, msg)
	f := c.mustRead()
	if !bytes.Equal(inflateMsg(t, f.Payload), msg) {
		t.Fatal("round trip")
	}
	// Huffman only: no back references, so the output is not much smaller
	// than 10000 bytes * (about 3.3 bits / 8).
	if len(f.Payload) < 3000 {
		t.Fatalf("%d bytes: back references used despite a 512-byte window", len(f.Payload))
	}
}
