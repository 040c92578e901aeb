//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/protocol"
)

// handleControl reads the payload of the control frame ev announced, hands
// it to the engine and acts on it: a ping is answered, a close ends the
// read side after echoing it.
func (c *Conn) handleControl(ev protocol.Event) error {
	n := int(ev.Length)
	if err := c.fill(n); err != nil {
		return err
	}
	p := c.ctlBuf[:n]
	copy(p, c.rbuf[c.rr:c.rr+n])
	c.rr += n
	typ := MessageType(ev.Opcode)
	if ev.Opcode != frame.OpClose {
		if _, _, err := c.proto.Control(p); err != nil {
			return c.failProto(err)
		}
		if ev.Opcode == frame.OpPing {
			// Answer first, then show the ping: the handler sees it ponged.
			c.queuePong(p)
		} else {
			c.pingWaits.pong(p)
		}
		c.controlHandler(typ, p)
		return nil
	}
	c.controlHandler(typ, p)
	code, reason, err := c.proto.Control(p)
	if err != nil {
		// A bad close payload, including a reason that is not UTF-8, is a
		// protocol error (1002).
		return c.failProto(err)
	}
	ce := &CloseError{Code: code, Reason: reason}
	// Known now, before the echo: a writer that fails meanwhile (the
	// server closes the TCP connection after its close frame) reports it.
	c.setPeerClose(ce)
	// Echo the close, unless ours went out already. A writer stuck on a
	// peer that does not read holds the lock: wait for it only so long
	// (awaitTCPClose closes the socket, which unblocks it).
	if c.wmu.lockTimeout(c.cfg.closeTimeout) {
		reply, ok := c.proto.CloseReply() // !ok: ours went out first
		if c.trace != nil {
			c.traceCloseReceived(code, reason, c.proto.StartedClose())
		}
		if ok && c.werr == nil {
			c.nc.SetWriteDeadline(time.Now().Add(c.cfg.closeTimeout))
			c.writeCloseLocked(reply, "")
		}
		c.unlockWrite()
	} else if c.trace != nil {
		c.traceCloseReceived(code, reason, false)
	}
	c.rerr = ce
	c.awaitTCPClose()
	c.endClose()
	return ce
}

// controlHandler calls the application's control handler, if any.
func (c *Conn) controlHandler(typ MessageType, p []byte) {
	if f := c.onCtl.Load(); f != nil {
		(*f)(typ, p)
	}
}

// queuePong arranges for a pong with payload p to be sent. The reader never
// waits for the write lock (a writer may be stuck on a peer that does not
// read, and that peer may wait for our pong): the pong goes out now if the
// lock is free, otherwise the writer holding it sends it after its frame.
// Only the latest ping is answered when several arrive meanwhile, as RFC
// 6455 section 5.5.3 allows. A pong the reader writes itself is bounded by
// the close timeout and by the read's context: a peer that floods pings and
// never reads cannot hold the reader in a socket write.
func (c *Conn) queuePong(p []byte) {
	c.pongMu.Lock()
	c.pongLen = uint8(copy(c.pong[:], p))
	c.pongMu.Unlock()
	c.pongPending.Store(true)
	if c.wmu.tryLock() {
		c.sendPendingPongLocked(true)
		c.unlockWrite()
	}
}

// unlockWrite releases the write lock after sending any pong queued by the
// reader while the lock was held.
func (c *Conn) unlockWrite() {
	for {
		if c.pongPending.Load() {
			c.sendPendingPongLocked(false)
		}
		c.wmu.unlock()
		if !c.pongPending.Load() || !c.wmu.tryLock() {
			return
		}
	}
}

// sendPendingPongLocked writes the pending pong, if any, under wmu. The
// write gets a deadline of its own (the close timeout, or the user's write
// deadline if sooner), put back afterwards; byReader marks the reading
// goroutine, whose context also cuts the write short.
func (c *Conn) sendPendingPongLocked(byReader bool) {
	if !c.pongPending.Swap(false) {
		return
	}
	var p [frame.MaxControlPayload]byte
	c.pongMu.Lock()
	n := copy(p[:], c.pong[:c.pongLen])
	c.pongMu.Unlock()
	if c.proto.CheckFrame(true, 0, frame.OpPong, int64(n)) != nil || c.werr != nil {
		return // after our close frame, no pong
	}
	c.stream.BeginBoundedWrite(c.cfg.closeTimeout, byReader)
	err := c.writeFrameLocked(true, 0, frame.OpPong, p[:n])
	if c.stream.EndBoundedWrite(err, byReader) {
		// The connection is closed: the reader's next read fails on the
		// closed socket, and says why with this (see readEnded).
		c.pongBlocked.Store(true)
	}
}

