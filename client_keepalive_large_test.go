package wsclient_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// A large message that arrives fast and then slows down is a live
// connection: bytes the kernel holds for a read that waits for more of
// the frame (the Conn raises the socket's receive low-water mark for large
// payloads) count for the keepalive as bytes read do. The message spends
// several keepalive windows in that state.
func TestClientKeepaliveLargeSlowMessage(t *testing.T) {
	const interval, maxMissed = 100 * time.Millisecond, 3
	msg := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16) // 4 MiB
	srv := wstest.NewServer(func(sc *wstest.Conn) error {
		raw := wstest.Frame{Fin: true, Opcode: wstest.OpBinary, Payload: msg}.Bytes()
		// The header and 1 MiB at once, then 64 KiB every 40 ms: about
		// 1.9 s, with 1 MiB arriving each 640 ms, over 6 intervals.
		if err := sc.WriteRaw(raw[:1<<20]); err != nil {
			return nil
		}
		if err := sc.WriteChunked(raw[1<<20:], []int{64 << 10}, 40*time.Millisecond); err != nil {
			return nil
		}
		for { // read, never answer a ping
			if _, err := sc.ReadFrame(); err != nil {
				return nil
			}
		}
	}, wstest.WithT(t), wstest.WithRecordLimit(0))
	h := newTH()
	start(t, srv.URL, h, &wsclient.Options{Keepalive: interval, KeepaliveMissed: maxMissed, Dialer: &wsclient.Dialer{MaxMessageSize: 8 << 20}})
	h.expect(t, "init")
	h.expect(t, "connect")
	e := h.next(t)
	if e.kind != "frame" || !bytes.Equal(e.f.Data, msg) {
		t.Fatalf("callback %s (%v), want the 4 MiB message", e.kind, e.err)
	}
}
