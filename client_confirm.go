package wsclient

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Delivery confirmation (Options.Confirm). A server answers a ping only
// after it has read every frame sent before it, so the pong for a ping
// confirms every frame written before that ping. The client's confirmation
// pings carry a payload no user ping is taken for: a random nonce of the
// client and a sequence number. A server may answer only the latest of
// several pings, so a pong confirms by the highest sequence it carries.
//
// Written text and binary frames are kept, in order, each tagged with the
// sequence of the first confirmation ping written after it, until a pong
// with at least that sequence arrives. A confirmation ping goes out with
// each keepalive ping, and earlier when no confirmation ping is in flight
// and the kept frames pass a quarter of the retention bound, or a
// confirming Send waits; frames kept longer than confirmAge get theirs in
// the next write of other frames (piggybackLocked), or in a write of its
// own after confirmAlone (a timer armed when the first frame is kept) if
// nothing else is written. At the bound the writer stops
// taking data frames from the outbox (Send waits) and Cast returns
// ErrOutboxFull, until a pong frees room.
//
// A confirmation ping also goes just before the client's close frame
// when frames were written since the last one (closePingLocked): its pong,
// which a server sends before it answers the close, confirms them. The
// server's close frame is not taken for a confirmation (see
// WithConfirmation).
//
// When the connection ends, the frames still kept are handed back in
// order with ErrUnconfirmed, or, with Options.Redelivery, put back at the head
// of the outbox for the next connection.
//
// A server that answers pings with another payload (an empty one, as
// lxzan/gws's default handler does) never confirms anything. Such a server
// shows itself by a stray pong: one that answers none of the client's
// pings (not a confirmation pong, and not counted against a user ping)
// while a confirmation ping is unanswered. A stray pong alone proves
// nothing (RFC 6455 allows unsolicited pongs, and a slow server may send
// one before it reads the ping), so the client waits: when the oldest
// unanswered confirmation ping is still unanswered confirmTimeout(cc)
// after it was written and a stray pong came since, the client gives
// confirmation up on that connection. The kept frames go back with an
// error matching ErrUnconfirmed and errPongMismatch; the frames written
// after that on the connection are counted (Stats.Unconfirmable), not
// kept: the client works on as one without confirmation, and a new
// connection tries again. A confirmation ping unanswered for
// cfg.confirmNoPong (noPongTimeout, or the stray deadline if longer)
// without any stray pong gives confirmation up the same way, with
// errNoPong: a server that answers no pings must not stall the client at
// the retention bound.

// confirmPayloadLen is the length of a confirmation ping's payload: the
// nonce, then the sequence (big-endian).
const confirmPayloadLen = 16

// confirmAge is how long a written frame may wait unconfirmed before a
// confirmation ping goes out for it with the next frames written
// (piggybackLocked); confirmAlone is how long before one is written on its
// own, when nothing else is. Each confirmation ping costs the server a
// pong and the client a read of it (a wake-up of its reader, as a
// message's): at one a second, a connection of request/response traffic
// pays it once per many round trips (at 100 ms, 1,000 such connections
// spent 22% more CPU per message than without confirmation). Frames that
// fill a quarter of the retention bound, or a waiting Send, get their
// ping at once.
const (
	confirmAge   = time.Second
	confirmAlone = 2 * confirmAge
)

// defaultConfirmTimeout is how long a confirmation ping may stay
// unanswered after a stray pong, on a connection without keepalive; with
// keepalive it is interval × maxMissed. Without a stray pong, the client
// waits noPongTimeout (or that, if longer) before it gives confirmation up
// on the connection (errNoPong).
const (
	defaultConfirmTimeout = 2 * time.Second
	noPongTimeout         = 20 * time.Second
)