// errConnType is the ErrBadFrame error of a Conn message of another type.
var errConnType = fmt.Errorf("%w: Conn writes TextMessage or BinaryMessage messages (Ping and Close have their methods)", ErrBadFrame)

// errPongBlocked is the cause of a connection dropped because an automatic
// pong could not be written in time: the server sent pings but did not
// read what this side sent, so the socket stayed full. It comes wrapped
// with ErrConnectionLost: the reader's next read fails on the socket the
// failed write closed, which alone would say only "use of closed network
// connection".
var errPongBlocked = errors.New("the automatic pong could not be written within the close timeout (or the write deadline): the server is not reading; connection dropped")

// writeControl writes a ping or pong frame; the engine refuses a payload
// over 125 bytes (errControlTooLong).
func (c *Conn) writeControl(ctx context.Context, op frame.Opcode, payload []byte) error {
	return c.writeData(ctx, true, 0, op, payload)
}

// pingWaiters are PingWait's callers waiting for their pongs, in the order
// they registered.
type pingWaiters struct {
	mu  sync.Mutex
	seq uint64
	w   []*pingWaiter
}

type pingWaiter struct {
	payload []byte
	done    chan struct{}
}

// pong completes the waiter whose payload p is, and those registered
// before it (a peer may answer only the latest of several pings).
func (pw *pingWaiters) pong(p []byte) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	for i, w := range pw.w {
		if bytes.Equal(w.payload, p) {
			for _, d := range pw.w[:i+1] {
				close(d.done)
			}
			pw.w = slices.Delete(pw.w, 0, i+1)
			return
		}
	}
}

func (pw *pingWaiters) remove(w *pingWaiter) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if i := slices.Index(pw.w, w); i >= 0 {
		pw.w = slices.Delete(pw.w, i, i+1)
	}
}

// Ping sends a ping and waits for the pong that answers it, and returns
// the round trip. As the peer answers a ping only after reading everything
// sent before it, a nil error confirms that the peer has read every frame
// written before the ping. A nil payload is replaced by a sequence number
// of the Conn's; a payload (at most 125 bytes) should be unique among
// pings outstanding (a pong also completes the waits of pings registered
// before it).
//
// Pongs are seen only while another goroutine reads from the Conn
// (ReadMessage, NextReader): when ctx ends before the pong arrived, the
// error wraps ctx's error and says whether anyone read meanwhile. It
// returns the write's error when the ping cannot be sent.
func (c *Conn) Ping(ctx context.Context, payload []byte) (time.Duration, error) {
	if len(payload) > frame.MaxControlPayload {
		return 0, errControlTooLong
	}
	w := &pingWaiter{done: make(chan struct{})}
	c.pingWaits.mu.Lock()
	if payload == nil {
		c.pingWaits.seq++
		payload = binary.BigEndian.AppendUint64([]byte("wsclient"), c.pingWaits.seq)
	}
	w.payload = bytes.Clone(payload)
	c.pingWaits.w = append(c.pingWaits.w, w)
	c.pingWaits.mu.Unlock()
	start := time.Now()
	if err := c.writeControl(ctx, frame.OpPing, w.payload); err != nil {
		c.pingWaits.remove(w)
		return 0, err
	}
	if c.trace != nil {
		c.trace.tracePing()
	}
	select {
	case <-w.done:
		rtt := time.Since(start)
		if c.trace != nil {
			c.trace.tracePong(rtt)
		}
		return rtt, nil
	case <-ctx.Done():
		c.pingWaits.remove(w)
		if !c.reading() {
			return 0, fmt.Errorf("wsclient: no pong seen: no goroutine was reading the connection (pongs arrive through ReadMessage or NextReader): %w", ctx.Err())
		}
		return 0, fmt.Errorf("wsclient: no pong seen before the context ended: %w", ctx.Err())
	case <-c.closeDone():
		c.pingWaits.remove(w)
		return 0, ErrClosed
	}
}
