package wstest_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// rawDial opens a WebSocket connection by hand: the examples need no client
// library.
func rawDial(url string) (net.Conn, *bufio.Reader, error) {
	addr := strings.TrimPrefix(url, "ws://")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", addr)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	return nc, br, nil
}

// readFrame reads one small unmasked frame (payload under 126 bytes).
func readFrame(br *bufio.Reader) (op wstest.Opcode, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	payload = make([]byte, h[1]&0x7f)
	_, err = io.ReadFull(br, payload)
	return wstest.Opcode(h[0] & 0x0f), payload, err
}

func ExampleNewEchoServer() {
	srv := wstest.NewEchoServer()
	defer srv.Close()

	nc, br, err := rawDial(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	// A client frame is masked.
	msg := wstest.Frame{Fin: true, Opcode: wstest.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Payload: []byte("hello")}
	if _, err := nc.Write(msg.Bytes()); err != nil {
		fmt.Println(err)
		return
	}
	op, payload, err := readFrame(br)
	fmt.Println(op, string(payload), err)
	// Output: text hello <nil>
}

func ExampleNewServer() {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		// Send a message split across TCP writes, then close the connection.
		if err := c.WriteChunked(wstest.Frame{Fin: true, Opcode: wstest.OpText, Payload: []byte("split")}.Bytes(), []int{1, 3}, 0); err != nil {
			return err
		}
		if err := c.Close(4000, "done"); err != nil {
			return err
		}
		code, reason, err := c.ExpectClose()
		if err != nil {
			return err
		}
		fmt.Println("server got close", code, reason)
		return nil
	})
	defer srv.Close()

	nc, br, err := rawDial(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	for {
		op, payload, err := readFrame(br)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("client got %v %q\n", op, payload)
		if op == wstest.OpClose {
			// Answer with the same payload (code 4000, "done").
			reply := wstest.Frame{Fin: true, Opcode: wstest.OpClose, Masked: true, Mask: [4]byte{9, 9, 9, 9}, Payload: payload}
			nc.Write(reply.Bytes())
			break
		}
	}
	<-srv.Conns()[0].Done()
	fmt.Println("frames recorded:", len(srv.Conns()[0].Frames()))
	// Output:
	// client got text "split"
	// client got close "\x0f\xa0done"
	// server got close 4000 done
	// frames recorded: 1
}

func ExampleFrame_Bytes() {
	// An invalid frame for a script to send with WriteRaw: a fragmented ping.
	fmt.Printf("% x\n", wstest.Frame{Opcode: wstest.OpPing, Payload: []byte("p")}.Bytes())
	// A masked frame, as a client sends it.
	fmt.Printf("% x\n", wstest.Frame{Fin: true, Opcode: wstest.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Payload: []byte("hi")}.Bytes())
	// Output:
	// 09 01 70
	// 81 82 01 02 03 04 69 6b
}