var (
	// errPongMismatch says that the server answers pings without echoing
	// their payload (RFC 6455 section 5.5.3 requires it to; lxzan/gws's
	// default ping handler sends empty pongs), so that delivery cannot be
	// confirmed on the connection. It comes wrapped with ErrUnconfirmed to
	// OnUndelivered and Send for the frames written on such a connection;
	// Stats.PongMismatches counts such connections.
	errPongMismatch = errors.New("wsclient: server answers pings without echoing the payload: delivery cannot be confirmed")

	errUnconfirmedMismatch error = &unconfirmedError{cause: errPongMismatch}

	// errNoPong says that the server answered no confirmation ping for
	// noPongTimeout (or the keepalive's bound, if longer) while the
	// connection lived on: it does not answer pings, or reads
	// far slower than the client writes. Confirmation is given up on the
	// connection as for errPongMismatch, so that such a server does not
	// stall a confirming client at the retention bound.
	errNoPong = errors.New("wsclient: server answers no pings: delivery cannot be confirmed")

	errUnconfirmedNoPong error = &unconfirmedError{cause: errNoPong}
)

// unconfirmedError is ErrUnconfirmed with the reason no pong confirmed
// the frame.
type unconfirmedError struct{ cause error }

func (e *unconfirmedError) Error() string {
	return ErrUnconfirmed.Error() + " (" + strings.TrimPrefix(e.cause.Error(), "wsclient: ") + ")"
}

func (e *unconfirmedError) Unwrap() []error { return []error{ErrUnconfirmed, e.cause} }

// confirmWait is a confirming Send's wait for the fate of its frame. Whoever
// swaps gone first owns it: the settler then sends the result on ch, the
// waiter (whose context ended) leaves the frame to the usual reports.
type confirmWait struct {
	ch   chan error
	gone atomic.Bool
	ref  *outItem // the kept item holding Send's f.Data by reference (guarded by the outbox's mutex)
}

// confirmer is the outbox's confirmation state, guarded by the outbox's
// mutex (counters are atomic for Stats).
type confirmer struct {
	limit     int
	redeliver bool
	nonce     [8]byte

	seq    uint64    // the last confirmation ping taken for writing
	acked  uint64    // the highest sequence ponged
	sent   uint64    // the last confirmation ping taken, for the RTT
	sentAt time.Time // when
	conf   bool      // the pending ping (outbox.ping) is a confirmation ping

	cc    *clientConn // the connection the kept frames were written on
	kept  keptList
	bytes int
	waits int         // kept frames a a confirming Send waits for
	since time.Time   // when the oldest kept frame was written (roughly)
	age   *time.Timer // pings for kept frames older than confirmAlone; the stray deadline

	// lateMark holds the place, in the outbox, of frames a writer wrote on
	// a connection that ended before it kept them (see confirmEnd).
	lateMark *outItem

	waitSince time.Time     // when the oldest unanswered confirmation ping was taken
	stray     bool          // a stray pong came while a confirmation ping was unanswered
	userOut   int           // user pings written and not yet answered (as far as known)
	timeout   time.Duration // the stray deadline without keepalive
	kaTimeout time.Duration // the stray deadline on kaConn, set by its keepalive
	kaConn    *clientConn
	off       *clientConn // the connection on which confirmation was given up
	offErr    error       // why: errUnconfirmedMismatch or errUnconfirmedNoPong

	confirmed, redelivered, unconfirmable, mismatches atomic.Uint64
	unconfirmed                                       atomic.Int64
	rtt                                               atomic.Int64
}

// confirmOn reports whether delivery confirmation is on (Options.Confirm).
func (ob *outbox) confirmOn() bool { return ob.cfg.confirmBytes > 0 }

