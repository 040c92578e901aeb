package wsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/wsclient/wsclient/internal/deadline"
)

// netConnChunk bounds the messages a NetConn writes: a Write of more bytes
// goes out as several messages of at most this size. 32 KiB is the
// smallest default message limit among common WebSocket servers
// (coder/websocket's read limit is 32768 bytes; Python websockets allows
// 1 MiB, Node ws 100 MiB), so one large Write never trips a peer's limit,
// while the framing costs 14 bytes in 32 KiB.
const netConnChunk = 32 << 10

// netConnBufs holds the chunk buffers of NetConn reads and writes: a
// buffer is held only while an operation is under way.
var netConnBufs = sync.Pool{New: func() any { b := make([]byte, netConnChunk); return &b }}

// NetConn returns a net.Conn that carries a byte stream over c, in
// messages of type typ (TextMessage or BinaryMessage), for code that wants
// a net.Conn: an HTTP client or server, a TLS session, an RPC protocol.
//
// Write sends b as one message, or, if b is over 32 KiB, as messages of 32
// KiB and a rest, so that no peer's message limit is tripped by a large
// Write; Read returns the bytes of consecutive messages as one stream (a
// message of the other type fails the read and closes the connection with
// CloseUnsupportedData). A close frame with CloseNormalClosure or
// CloseGoingAway from the server reads as io.EOF. Close performs the close
// handshake (Conn.Close with CloseNormalClosure); after it, and after a
// failure, c is done. LocalAddr and RemoteAddr are the connection's (see
// Conn.Info). While the net.Conn is used, c must not be read or written
// otherwise; Ping and SetControlHandler are fine.
//
// The deadlines work as on a TCP connection: an operation past its
// deadline returns an error whose Timeout method reports true
// (os.ErrDeadlineExceeded), a deadline may be moved (into the past, to
// interrupt, or later, to extend it) while an operation waits, and a
// timeout leaves the connection usable. To make that possible without
// cutting a frame in half, an operation that must wait for the socket
// runs on a goroutine of its own, which the caller leaves at the deadline:
// a read that timed out goes on waiting for the next message, whose bytes
// the next Read returns; a write goes on with the chunk it was writing (at
// most 32 KiB, copied), which therefore counts as written in the n of a
// Write that timed out. The next operation in that direction waits for it
// first. So no byte is lost, duplicated or reordered by a timeout.
// There is no context: the deadlines and Close are the net.Conn's ways to
// end an operation, and an operation that ends them never ends c.
func NetConn(c *Conn, typ MessageType) net.Conn {
	nc := &netConn{
		c:      c,
		typ:    typ,
		rsem:   make(chan struct{}, 1),
		wsem:   make(chan struct{}, 1),
		closed: make(chan struct{}),
	}
	return nc
}

// netConn is NetConn's net.Conn.
type netConn struct {
	c   *Conn
	typ MessageType

	rsem, wsem chan struct{} // one Read and one Write at a time; waits honour the deadline
	rdl, wdl   deadline.Deadline

	closeOnce sync.Once
	closed    chan struct{} // closed by Close

	// Read side, owned by the holder of rsem; r, by the read operation
	// running (rop.done orders it with the next).
	rop  *netOp
	rerr error     // sticky
	r    io.Reader // the message being read

	// Write side, owned by the holder of wsem.
	wop  *netOp
	werr error // sticky
}

// netOp is one read or write on c, run on a goroutine of its own.
type netOp struct {
	done   chan struct{} // closed when the operation has ended
	buf    *[]byte       // a chunk from netConnBufs
	n, off int           // bytes in buf (read: off of them consumed)
	err    error
}

var errNetConnType = errors.New("wsclient: NetConn: a message of the other type")

// acquire takes sem, waiting at most until the deadline or Close.
func (nc *netConn) acquire(sem chan struct{}, dl *deadline.Deadline) error {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-dl.Wait():
		return os.ErrDeadlineExceeded
	case <-nc.closed:
		return net.ErrClosed
	}
}

// await waits for op, at most until the deadline or Close.
func (nc *netConn) await(op *netOp, dl *deadline.Deadline) error {
	select {
	case <-op.done:
		return nil
	default:
	}
	select {
	case <-op.done:
		return nil
	case <-dl.Wait():
		return os.ErrDeadlineExceeded
	case <-nc.closed:
		return net.ErrClosed
	}
}

// check reports a passed deadline or a Close before an operation starts.
func (nc *netConn) check(dl *deadline.Deadline) error {
	select {
	case <-nc.closed:
		return net.ErrClosed
	case <-dl.Wait():
		return os.ErrDeadlineExceeded
	default:
		return nil
	}
}

