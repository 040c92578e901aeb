//go:build !js

package wsclient_test

import (
	"strings"
	"testing"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/examples/sample/handler"
	"github.com/wsclient/wsclient/wstest"
)

// The Erlang sample, against a local echo server: four messages, a close,
// a normal termination.
func TestClientSample(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	var out syncBuffer
	c := start(t, srv.URL, &handler.Handler{Out: &out})
	if err := waitDone(t, c); err != nil {
		t.Fatalf("Wait = %v, want nil", err)
	}
	want := `Received msg "message 1"
Received msg "hello, this is message #2"
Received msg "hello, this is message #3"
Received msg "hello, this is message #4"
Websocket closed in state 5 with reason normal
`
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	st := c.Stats()
	if st.MessagesIn != 4 || st.MessagesOut != 4 || st.Connects != 1 {
		t.Fatalf("stats %+v", st)
	}
	if c.State() != wsclient.Terminated {
		t.Fatalf("state %v", c.State())
	}
	// The server saw the close with the handler's code and reason.
	frames := srv.Conns()[0].Frames()
	last := frames[len(frames)-1]
	if last.Opcode != wstest.OpClose || !strings.Contains(string(last.Payload), "done") {
		t.Fatalf("last frame %v %q", last.Opcode, last.Payload)
	}
}