// confirmerLocked returns the confirmation state, made at the first need
// of it (a frame to keep, a user ping to count, a keepalive): a client
// that has written nothing carries none of it. It starts as attach leaves
// it for the attached connection, if any. Only with confirmation on.
func (ob *outbox) confirmerLocked() *confirmer {
	if ob.cf != nil {
		return ob.cf
	}
	cf := new(confirmer)
	cf.limit = ob.cfg.confirmBytes
	cf.redeliver = ob.cfg.redeliver
	cf.timeout = defaultConfirmTimeout
	// The nonce tells the client's pings from the user's, no secret: the
	// runtime's generator, not a getrandom call per client.
	binary.LittleEndian.PutUint64(cf.nonce[:], rand.Uint64())
	cf.cc = ob.cc
	ob.cf = cf
	return cf
}

// confirmer returns the confirmation state, nil if there is none yet.
func (ob *outbox) confirmer() *confirmer {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	return ob.cf
}

// lateMarkOrNil returns the place marker of frames kept late, if any.
func (cf *confirmer) lateMarkOrNil() *outItem {
	if cf == nil {
		return nil
	}
	return cf.lateMark
}

// fullLocked reports whether the kept frames fill the retention bound.
func (cf *confirmer) fullLocked() bool { return cf != nil && cf.bytes >= cf.limit }

// wantPingLocked asks for a confirmation ping unless one is in flight or a
// ping is pending already.
func (ob *outbox) wantPingLocked() {
	cf := ob.cf
	if cf == nil || ob.ping || cf.seq > cf.acked || ob.cc == nil || ob.cc != cf.cc {
		return
	}
	ob.ping, cf.conf = true, true
}

// closePingLocked reports whether a confirmation ping must go out before
// the close frame of cc, and if so makes the pending ping one: frames kept
// for cc were written after the last confirmation ping taken. (A server's
// close frame confirms nothing by itself; see WithConfirmation.)
func (ob *outbox) closePingLocked(cc *clientConn) bool {
	cf := ob.cf
	if cf == nil || cf.cc != cc || cf.kept.empty() || cf.kept.lastTag() <= cf.seq {
		return false
	}
	cf.conf = true
	return true
}

// queueConfirmPing asks for a keepalive ping on cc: a confirmation ping
// when confirmation is on.
func (ob *outbox) queueConfirmPing(cc *clientConn) bool {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.cc != cc || cc == nil {
		return false
	}
	ob.ping = true
	if ob.cf != nil {
		ob.cf.conf = ob.cf.cc == cc
	}
	return true
}

// setConfirmTimeout sets the stray deadline on cc from its keepalive
// (interval × maxMissed; 0: keepalive off).
func (ob *outbox) setConfirmTimeout(cc *clientConn, d time.Duration) {
	if !ob.confirmOn() {
		return
	}
	ob.mu.Lock()
	if ob.cf != nil || d > 0 {
		cf := ob.confirmerLocked()
		cf.kaConn, cf.kaTimeout = cc, d
	}
	ob.mu.Unlock()
}

// deadlineLocked is how long a confirmation ping may stay unanswered after
// a stray pong on cc.
func (cf *confirmer) deadlineLocked(cc *clientConn) time.Duration {
	if cf.kaConn == cc && cf.kaTimeout > 0 {
		return cf.kaTimeout
	}
	return cf.timeout
}

// takePingLocked fills b's ping: a confirmation ping gets the next
// sequence.
func (ob *outbox) takePingLocked(b *batch) {
	if ob.cfg.trace != nil {
		ob.cfg.trace.tracePing()
	}
	cf := ob.cf
	if cf == nil || !cf.conf {
		b.pingLen = 0 // a keepalive ping: no payload
		return
	}
	cf.conf = false
	if cf.seq == cf.acked {
		cf.waitSince = time.Now()
	}
	cf.seq++
	cf.sent, cf.sentAt = cf.seq, time.Now()
	copy(b.pingBuf[:], cf.nonce[:])
	binary.BigEndian.PutUint64(b.pingBuf[8:], cf.seq)
	b.pingLen = confirmPayloadLen
}

