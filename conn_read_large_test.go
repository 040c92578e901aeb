//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
)

// serverFrameHead returns the header of an unmasked server frame.
func serverFrameHead(op frame.Opcode, n int) []byte {
	b := make([]byte, frame.MaxHeaderLen)
	return b[:frame.Put(b, frame.Header{Fin: true, Opcode: op, Length: int64(n)})]
}

// largePayload returns n bytes that differ from one position to the next.
func largePayload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i>>10 ^ i)
	}
	return p
}

// sizeRecorder records, for every Read, the length of its buffer and the
// bytes it returned.
type sizeRecorder struct {
	net.Conn
	mu    sync.Mutex
	sizes [][2]int
}

func (r *sizeRecorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.sizes = append(r.sizes, [2]int{len(p), n})
	r.mu.Unlock()
	return n, err
}

// Once a large frame's header is parsed, AppendMessage reads the payload
// straight into the destination's spare capacity, in reads as large as
// the rest of the frame, never through the small read buffer; a
// destination of the right size is filled in place.
func TestConnReadLargeIntoDestination(t *testing.T) {
	c, s := tcpPair(t)
	rec := &sizeRecorder{Conn: c}
	cfg := connConfig{maxMessage: 64 << 20, fragmentSize: 4096, closeTimeout: time.Second, writeBufSize: defaultWriteBuf}
	conn := newConn(rec, nil, cfg, defaultBufSize)
	t.Cleanup(func() { conn.CloseNow(); s.Close() })

	const size = 6 << 20
	msg := largePayload(size)
	go func() {
		for range 2 {
			s.Write(serverFrameHead(frame.OpBinary, size))
			s.Write(msg)
		}
	}()
	dst := make([]byte, 0, size)
	for i := range 2 {
		rec.mu.Lock()
		rec.sizes = rec.sizes[:0]
		rec.mu.Unlock()
		_, p, err := conn.appendMessage(testCtx(t), dst[:0], false)
		if err != nil || !bytes.Equal(p, msg) {
			t.Fatalf("message %d: %d bytes, %v", i, len(p), err)
		}
		if &p[0] != &dst[:1][0] {
			t.Fatalf("message %d was not read into the destination", i)
		}
		rec.mu.Lock()
		sizes := append([][2]int(nil), rec.sizes...)
		rec.mu.Unlock()
		// Reads into the destination (those offering more than a read
		// buffer holds) offer all the rest of the payload: each offers
		// what the one before offered less what it got. The first of a
		// message may be the read buffer's (it brings the header, unless
		// the previous message's last read did).
		var direct [][2]int
		for _, r := range sizes {
			if r[0] > bigReadBuf {
				direct = append(direct, r)
			}
		}
		if len(direct) == 0 || direct[0][0] < size/2 {
			t.Fatalf("message %d: reads %v, want most of the payload offered at once", i, sizes)
		}
		for j := 1; j < len(direct); j++ {
			if want := direct[j-1][0] - direct[j-1][1]; direct[j][0] != want {
				t.Fatalf("message %d: read offered %d bytes, want the %d left (reads %v)", i, direct[j][0], want, sizes)
			}
		}
	}
}

// While messages of a few KiB stream in, the reader moves to the big read
// buffer and takes many of them per read (a default buffer needs at least
// one read per 4 KiB message); once the socket is drained and the reader
// waits, it holds no buffer, big or small.
func TestConnReadBufferGrowsWhileStreaming(t *testing.T) {
	if readSyscallsNow() < 0 {
		t.Skip("no /proc/self/io")
	}
	conn, s := rawConnPair(t)
	const n, size = 64, 4096
	var burst []byte
	for i := range n {
		p := largePayload(size)
		p[0] = byte(i)
		burst = append(burst, serverFrameHead(frame.OpBinary, size)...)
		burst = append(burst, p...)
	}
	go s.Write(burst) // one write: the messages arrive as fast as the socket allows
	ctx := testCtx(t)
	dst := make([]byte, 0, size)
	r0 := readSyscallsNow()
	r1 := readSyscallsNow()
	for i := range n {
		_, p, err := conn.appendMessage(ctx, dst[:0], false)
		if err != nil || len(p) != size || p[0] != byte(i) {
			t.Fatalf("message %d: %d bytes, %v", i, len(p), err)
		}
	}
	reads := readSyscallsNow() - r1 - (r1 - r0)
	if reads >= n/2 {
		t.Errorf("%d messages of %d bytes took %d read system calls, want far fewer than one each", n, size, reads)
	}
	conn.setReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, _, err := conn.ReadMessage(context.Background()); err == nil {
		t.Fatal("read a message that was never sent")
	}
	conn.readMu.Lock()
	held := conn.rbuf != nil
	conn.readMu.Unlock()
	if held {
		t.Fatal("the waiting reader held a read buffer")
	}
}
