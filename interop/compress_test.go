package interop

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/test/peertest"
)

// dialCompressed dials with d, which offers permessage-deflate to a server
// configured to accept it, and fails the test unless it was negotiated.
func dialCompressed(t *testing.T, ctx context.Context, d *wsclient.Dialer, url string) *wsclient.Conn {
	t.Helper()
	c := dial(t, ctx, d, url)
	if c.Info().Extensions == "" {
		t.Fatalf("Dial(%s): permessage-deflate not negotiated with a server configured to accept it (response header %q)",
			url, c.Info().Header.Values("Sec-WebSocket-Extensions"))
	}
	return c
}

// compressCase is one permessage-deflate configuration of a server and of
// the client's offer, with the parameters the server must answer.
type compressCase struct {
	name   string
	node   *peertest.DeflateOptions // nil: python
	client wsclient.CompressionOptions
	// want are the parameters the answer must carry; maybe those it may
	// carry.
	want, maybe []string
	// serverTakeover: the server keeps its context between messages with a
	// full window, so a repeated message must shrink on the wire.
	serverTakeover bool
	// serverNoTakeover: the server resets after every message, so a
	// repeated message must not shrink.
	serverNoTakeover bool
	// full: echo every size in echoSizes; other cases stop at 64 KiB
	// (plus the 1 MiB compressible message) to keep the suite fast under
	// -race.
	full bool
	// fullWindowClient: the client may use a 32 KiB window, so its
	// compressible 1 MiB message must shrink more than Huffman-only can.
	fullWindowClient bool
}

func nodeCompressCases() []compressCase {
	cases := []compressCase{
		{name: "default", node: &peertest.DeflateOptions{}, serverTakeover: true, full: true},
		{name: "client-threshold-neg1-level9", node: &peertest.DeflateOptions{}, client: wsclient.CompressionOptions{Threshold: -1, Level: 9}, serverTakeover: true},
		{name: "client-huffman-only", node: &peertest.DeflateOptions{}, client: wsclient.CompressionOptions{Threshold: -1, Level: -2}, serverTakeover: true},
		{name: "server-no-takeover", node: &peertest.DeflateOptions{ServerNoContextTakeover: true},
			want: []string{"server_no_context_takeover"}, serverNoTakeover: true},
		{name: "client-no-takeover", node: &peertest.DeflateOptions{ClientNoContextTakeover: true},
			want: []string{"client_no_context_takeover"}, serverTakeover: true},
		{name: "both-no-takeover-win9", node: &peertest.DeflateOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 9},
			want: []string{"server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits=9", "client_max_window_bits=9"}, serverNoTakeover: true, full: true},
		{name: "offer-server-no-takeover", node: &peertest.DeflateOptions{}, client: wsclient.CompressionOptions{ServerNoContextTakeover: true},
			want: []string{"server_no_context_takeover"}, serverNoTakeover: true},
		{name: "offer-client-no-takeover", node: &peertest.DeflateOptions{}, client: wsclient.CompressionOptions{ClientNoContextTakeover: true},
			want: []string{"client_no_context_takeover"}, serverTakeover: true},
		{name: "offer-server-window10", node: &peertest.DeflateOptions{}, client: wsclient.CompressionOptions{ServerMaxWindowBits: 10},
			want: []string{"server_max_window_bits=10"}},
		{name: "offer-client-window10", node: &peertest.DeflateOptions{}, client: wsclient.CompressionOptions{ClientMaxWindowBits: 10},
			want: []string{"client_max_window_bits=10"}, serverTakeover: true},
	}
	for bits := 9; bits <= 15; bits++ {
		cases = append(cases, compressCase{
			name: fmt.Sprintf("server-window%d", bits), node: &peertest.DeflateOptions{ServerMaxWindowBits: bits},
			want: []string{fmt.Sprintf("server_max_window_bits=%d", bits)}, serverTakeover: bits == 15,
		})
	}
	for bits := 8; bits <= 15; bits++ {
		cases = append(cases, compressCase{
			name: fmt.Sprintf("client-window%d", bits), node: &peertest.DeflateOptions{ClientMaxWindowBits: bits},
			want: []string{fmt.Sprintf("client_max_window_bits=%d", bits)}, serverTakeover: true,
		})
	}
	return cases
}