// attachConfirm starts keeping frames written on cc.
func (ob *outbox) attachConfirmLocked(cc *clientConn) {
	cf := ob.cf
	if cf == nil {
		return
	}
	cf.cc = cc
	cf.acked = cf.seq
	cf.conf = false
	cf.stray, cf.userOut, cf.off = false, 0, nil
}

// keep takes written data frames, in order, into the confirmation list (cc
// is the connection they were written on, tag the sequence of the first
// confirmation ping written after them). A Send learns its frame was
// written; the list keeps a confirming Send's frame by reference (its
// caller may not touch f.Data before Send returns, and Send waits for the
// frame's fate: see sendConfirmed for when it leaves first), and a copy of
// any other Send's. items is the caller's to reuse.
func (c *Client) keep(cc *clientConn, items []*outItem, tag uint64) {
	ob := &c.ob
	ob.mu.Lock()
	cf := ob.confirmerLocked()
	if cf.off == cc || cf.cc != cc {
		ob.mu.Unlock()
		for i, it := range items {
			if it.done != nil {
				r := copyItem(it.f)
				r.cw, it.cw = it.cw, nil
				it.done <- nil
				items[i] = r
			}
		}
		if cf.off == cc {
			// Confirmation was given up on this connection.
			cf.unconfirmable.Add(uint64(len(items)))
			for _, it := range items {
				c.unconfirmed(it, true, cf.offErr, false)
			}
			return
		}
		// The connection ended before the frames were kept.
		cf.unconfirmed.Add(int64(len(items)))
		c.handBack(cc, slices.Clone(items), true)
		return
	}
	if cf.kept.empty() {
		cf.since = time.Now()
		cf.armLocked(c, confirmAlone)
	}
	waits := 0
	var free []*outItem // items whose payload the list copied
	for _, it := range items {
		if it.done != nil {
			var r *outItem
			if it.cw != nil {
				r = itemPool.Get().(*outItem)
				r.f = it.f
				r.cw, it.cw = it.cw, nil
				r.cw.ref = r
			} else {
				r = copyItem(it.f)
			}
			it.done <- nil // buffered; Send clears it.taken
			it = r
		}
		if it.cw != nil {
			waits++
		}
		cf.bytes += len(it.f.Data)
		if !cf.kept.push(it, tag) {
			free = append(items[:len(free)], it) // items[i] is read before: len(free) <= i
		}
	}
	cf.waits += waits
	cf.unconfirmed.Add(int64(len(items)))
	if waits > 0 || cf.bytes >= cf.limit/4 {
		ob.wantPingLocked()
	}
	ob.mu.Unlock()
	for _, it := range free {
		freeItem(it)
	}
}

// piggybackLocked puts a confirmation ping ahead of b's frames, in the same
// write, when frames kept for cc have waited confirmAge and no confirmation
// ping is in flight: frames that flow carry their confirmation pings
// instead of a write of their own each (the age timer writes one alone
// only after confirmAlone without a write). The ping confirms the frames
// kept, not b's, which the next one will.
func (ob *outbox) piggybackLocked(cc *clientConn, b *batch) {
	cf := ob.cf
	if cf == nil || cf.cc != cc || cf.seq > cf.acked || cf.kept.empty() || time.Since(cf.since) < confirmAge {
		return
	}
	cf.conf = true
	b.ping = true
	ob.takePingLocked(b)
	b.tag = cf.seq + 1
}

// ownLocked gives kept items that hold a confirming Send's data by
// reference a copy of their own: their Send returns (or they leave the list
// unconfirmed, to be reported or sent again, perhaps after it returned).
func ownLocked(items []*outItem) {
	for _, it := range items {
		if it.cw == nil || it.cw.ref != it {
			continue
		}
		it.cw.ref = nil
		if n := len(it.f.Data); n > maxPooledData {
			it.bigp = bigBufCopy(it.f.Data)
			it.f.Data = (*it.bigp)[:n]
		} else {
			it.buf = append(it.buf[:0], it.f.Data...)
			it.f.Data = it.buf
		}
	}
}