func (nc *netConn) Read(b []byte) (int, error) {
	if err := nc.check(&nc.rdl); err != nil {
		return 0, err
	}
	if err := nc.acquire(nc.rsem, &nc.rdl); err != nil {
		return 0, err
	}
	defer func() { <-nc.rsem }()
	for {
		if op := nc.rop; op != nil {
			if err := nc.await(op, &nc.rdl); err != nil {
				return 0, err // op goes on; its bytes are the next Read's
			}
			if op.off < op.n {
				k := copy(b, (*op.buf)[op.off:op.n])
				op.off += k
				if op.off == op.n {
					nc.endRead(op)
				}
				return k, nil
			}
			nc.endRead(op)
		}
		if nc.rerr != nil {
			return 0, nc.rerr
		}
		if len(b) == 0 {
			return 0, nil
		}
		if err := nc.check(&nc.rdl); err != nil {
			return 0, err
		}
		op := &netOp{done: make(chan struct{}), buf: netConnBufs.Get().(*[]byte)}
		nc.rop = op
		go nc.readOp(op, min(len(b), netConnChunk))
	}
}

// endRead retires a read operation whose bytes have all been returned.
func (nc *netConn) endRead(op *netOp) {
	if op.err != nil && nc.rerr == nil {
		nc.rerr = op.err
	}
	netConnBufs.Put(op.buf)
	nc.rop = nil
}

// readOp reads up to max bytes of the stream into op.buf.
func (nc *netConn) readOp(op *netOp, max int) {
	defer close(op.done)
	p := (*op.buf)[:max]
	for {
		if nc.r == nil {
			typ, r, err := nc.c.NextReader(context.Background())
			if err != nil {
				op.err = nc.readErr(err)
				return
			}
			if typ != nc.typ {
				op.err = fmt.Errorf("%w: got %v, want %v", errNetConnType, typ, nc.typ)
				nc.c.Close(CloseUnsupportedData, "unexpected message type")
				return
			}
			nc.r = r
		}
		n, err := nc.r.Read(p)
		if err == io.EOF {
			nc.r = nil
			err = nil
		}
		op.n = n
		if err != nil {
			op.err = nc.readErr(err)
			return
		}
		if n > 0 {
			return
		}
	}
}

// readErr maps the end of the message stream: a normal close is io.EOF.
func (nc *netConn) readErr(err error) error {
	var ce *CloseError
	if errors.As(err, &ce) && (ce.Code == CloseNormalClosure || ce.Code == CloseGoingAway) {
		return io.EOF
	}
	return nc.connErr(err)
}

// connErr reports the Conn's errors after Close as net.ErrClosed.
func (nc *netConn) connErr(err error) error {
	select {
	case <-nc.closed:
		return net.ErrClosed
	default:
		return err
	}
}

func (nc *netConn) Write(b []byte) (int, error) {
	if err := nc.check(&nc.wdl); err != nil {
		return 0, err
	}
	if err := nc.acquire(nc.wsem, &nc.wdl); err != nil {
		return 0, err
	}
	defer func() { <-nc.wsem }()
	n := 0
	for {
		if op := nc.wop; op != nil {
			if err := nc.await(op, &nc.wdl); err != nil {
				return n, err // op goes on; it counts as written
			}
			nc.wop = nil
			netConnBufs.Put(op.buf)
			if op.err != nil && nc.werr == nil {
				nc.werr = op.err
			}
		}
		if nc.werr != nil {
			return n, nc.connErr(nc.werr)
		}
		if n == len(b) {
			return n, nil
		}
		if err := nc.check(&nc.wdl); err != nil {
			return n, err
		}
		op := &netOp{done: make(chan struct{}), buf: netConnBufs.Get().(*[]byte)}
		op.n = copy(*op.buf, b[n:])
		n += op.n
		nc.wop = op
		go nc.writeOp(op)
	}
}

// writeOp writes op's chunk as one message.
func (nc *netConn) writeOp(op *netOp) {
	defer close(op.done)
	op.err = nc.c.WriteMessage(context.Background(), nc.typ, (*op.buf)[:op.n])
}

// Close performs the close handshake. Operations waiting return
// net.ErrClosed; a second Close returns net.ErrClosed.
func (nc *netConn) Close() error {
	err := net.ErrClosed
	nc.closeOnce.Do(func() {
		close(nc.closed)
		err = nc.c.Close(CloseNormalClosure, "")
		var ce *CloseError
		if errors.Is(err, ErrClosed) || errors.As(err, &ce) {
			err = nil // the server closed first, or the handshake was under way
		}
	})
	return err
}

func (nc *netConn) LocalAddr() net.Addr  { return nc.c.localAddr() }
func (nc *netConn) RemoteAddr() net.Addr { return nc.c.remoteAddr() }

func (nc *netConn) SetDeadline(t time.Time) error {
	nc.rdl.Set(t)
	nc.wdl.Set(t)
	return nil
}

func (nc *netConn) SetReadDeadline(t time.Time) error {
	nc.rdl.Set(t)
	return nil
}

func (nc *netConn) SetWriteDeadline(t time.Time) error {
	nc.wdl.Set(t)
	return nil
}