func pythonCompressCases() []compressCase {
	// websockets' defaults: server_max_window_bits=12, and
	// client_max_window_bits=12 when the offer has that parameter (ours
	// does by default).
	return []compressCase{
		{name: "default", want: []string{"server_max_window_bits=12", "client_max_window_bits=12"}, full: true},
		{name: "offer-server-no-takeover", client: wsclient.CompressionOptions{ServerNoContextTakeover: true},
			want: []string{"server_max_window_bits=12", "client_max_window_bits=12", "server_no_context_takeover"}, serverNoTakeover: true},
		{name: "offer-client-no-takeover", client: wsclient.CompressionOptions{ClientNoContextTakeover: true},
			want: []string{"server_max_window_bits=12", "client_max_window_bits=12"}, maybe: []string{"client_no_context_takeover"}},
		{name: "offer-server-window10", client: wsclient.CompressionOptions{ServerMaxWindowBits: 10},
			want: []string{"server_max_window_bits=10", "client_max_window_bits=12"}},
		{name: "offer-client-window11", client: wsclient.CompressionOptions{ClientMaxWindowBits: 11},
			want: []string{"server_max_window_bits=12", "client_max_window_bits=11"}},
		// Without client_max_window_bits in the offer the server cannot
		// shrink the client's window: the client compresses with LZ77.
		{name: "no-client-window-param", client: wsclient.CompressionOptions{ClientMaxWindowBits: -1},
			want: []string{"server_max_window_bits=12"}, fullWindowClient: true},
	}
}

// TestCompression runs every compression case against its server.
func TestCompression(t *testing.T) {
	t.Run("node-ws", func(t *testing.T) {
		for _, cc := range nodeCompressCases() {
			t.Run(cc.name, func(t *testing.T) {
				p := peertest.NodeWS(t, peertest.NodeOptions{Deflate: cc.node})
				runCompressCase(t, cc, p)
			})
		}
	})
	t.Run("python-websockets", func(t *testing.T) {
		p := peertest.PythonWS(t, peertest.PythonOptions{})
		for _, cc := range pythonCompressCases() {
			t.Run(cc.name, func(t *testing.T) { runCompressCase(t, cc, p) })
		}
	})
}

// runCompressCase checks negotiation, echo of every size and type, that
// both sides really compress (bytes on the wire), and the server's context
// takeover as it shows on the wire.
func runCompressCase(t *testing.T, cc compressCase, p *peertest.Peer) {
	ctx := ctxFor(t)
	target := "/deflate/" + cc.name
	var w wire
	d := newDialer()
	d.NetDialContext = w.dialFunc()
	opts := cc.client
	d.Compression = &opts
	c := dialCompressed(t, ctx, d, p.URL+target)

	// Negotiation: what Conn reports, what the server says it answered,
	// and what the case expects.
	name, params := extParams(c.Info().Extensions)
	if name != "permessage-deflate" {
		t.Fatalf("Extensions() = %q, want permessage-deflate", c.Info().Extensions)
	}
	if got := strings.Join(c.Info().Header.Values("Sec-WebSocket-Extensions"), ", "); got != c.Info().Extensions {
		t.Errorf("Extensions() = %q, response header %q", c.Info().Extensions, got)
	}
	// ws reports only the extension's name; websockets the whole answer.
	ev := waitConnectEvent(t, p, target)
	if sname, sparams := extParams(ev.Extensions); sname != name || (len(sparams) > 0 && !maps.Equal(sparams, params)) {
		t.Fatalf("Extensions() = %q but %s answered %q", c.Info().Extensions, p.Name, ev.Extensions)
	}
	for _, k := range cc.want {
		if !params[k] {
			t.Errorf("answer %q lacks %s", c.Info().Extensions, k)
		}
	}
	for k := range params {
		if !slices.Contains(cc.want, k) && !slices.Contains(cc.maybe, k) {
			t.Errorf("answer %q has unexpected %s", c.Info().Extensions, k)
		}
	}
	t.Logf("negotiated %q", c.Info().Extensions)

	// Echo of every size, random and compressible, text and binary, on one
	// connection (context takeover carries state from message to message).
	for _, n := range echoSizes {
		if n > 65536 && !cc.full {
			continue
		}
		for _, typ := range []wsclient.MessageType{wsclient.TextMessage, wsclient.BinaryMessage} {
			echo(t, ctx, c, typ, payload(typ, n, uint64(n)+3))
			echo(t, ctx, c, typ, compressiblePayload(n))
		}
	}

	// Both directions compress: 1 MiB of compressible text.
	big := compressiblePayload(1 << 20)
	r0, w0 := w.snapshot()
	echo(t, ctx, c, wsclient.TextMessage, big)
	r1, w1 := w.snapshot()
	t.Logf("1 MiB compressible: %d bytes written, %d read", w1-w0, r1-r0)
	if w1-w0 > int64(len(big))*8/10 {
		t.Errorf("wrote %d bytes on the wire for a %d-byte compressible message: the client did not compress", w1-w0, len(big))
	}
	if cc.fullWindowClient && w1-w0 > int64(len(big))/4 {
		t.Errorf("wrote %d bytes for a %d-byte compressible message with a full client window: Huffman-only?", w1-w0, len(big))
	}
	if r1-r0 > int64(len(big))/4 {
		t.Errorf("read %d bytes on the wire for a %d-byte compressible message: the server did not compress", r1-r0, len(big))
	}

	// The server's context takeover, as seen on the wire: the same 16 KiB
	// message twice.
	rep := []byte(hex.EncodeToString(binaryPayload(8<<10, 99)))
	var sizes [2]int64
	for i := range sizes {
		r0, _ := w.snapshot()
		echo(t, ctx, c, wsclient.TextMessage, rep)
		r1, _ := w.snapshot()
		sizes[i] = r1 - r0
	}
	t.Logf("16 KiB hex message twice: read %d then %d bytes", sizes[0], sizes[1])
	if cc.serverTakeover && sizes[1] > sizes[0]/4 {
		t.Errorf("with server context takeover the repeated message took %d bytes after %d", sizes[1], sizes[0])
	}
	if cc.serverNoTakeover && sizes[1] < sizes[0]*8/10 {
		t.Errorf("with server_no_context_takeover the repeated message took %d bytes after %d", sizes[1], sizes[0])
	}
	closeClean(t, c, p, target)
}