// armLocked (re)arms the timer of confirmAgeTick to fire after d.
func (cf *confirmer) armLocked(c *Client, d time.Duration) {
	if cf.age == nil {
		cf.age = time.AfterFunc(d, c.confirmAgeTick)
	} else {
		cf.age.Reset(d)
	}
}

// confirmAgeTick asks for a confirmation ping when frames are still kept
// confirmAlone after the first of them, and gives confirmation up on the
// connection when the stray deadline has passed, or, without a stray
// pong, noPongTimeout.
func (c *Client) confirmAgeTick() {
	ob := &c.ob
	ob.mu.Lock()
	cf := ob.cf
	if cf.cc == nil {
		ob.mu.Unlock()
		return
	}
	if cf.seq > cf.acked {
		// A confirmation ping is unanswered: after a stray pong, for the
		// stray deadline; without one, for noPongTimeout (or the stray
		// deadline if longer).
		bound, why := cf.deadlineLocked(cf.cc), errUnconfirmedMismatch
		if !cf.stray {
			bound, why = max(bound, ob.cfg.confirmNoPong), errUnconfirmedNoPong
		}
		if left := bound - time.Since(cf.waitSince); left > 0 {
			cf.armLocked(c, left)
		} else {
			c.giveUpLocked(why)
			return
		}
	}
	if cf.kept.empty() {
		ob.mu.Unlock()
		return
	}
	ob.wantPingLocked()
	ob.mu.Unlock()
	c.kick()
}

// giveUpLocked gives confirmation up on the current connection, whose
// server answers pings with other payloads or not at all (why says which):
// the kept frames are reported with why, later ones are not kept. It
// unlocks the outbox.
func (c *Client) giveUpLocked(why error) {
	ob := &c.ob
	cf := ob.cf
	cc := cf.cc
	items := cf.kept.takeAll()
	ownLocked(items)
	cf.bytes, cf.waits, cf.cc, cf.off = 0, 0, nil, cc
	cf.stray, cf.conf, cf.offErr = false, false, why
	cf.age.Stop()
	ob.drainedLocked()
	ob.mu.Unlock()
	cf.mismatches.Add(1)
	cf.unconfirmed.Add(-int64(len(items)))
	c.log(slog.LevelWarn, why.(*unconfirmedError).cause.Error()+"; delivery confirmation off on this connection",
		"unconfirmed", len(items))
	for _, it := range items {
		c.unconfirmed(it, true, why, true)
	}
	// Frames may wait at the retention bound, which no longer holds.
	c.kick()
}

