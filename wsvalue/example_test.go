package wsvalue_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
	"github.com/wsclient/wsclient/wsvalue"
)

type Quote struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
}

// Write sends a value as JSON in a text message; Read decodes the next
// message into a value.
func ExampleRead() {
	srv := wstest.NewEchoServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := wsclient.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()

	if err := wsvalue.Write(ctx, conn, nil, Quote{"ACME", 1.5}); err != nil {
		log.Fatal(err)
	}
	var q Quote
	if err := wsvalue.Read(ctx, conn, nil, &q); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", q)
	// Output: {Symbol:ACME Price:1.5}
}

// Handle gives a Client's handler decoded values; Frame makes the frames
// to send.
func ExampleHandle() {
	srv := wstest.NewEchoServer()
	defer srv.Close()
	got := make(chan Quote, 1)
	h := wsvalue.Handle(nil, wsclient.BaseHandler{}, func(c *wsclient.Client, q Quote, err error) wsclient.Action {
		if err != nil { // it matches wsvalue.ErrDecode
			return wsclient.CloseAndStop(wsclient.CloseInvalidFramePayloadData, "not a quote", err)
		}
		got <- q
		return wsclient.Action{}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsclient.Start(ctx, srv.URL, h, nil)
	if err != nil {
		log.Fatal(err)
	}
	f, err := wsvalue.Frame(nil, Quote{Symbol: "ACME", Price: 2})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Cast(f); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", <-got)
	c.Stop(ctx)
	// Output: {Symbol:ACME Price:2}
}