// TestCompressionStreamingAndOptOut streams compressed messages with
// NextWriter and small fragments, and turns compression off and on per
// message with SetCompression.
func TestCompressionStreamingAndOptOut(t *testing.T) {
	starts := []struct {
		name  string
		start func(t *testing.T) *peertest.Peer
	}{
		{"node-ws", func(t *testing.T) *peertest.Peer {
			return peertest.NodeWS(t, peertest.NodeOptions{Deflate: &peertest.DeflateOptions{}})
		}},
		{"python-websockets", func(t *testing.T) *peertest.Peer { return peertest.PythonWS(t, peertest.PythonOptions{}) }},
	}
	for _, st := range starts {
		t.Run(st.name, func(t *testing.T) {
			p := st.start(t)
			ctx := ctxFor(t)
			const target = "/deflate-stream"
			var w wire
			d := newDialer()
			d.NetDialContext = w.dialFunc()
			d.FragmentSize = 1000
			d.Compression = &wsclient.CompressionOptions{}
			c := dialCompressed(t, ctx, d, p.URL+target)

			msg := compressiblePayload(300_000)
			for _, chunk := range []int{1, 777, 65536} {
				_, w0 := w.snapshot()
				wr, err := c.NextWriter(ctx, wsclient.BinaryMessage)
				if err != nil {
					t.Fatal(err)
				}
				for rest := msg; len(rest) > 0; {
					k := min(chunk, len(rest))
					if _, err := wr.Write(rest[:k]); err != nil {
						t.Fatalf("Write: %v", err)
					}
					rest = rest[k:]
					if chunk == 1 && len(rest) < len(msg)-5000 {
						// Byte by byte is slow: finish in one write.
						if _, err := wr.Write(rest); err != nil {
							t.Fatalf("Write: %v", err)
						}
						break
					}
				}
				if err := wr.Close(); err != nil {
					t.Fatalf("writer Close: %v", err)
				}
				_, w1 := w.snapshot()
				typ, got, err := c.ReadMessage(ctx)
				if err != nil {
					t.Fatalf("chunk %d: ReadMessage: %v", chunk, err)
				}
				if typ != wsclient.BinaryMessage {
					t.Fatalf("type %v", typ)
				}
				checkSame(t, fmt.Sprintf("streamed compressed echo (chunk %d)", chunk), got, msg)
				t.Logf("chunk %d: streamed %d bytes as %d on the wire", chunk, len(msg), w1-w0)
				if w1-w0 > int64(len(msg))*8/10 {
					t.Errorf("chunk %d: streamed %d compressible bytes as %d on the wire: not compressed", chunk, len(msg), w1-w0)
				}
			}
			waitMessageEvent(t, p, target, true, len(msg))

			closeClean(t, c, p, target)
		})
	}
}