// confirmPong handles a pong read on cc: a confirmation pong confirms the
// frames kept with tags up to its sequence; any other pong may be a stray
// one.
func (c *Client) confirmPong(cc *clientConn, p []byte) {
	ob := &c.ob
	ob.mu.Lock()
	cf := ob.cf
	if cf == nil {
		ob.mu.Unlock()
		return // nothing kept, no confirmation ping sent yet
	}
	if len(p) != confirmPayloadLen || [8]byte(p[:8]) != cf.nonce {
		ob.mu.Unlock()
		c.otherPong(cc)
		return
	}
	seq := binary.BigEndian.Uint64(p[8:])
	if cf.cc != cc || seq <= cf.acked || seq > cf.seq {
		ob.mu.Unlock()
		return
	}
	cf.acked = seq
	cf.stray = false
	if seq == cf.sent {
		cf.rtt.Store(int64(time.Since(cf.sentAt)))
		if ob.cfg.trace != nil {
			ob.cfg.trace.tracePong(time.Duration(cf.rtt.Load()))
		}
	}
	if seq < cf.seq {
		cf.waitSince = time.Now() // roughly: the next one is answered in time
	}
	n, bytes, done := cf.kept.popUpTo(seq, nil)
	cf.bytes -= bytes
	ob.drainedLocked()
	for _, it := range done {
		if it.cw != nil {
			cf.waits--
			if it.cw.ref == it {
				it.cw.ref = nil // confirmed: its data is not read again
			}
		}
	}
	if !cf.kept.empty() {
		// The frames written since the ping: pinging for them at once would
		// make a ping (and a write) per round trip while frames flow. Ping
		// now only when they are many or awaited, otherwise with a write
		// after confirmAge, or alone after confirmAlone.
		cf.since = time.Now()
		if cf.waits > 0 || cf.bytes >= cf.limit/4 {
			ob.wantPingLocked()
		}
		// The alone ping, or the no-pong deadline of the one just asked.
		cf.armLocked(c, confirmAlone)
	}
	ob.mu.Unlock()
	cf.unconfirmed.Add(-int64(n))
	cf.confirmed.Add(uint64(n))
	if ob.cfg.trace != nil {
		traceFrames(ob.cfg.trace.FramesConfirmed, n)
	}
	for _, it := range done {
		if it.cw != nil && it.cw.gone.CompareAndSwap(false, true) {
			it.cw.ch <- nil
		}
		freeItem(it)
	}
	// Frames may wait for the room this made, and the next confirmation
	// ping may be due: nothing else would wake the writer (a client without
	// keepalive has no other timer).
	c.kick()
}

// otherPong handles a pong on cc that is no confirmation pong: the answer
// to a user ping, or a stray pong, which starts the stray deadline when a
// confirmation ping is unanswered.
func (c *Client) otherPong(cc *clientConn) {
	ob := &c.ob
	ob.mu.Lock()
	defer ob.mu.Unlock()
	cf := ob.cf
	switch {
	case cf.cc != cc:
	case cf.userOut > 0:
		cf.userOut--
	case cf.seq > cf.acked && !cf.stray:
		cf.stray = true
		cf.armLocked(c, max(cf.deadlineLocked(cc)-time.Since(cf.waitSince), 0))
	}
}

// confirmEnd hands back the frames kept for cc, whose connection has
// ended. It runs on the machine.
func (c *Client) confirmEnd(cc *clientConn) {
	ob := &c.ob
	ob.mu.Lock()
	cf := ob.cf
	if cf != nil && cf.kaConn == cc {
		cf.kaConn = nil
	}
	if cf == nil || cf.cc != cc {
		ob.mu.Unlock()
		return
	}
	items := cf.kept.takeAll()
	ownLocked(items)
	cf.bytes, cf.waits, cf.cc = 0, 0, nil
	cf.stray = false
	if cf.age != nil {
		cf.age.Stop()
	}
	ob.drainedLocked()
	if cf.redeliver && ob.busy && !ob.closed {
		// The writer may have frames written on cc that it has not kept
		// yet; it keeps them late (keep finds cf.cc != cc). They were
		// written after the frames handed back here and before those
		// never written: a marker holds their place, a close marker of
		// the ended connection, which writers skip.
		cf.lateMark = &outItem{closeOn: cc}
		ob.q = slices.Insert(ob.q, ob.head, cf.lateMark)
	}
	ob.mu.Unlock()
	c.handBack(cc, items, false)
}

// handBack deals with frames written on cc but unconfirmed when it ended:
// sent again (Options.Redelivery) or reported with ErrUnconfirmed, in order.
// late is set for frames the writer kept after the end (not on the
// machine: reports go through the mailbox, after confirmEnd's).
func (c *Client) handBack(cc *clientConn, items []*outItem, late bool) {
	if len(items) == 0 {
		return
	}
	c.ob.cf.unconfirmed.Add(-int64(len(items)))
	if c.ob.cfg.trace != nil {
		traceFrames(c.ob.cfg.trace.FramesUnconfirmed, len(items))
	}
	if c.ob.cf.redeliver && c.ob.reopen(cc, items, late) {
		return // counted as redelivered when written again (finishBatch)
	}
	for _, it := range items {
		c.unconfirmed(it, late, ErrUnconfirmed, true)
	}
}

