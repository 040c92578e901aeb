// Package wstest provides a scriptable WebSocket server (RFC 6455) for
// tests of WebSocket clients: ours and our users'.
//
// A Server listens on a loopback port (ws:// or, with WithTLS, wss:// with a
// generated certificate), reads the client's opening handshake and answers
// it as its options say: a correct 101 response, a refusal with any status,
// a chosen subprotocol or extension answer (valid or not), a wrong
// Sec-WebSocket-Accept, completely raw bytes, a delay, or extra bytes in the
// same TCP write as the response. It then runs a script on the connection.
// NewEchoServer's script is Conn.Echo, an echo server with optional
// permessage-deflate (RFC 7692).
//
// A script is a func(*Conn) error. Through the Conn it writes anything
// (WriteRaw, WriteFrame, WriteChunked with cuts at any byte), reads and
// checks what the client sends (ReadFrame, ReadMessage, ExpectClose),
// closes with any code, or drops the connection. Every frame the client sent
// is recorded (Conn.Frames), with its mask key, for later assertions. The
// package uses the standard library only, and the server writes unmasked
// frames unless a script deliberately writes something else.
//
// A typical test:
//
//	srv := wstest.NewServer(func(c *wstest.Conn) error {
//		op, msg, err := c.ReadMessage()
//		if err != nil {
//			return err
//		}
//		if op != wstest.OpText || string(msg) != "hello" {
//			return fmt.Errorf("got %v %q", op, msg)
//		}
//		// An invalid frame: a ping with FIN clear.
//		return c.WriteRaw(wstest.Frame{Opcode: wstest.OpPing}.Bytes())
//	}, wstest.WithT(t))
//	// ... dial srv.URL with the client under test, send "hello",
//	// expect a protocol error ...
//
// Errors returned by scripts are collected by Server.Err and, with WithT,
// reported with t.Errorf as they happen. Server.Close (registered with
// t.Cleanup by WithT) closes the listener and every connection and waits for
// all goroutines.
package wstest