// TestCompressionBomb has the server echo a message that inflates past
// MaxMessageSize: the client must stop with ErrMessageTooBig and close
// 1009, while the compressed message on the wire is small.
func TestCompressionBomb(t *testing.T) {
	starts := []struct {
		name  string
		start func(t *testing.T) *peertest.Peer
	}{
		{"node-ws", func(t *testing.T) *peertest.Peer {
			return peertest.NodeWS(t, peertest.NodeOptions{Deflate: &peertest.DeflateOptions{}})
		}},
		{"python-websockets", func(t *testing.T) *peertest.Peer { return peertest.PythonWS(t, peertest.PythonOptions{}) }},
	}
	for _, st := range starts {
		t.Run(st.name, func(t *testing.T) {
			p := st.start(t)
			ctx := ctxFor(t)
			const target = "/bomb"
			d := newDialer()
			d.MaxMessageSize = 64 << 10
			d.Compression = &wsclient.CompressionOptions{}
			c := dialCompressed(t, ctx, d, p.URL+target)
			echo(t, ctx, c, wsclient.BinaryMessage, compressiblePayload(64<<10)) // at the limit
			if err := c.WriteMessage(ctx, wsclient.BinaryMessage, make([]byte, 4<<20)); err != nil {
				t.Fatalf("WriteMessage: %v", err)
			}
			_, _, err := c.ReadMessage(ctx)
			if !errors.Is(err, wsclient.ErrMessageTooBig) {
				t.Fatalf("ReadMessage of a 4 MiB echo with a 64 KiB limit: %v, want ErrMessageTooBig", err)
			}
			if ev := waitCloseEvent(t, p, target); ev.Code != wsclient.CloseMessageTooBig {
				t.Fatalf("%s saw close code %d, want 1009", p.Name, ev.Code)
			}
		})
	}
}

// TestCompressionDeclined offers permessage-deflate to servers that do not
// do it: the connection goes on uncompressed.
func TestCompressionDeclined(t *testing.T) {
	starts := []struct {
		name  string
		start func(t *testing.T) *peertest.Peer
	}{
		{"node-ws", func(t *testing.T) *peertest.Peer { return peertest.NodeWS(t, peertest.NodeOptions{}) }},
		{"python-websockets", func(t *testing.T) *peertest.Peer {
			return peertest.PythonWS(t, peertest.PythonOptions{NoCompression: true})
		}},
	}
	for _, st := range starts {
		t.Run(st.name, func(t *testing.T) {
			p := st.start(t)
			ctx := ctxFor(t)
			const target = "/declined"
			var w wire
			d := newDialer()
			d.NetDialContext = w.dialFunc()
			d.Compression = &wsclient.CompressionOptions{}
			c := dial(t, ctx, d, p.URL+target)
			if c.Info().Extensions != "" {
				t.Fatalf("Extensions() = %q from a server without compression", c.Info().Extensions)
			}
			if ev := waitConnectEvent(t, p, target); ev.Extensions != "" {
				t.Fatalf("%s answered extensions %q", p.Name, ev.Extensions)
			}
			msg := compressiblePayload(100_000)
			_, w0 := w.snapshot()
			echo(t, ctx, c, wsclient.TextMessage, msg)
			if _, w1 := w.snapshot(); w1-w0 < int64(len(msg)) {
				t.Fatalf("sent %d bytes as %d on the wire without negotiated compression", len(msg), w1-w0)
			}
			closeClean(t, c, p, target)
		})
	}
}

// TestCompressionTLS runs compressed messages through nginx (wss://).
func TestCompressionTLS(t *testing.T) {
	node := peertest.NodeWS(t, peertest.NodeOptions{Deflate: &peertest.DeflateOptions{ServerMaxWindowBits: 11}})
	tp := peertest.TLSProxy(t, node.URL)
	ctx := ctxFor(t)
	d := newDialer()
	d.TLSConfig = tp.TLSConfig()
	d.Compression = &wsclient.CompressionOptions{}
	const target = "/deflate-tls"
	c := dialCompressed(t, ctx, d, tp.URL+target)
	if _, params := extParams(c.Info().Extensions); !params["server_max_window_bits=11"] {
		t.Fatalf("Extensions() = %q through nginx", c.Info().Extensions)
	}
	for _, n := range echoSizes {
		echo(t, ctx, c, wsclient.TextMessage, compressiblePayload(n))
		echo(t, ctx, c, wsclient.BinaryMessage, binaryPayload(n, 5))
	}
	closeClean(t, c, node, target)
}