// unconfirmed reports one frame written but not confirmed, with err (an
// ErrUnconfirmed): to a Send that waits for it, otherwise to
// OnUndelivered when report is set (async when not on the machine).
func (c *Client) unconfirmed(it *outItem, async bool, err error, report bool) {
	switch {
	case it.cw != nil && it.cw.gone.CompareAndSwap(false, true):
		it.cw.ch <- err
		freeItem(it)
	case !report:
		freeItem(it)
	case async:
		_ = c.mail.put(c, event{kind: evUndelivered, f: it.f, err: err})
	default:
		c.undelivered(it.f, err)
		handOver(it) // the handler may keep f.Data
	}
}

// reopen puts frames written on cc but unconfirmed back into the outbox,
// to be sent again, or returns false when the outbox is closed. Those
// handed back when cc ends go to the head; those the writer kept late go
// where confirmEnd's marker holds their place (the head if it is gone).
func (ob *outbox) reopen(cc *clientConn, items []*outItem, late bool) bool {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.closed {
		return false
	}
	for _, it := range items {
		it.again, it.taken, it.counted = true, false, false
	}
	at := ob.head
	if m := ob.cf.lateMark; late && m != nil && m.closeOn == cc {
		if i := slices.Index(ob.q[ob.head:], m); i >= 0 {
			at += i
		}
	}
	ob.q = slices.Insert(ob.q, at, items...)
	return true
}

// leftover reports a frame left in the outbox when the run ends: one sent
// before (redelivery) may have arrived.
func (c *Client) leftover(it *outItem) {
	if it.again {
		c.unconfirmed(it, false, ErrUnconfirmed, true)
		return
	}
	if it.cw != nil && it.cw.gone.CompareAndSwap(false, true) {
		it.cw.ch <- ErrClosed
		return
	}
	c.undelivered(it.f, ErrClosed)
}

// sendConfirmed is Send with delivery confirmation on: it sends f, then
// waits until the server is known to have read it. The frame may be kept
// by reference (see keep): when Send returns before its fate is settled
// (ctx ended), the kept frame gets its own copy first, under the outbox's
// lock.
func (c *Client) sendConfirmed(ctx context.Context, f Frame) error {
	cw := confirmWaitPool.Get().(*confirmWait)
	if err := c.send(ctx, f, cw); err != nil {
		// ctx ended during the write, which may have completed: the frame
		// is kept then, no longer the caller's, and its fate goes to
		// OnUndelivered (Send does not wait for it).
		c.ob.mu.Lock()
		cw.gone.Store(true)
		if cw.ref != nil {
			ownLocked([]*outItem{cw.ref})
		}
		c.ob.mu.Unlock()
		return err
	}
	select {
	case err := <-cw.ch:
		cw.free()
		return err
	case <-ctx.Done():
		c.ob.mu.Lock()
		left := cw.gone.CompareAndSwap(false, true)
		if left && cw.ref != nil {
			ownLocked([]*outItem{cw.ref})
		}
		c.ob.mu.Unlock()
		if left {
			return ctx.Err()
		}
		err := <-cw.ch
		cw.free()
		return err
	}
}

// confirmWaitPool recycles the waits of confirming Sends that got their
// result: a steady stream of Sends does not allocate.
var confirmWaitPool = sync.Pool{New: func() any { return &confirmWait{ch: make(chan error, 1)} }}

// free recycles cw once its Send has received the result: the settler that
// sent it is done with cw (the kept item no longer refers to it by ref,
// cleared under the outbox's lock before the result is sent). A wait whose
// Send left first is not recycled: a settler may still use it.
func (cw *confirmWait) free() {
	cw.gone.Store(false)
	cw.ref = nil
	confirmWaitPool.Put(cw)
}
