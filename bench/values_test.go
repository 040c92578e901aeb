package bench

import (
	"context"
	"io"
	"testing"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	gorilla "github.com/gorilla/websocket"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
	"github.com/wsclient/wsclient/wsvalue"
)

// Typed messages: one value per message, JSON, against
// coder/websocket's wsjson and gorilla's ReadJSON/WriteJSON, each used as
// its documentation shows. The server side allocates nothing per message
// (it discards what it reads; it writes one prepared block of frames over
// and over), so allocs/op are the client's: the library's and
// encoding/json's. Run: go test -run '^$' -bench Value -benchmem

type quote struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	Size   int     `json:"size"`
}

var quoteJSON = []byte(`{"symbol":"ACME","price":101.25,"size":300}`)

// discardServer reads and drops everything the client sends.
func discardServer(b *testing.B) *wstest.Server {
	s := wstest.NewServer(func(c *wstest.Conn) error {
		io.Copy(io.Discard, c.NetConn())
		return nil
	}, wstest.WithRecordLimit(0))
	b.Cleanup(s.Close)
	return s
}

// quoteServer sends quoteJSON as text messages until the client goes.
func quoteServer(b *testing.B) *wstest.Server {
	var block []byte
	f := wstest.Frame{Fin: true, Opcode: wstest.OpText, Payload: quoteJSON}.Bytes()
	for range 256 {
		block = append(block, f...)
	}
	s := wstest.NewServer(func(c *wstest.Conn) error {
		for {
			if _, err := c.NetConn().Write(block); err != nil {
				return nil
			}
		}
	}, wstest.WithRecordLimit(0))
	b.Cleanup(s.Close)
	return s
}

func BenchmarkValueWrite(b *testing.B) {
	q := &quote{"ACME", 101.25, 300}
	ctx := context.Background()
	b.Run("wsclient", func(b *testing.B) {
		c, err := wsclient.Dial(ctx, discardServer(b).URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		b.ReportAllocs()
		for b.Loop() {
			if err := wsvalue.Write(ctx, c, nil, q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("coder", func(b *testing.B) {
		c, _, err := websocket.Dial(ctx, discardServer(b).URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		b.ReportAllocs()
		for b.Loop() {
			if err := wsjson.Write(ctx, c, q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gorilla", func(b *testing.B) {
		c, _, err := gorilla.DefaultDialer.Dial(discardServer(b).URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		b.ReportAllocs()
		for b.Loop() {
			if err := c.WriteJSON(q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkValueRead(b *testing.B) {
	ctx := context.Background()
	var q quote
	b.Run("wsclient", func(b *testing.B) {
		c, err := wsclient.Dial(ctx, quoteServer(b).URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		b.ReportAllocs()
		for b.Loop() {
			if err := wsvalue.Read(ctx, c, nil, &q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("coder", func(b *testing.B) {
		c, _, err := websocket.Dial(ctx, quoteServer(b).URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		b.ReportAllocs()
		for b.Loop() {
			if err := wsjson.Read(ctx, c, &q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gorilla", func(b *testing.B) {
		c, _, err := gorilla.DefaultDialer.Dial(quoteServer(b).URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		b.ReportAllocs()
		for b.Loop() {
			if err := c.ReadJSON(&q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// protoCodec is a wsvalue.Codec for protocol buffers, in binary
// messages: the shape of any non-JSON codec (CBOR, msgpack) a user brings.
type protoCodec struct{}

func (protoCodec) Encode(buf []byte, v any) ([]byte, wsclient.MessageType, error) {
	b, err := proto.MarshalOptions{}.MarshalAppend(buf, v.(proto.Message))
	return b, wsclient.BinaryMessage, err
}

func (protoCodec) Decode(data []byte, v any) error {
	return proto.Unmarshal(data, v.(proto.Message))
}

// A protobuf codec carries values through an echo server: wsvalue.Write and
// wsvalue.Read with a codec from outside the standard library.
func TestProtoCodec(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	defer srv.Close()
	ctx := context.Background()
	c, err := wsclient.Dial(ctx, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := wsvalue.Write(ctx, c, protoCodec{}, wrapperspb.String("hello, proto")); err != nil {
		t.Fatal(err)
	}
	got := new(wrapperspb.StringValue)
	if err := wsvalue.Read(ctx, c, protoCodec{}, got); err != nil || got.GetValue() != "hello, proto" {
		t.Fatalf("Read: %v, %v", got, err)
	}
	c.Close(wsclient.CloseNormalClosure, "")
}
