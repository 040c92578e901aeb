package wsclient

import (
	"context"
	"slices"
	"sync"

	"github.com/wsclient/wsclient/internal/frame"
)

// The outbox: frames waiting to be written, in order, and the writer's
// part. Whoever holds the writer token drains the outbox to the current
// connection: a goroutine that queued a frame (Cast, a callback's reply, a
// keepalive ping) takes it for one write attempt that does not wait, a
// Send's goroutine takes it and waits for its own frame, and what the
// socket does not take at once goes to a writer goroutine that exists only
// until the outbox is empty. Several waiting frames are masked into one
// buffer and written with one system call.
//
// The writer's bookkeeping keeps the frames of a write together (a batch,
// in order) until the write has ended; a later version may keep written
// frames until a pong confirms them.

// outItem is a frame in the outbox, or a close marker.
type outItem struct {
	f       Frame
	buf     []byte          // the client's copy of a small cast or replied frame
	bigp    *[]byte         // the copy of a large one (bigBufCopy)
	ctx     context.Context // Send's
	done    chan error      // Send's (pooled with the item); nil otherwise
	counted bool            // counts against the outbox bound
	taken   bool            // a writer has it
	cw      *confirmWait    // a confirming Send's
	again   bool            // written before, being redelivered
	reply   bool            // a callback's reply, waiting (see outbox.replies)
	cancel  bool            // Send withdrew it
	failed  transport       // a Send's connection, when its write failed

	closeOn *clientConn // a close marker: close closeOn with code and reason
	code    int
	reason  string
}

// itemPool recycles the items of cast and replied frames with their copies
// of the data, so that a steady stream of Casts does not allocate.
var itemPool = sync.Pool{New: func() any { return new(outItem) }}

// sendPool recycles Send's items with their result channels.
var sendPool = sync.Pool{New: func() any { return &outItem{done: make(chan error, 1)} }}

// maxPooledData bounds the data buffer an item keeps when recycled; larger
// copies come from the big-buffer pools.
const maxPooledData = bigMin

// copyItem returns a pooled item holding a copy of f. A copy larger than
// an item keeps goes into a buffer from the big-buffer pools, so that a
// stream of large Casts reuses its buffers instead of allocating (and
// faulting in) a fresh one per message.
func copyItem(f Frame) *outItem {
	it := itemPool.Get().(*outItem)
	var data []byte
	if n := len(f.Data); n > maxPooledData {
		it.bigp = bigBufCopy(f.Data)
		data = (*it.bigp)[:n]
	} else {
		it.buf = append(it.buf[:0], f.Data...)
		data = it.buf
	}
	it.f = Frame{Type: f.Type, Data: data}
	return it
}

// freeItem recycles an item of copyItem once its data is no longer used.
func freeItem(it *outItem) {
	buf := it.buf[:0]
	if cap(buf) > maxPooledData {
		buf = nil
	}
	if it.bigp != nil {
		bigBufPut(it.bigp)
	}
	*it = outItem{buf: buf}
	itemPool.Put(it)
}

// handOver recycles an item whose data now belongs to someone else (a
// frame given to OnUndelivered may be kept): the item goes back to its
// pool without its buffers.
func handOver(it *outItem) {
	it.buf, it.bigp = nil, nil
	freeItem(it)
}

// Batches: at most batchBytes of frames (headers included) are masked into
// one buffer, the Conn's large write buffer, so that a batch written by an
// attempt that does not wait fits in it; a frame over bigFrame is written
// on its own, straight from its data, by a writer that may wait.
const (
	batchBytes = largeWriteBuf
	bigFrame   = 16 << 10
	batchItems = 256
)

type outbox struct {
	mu    sync.Mutex
	cond  sync.Cond // signals the release of the writer token
	q     []*outItem
	head  int
	count int // items counted against the bound
	limit int
	bytes int           // payload bytes of the counted items (client_flow.go)
	cfg   *clientConfig // the byte bound, its low-water signal, the Trace
	cc    *clientConn
	stall chan struct{} // closed when cc is detached (see pushSend)

	cf *confirmer // delivery confirmation (client_confirm.go); nil when off or not needed yet

	closed bool // the run has ended: refuse frames
	busy   bool // the writer token is taken
	ping   bool // a ping goes ahead of the queue
	// replies counts the callbacks' replies waiting: while there are any,
	// the writer takes data frames past confirmation's retention bound
	// (a reply is never refused or held by it, and frames go in order).
	replies int
	refused bool // a frame was refused since the last Drained (client_flow.go)
}

func (ob *outbox) open() {
	ob.mu.Lock()
	ob.closed = false
	ob.mu.Unlock()
}

// push appends it to the outbox, counted against the bound if bounded.
func (ob *outbox) push(it *outItem, bounded bool) error {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.closed {
		return ErrClosed
	}
	if bounded {
		if ob.count >= ob.limit || !it.reply && ob.cf.fullLocked() || ob.overLocked(len(it.f.Data)) {
			ob.refused = true
			return ErrOutboxFull
		}
		it.counted = true
		if it.reply {
			ob.replies++
		}
		ob.count++
		ob.bytes += len(it.f.Data)
		if ob.cfg.trace != nil {
			ob.traceDepth(ob.count - 1)
		}
	}
	ob.q = append(ob.q, it)
	return nil
}

// pushSend appends Send's item. Only for a Send made while a callback runs
// with a context that can never end (unbounded), it refuses, with
// ErrSendInCallback, a frame that cannot be written before the callback
// returns: no connection is attached (not connected, or OnConnect runs) or
// the client is not connected (closing, stopping); for such a Send's frame
// that can be written, stall is closed if the connection is lost (the
// outbox detached) before it is. connected is the client's state; neither
// it nor the attached connection changes while a callback runs, but for a
// writer's detach.
func (ob *outbox) pushSend(it *outItem, unbounded, connected bool) (stall <-chan struct{}, err error) {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.closed {
		return nil, ErrClosed
	}
	if unbounded {
		if ob.cc == nil || !connected {
			return nil, ErrSendInCallback
		}
		if ob.stall == nil {
			ob.stall = make(chan struct{})
		}
		stall = ob.stall
	}
	ob.q = append(ob.q, it)
	return stall, nil
}

// unstallLocked tells the Sends waiting on stall that the outbox was
// detached from its connection.
func (ob *outbox) unstallLocked() {
	if ob.stall != nil {
		close(ob.stall)
		ob.stall = nil
	}
}

// full returns the error push would return for a bounded item of n
// bytes, if any.
func (ob *outbox) full(n int) error {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	switch {
	case ob.closed:
		return ErrClosed
	case ob.count >= ob.limit || ob.cf.fullLocked() || ob.overLocked(n):
		ob.refused = true
		return ErrOutboxFull
	}
	return nil
}

// pushFront puts items at the head of the outbox, in order, outside the
// bound (OnConnect's replies, a panic's close).
func (ob *outbox) pushFront(items ...*outItem) {
	if len(items) == 0 {
		return
	}
	ob.mu.Lock()
	defer ob.mu.Unlock()
	for _, it := range items {
		if it.reply {
			ob.replies++
		}
	}
	if ob.head >= len(items) {
		ob.head -= len(items)
		copy(ob.q[ob.head:], items)
		return
	}
	ob.q = slices.Insert(ob.q[ob.head:], 0, items...)
	ob.head = 0
}

// withdraw marks a Send's item as withdrawn unless a writer has it.
func (ob *outbox) withdraw(it *outItem) bool {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if it.taken {
		return false
	}
	it.cancel = true
	return true
}

// attach lets the outbox drain to cc; detach stops it (frames wait for the
// next connection).
func (ob *outbox) attach(cc *clientConn) {
	ob.mu.Lock()
	ob.cc = cc
	ob.attachConfirmLocked(cc)
	ob.mu.Unlock()
}

func (ob *outbox) detach(cc *clientConn) {
	ob.mu.Lock()
	if ob.cc == cc {
		ob.cc = nil
		ob.ping = false
		ob.unstallLocked()
	}
	ob.mu.Unlock()
}

// hasWorkLocked reports whether something waits to be written.
func (ob *outbox) hasWorkLocked() bool { return ob.ping || ob.head < len(ob.q) }

// takeToken takes the writer token if something waits to be written to a
// connection and nobody writes; it returns that connection.
func (ob *outbox) takeToken() *clientConn {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.busy || ob.cc == nil || !ob.hasWorkLocked() {
		return nil
	}
	ob.busy = true
	return ob.cc
}

// releaseLocked gives the writer token back.
func (ob *outbox) releaseLocked() {
	ob.busy = false
	ob.cond.Broadcast()
}

func (ob *outbox) release() {
	ob.mu.Lock()
	ob.releaseLocked()
	ob.mu.Unlock()
}

// popLocked takes the next item, skipping withdrawn ones, or returns nil.
func (ob *outbox) popLocked() *outItem {
	for ob.head < len(ob.q) {
		it := ob.q[ob.head]
		ob.q[ob.head] = nil
		ob.head++
		if it.reply {
			it.reply = false
			ob.replies--
		}
		if it.counted {
			ob.count--
			ob.bytes -= len(it.f.Data)
			ob.drainedLocked()
			if ob.cfg.trace != nil {
				ob.traceDepth(ob.count + 1)
			}
		}
		if it.cancel {
			it.cancel = false
			it.f, it.ctx, it.cw = Frame{}, nil, nil
			sendPool.Put(it)
			continue
		}
		it.taken = true
		return it
	}
	ob.q = ob.q[:0]
	ob.head = 0
	return nil
}

// isData reports whether t is a text or binary message, which
// confirmation keeps.
func isData(t MessageType) bool { return t == TextMessage || t == BinaryMessage }

// peekLocked returns the next item that is not withdrawn, or nil.
func (ob *outbox) peekLocked() *outItem {
	for ob.head < len(ob.q) {
		it := ob.q[ob.head]
		if !it.cancel {
			return it
		}
		ob.q[ob.head] = nil
		ob.head++
		it.cancel = false
		it.f, it.ctx, it.cw = Frame{}, nil, nil
		sendPool.Put(it)
	}
	return nil
}

// close ends the run's outbox: it waits for the writer token (the
// connection is closed by then, so a write ends soon) and returns what was
// left.
func (ob *outbox) close() []*outItem {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	ob.closed = true
	ob.cc = nil
	ob.ping = false
	ob.unstallLocked()
	for ob.busy {
		ob.cond.Wait()
	}
	var left []*outItem
	for it := ob.popLocked(); it != nil; it = ob.popLocked() {
		left = append(left, it)
	}
	return left
}

// A batch is what the token holder took from the outbox for one write.
type batch struct {
	items []*outItem
	ping  bool
	big   *outItem // a frame to write on its own
	close *outItem // a close marker for this connection

	pingLen int
	pingBuf [frame.MaxControlPayload]byte
	tag     uint64 // the sequence of the confirmation ping that confirms the frames
}

// take fills b from the outbox for cc. It returns false, releasing the
// token, when nothing is left for cc. small limits it to what a writer that
// must not wait handles (no big frame, no close).
func (ob *outbox) take(cc *clientConn, b *batch, small bool) bool {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.cc != cc {
		ob.releaseLocked()
		return false
	}
	size := 0
	if ob.ping {
		b.ping = true
		ob.ping = false
		ob.takePingLocked(b)
		size += frame.MaxHeaderLen + b.pingLen
	}
	if ob.cf != nil {
		b.tag = ob.cf.seq + 1
	} else {
		b.tag = 1 // the first confirmation ping confirms them
	}
	for len(b.items) < batchItems {
		it := ob.peekLocked()
		if it == nil || it.closeOn == nil && isData(it.f.Type) && ob.cf.fullLocked() && ob.replies == 0 {
			// Nothing, or no room to keep a data frame (a pong makes
			// room). A control frame at the head is not kept: it goes;
			// nor are replies held (nor the frames ahead of them).
			break
		}
		switch {
		case it.closeOn != nil:
			if it.closeOn != cc {
				// Left from an earlier connection (a close marker, or a
				// place marker of confirmEnd's, whose frames are all in).
				if ob.popLocked() == ob.cf.lateMarkOrNil() {
					ob.cf.lateMark = nil
				}
				continue
			}
			if len(b.items) > 0 || b.ping {
				return true
			}
			if ob.closePingLocked(cc) {
				// A confirmation ping goes just before the close frame:
				// its pong confirms the frames written on cc.
				b.ping = true
				ob.takePingLocked(b)
				return true
			}
			if small {
				return true
			}
			b.close = ob.popLocked()
			ob.cc = nil // what follows waits for the next connection
			ob.unstallLocked()
			return true
		case len(it.f.Data) > bigFrame:
			if len(b.items) > 0 || b.ping || small {
				return true
			}
			b.big = ob.popLocked()
			return true
		}
		if size += frame.MaxHeaderLen + len(it.f.Data); size > batchBytes {
			break
		}
		it = ob.popLocked()
		if it.f.Type == PingMessage && ob.confirmOn() {
			// A ping the user cast: its pong, which may arrive before the
			// write is settled, is no stray one.
			ob.confirmerLocked().userOut++
		}
		b.items = append(b.items, it)
	}
	if len(b.items) == 0 && !b.ping {
		ob.releaseLocked()
		return false
	}
	if !b.ping {
		ob.piggybackLocked(cc, b) // a confirmation ping due may ride along
	}
	return true
}

// connWriter is a connection's writer state, made at its first write and
// guarded by the writer token: the batch being written and its frames as
// the Conn takes them.
type connWriter struct {
	b      batch
	out    []outFrame
	c      *Client
	fill   func(small bool) []outFrame // cc.fill, made once
	filled bool                        // fill ran for the last send
}

// notYet is what fill returns when frames wait that the send under way
// does not take (a close marker, or a big frame for one that must not
// wait): empty, but not nil, which says that nothing is left.
var notYet = []outFrame{}

// writer returns cc's writer state. The caller, c's, holds the writer
// token.
func (cc *clientConn) writer(c *Client) *connWriter {
	if cc.w == nil {
		cc.w = &connWriter{c: c, fill: cc.fill}
	}
	return cc.w
}

// fill takes the next batch from the outbox, under the Conn's write locks
// (the Conn's send calls it), and returns its frames: the ping, then the
// data frames or the big one. small limits it to what a write that must not
// wait handles. It returns nil when nothing is left (take released the
// writer token: w is no longer the caller's), notYet when a close marker
// is next (in b.close) or a big frame or close must wait for a writer that
// may wait.
func (cc *clientConn) fill(small bool) []outFrame {
	w := cc.w
	b := &w.b
	b.items = b.items[:0]
	b.ping, b.big, b.close, b.pingLen, b.tag = false, nil, nil, 0, 0
	w.filled = true
	if !w.c.ob.take(cc, b, small) {
		return nil
	}
	fs := w.out[:0]
	if b.close == nil {
		if b.ping {
			fs = append(fs, outFrame{PingMessage, b.pingBuf[:b.pingLen]})
		}
		for _, it := range b.items {
			fs = append(fs, outFrame{it.f.Type, it.f.Data})
		}
		if b.big != nil {
			fs = append(fs, outFrame{b.big.f.Type, b.big.f.Data})
		}
	}
	w.out = fs
	if len(fs) == 0 {
		return notYet
	}
	return fs
}

// writeBatch writes a batch of the outbox to cc (see transport.send).
func (c *Client) writeBatch(ctx context.Context, cc *clientConn, now bool) (int, error) {
	w := cc.writer(c)
	w.filled = false
	return cc.t().send(ctx, w.fill, now)
}

// kick makes the outbox drain if frames wait and nobody writes: the calling
// goroutine makes write attempts that do not wait, and leaves the rest to
// a writer goroutine.
func (c *Client) kick() {
	cc := c.ob.takeToken()
	if cc == nil {
		return
	}
	bg := context.Background()
	for {
		n, err := c.writeBatch(bg, cc, true)
		if err == errNoFrames {
			return // nothing left: take released the token
		}
		w := cc.w
		switch {
		case err == errWouldWait:
			// Busy, a socket that takes no such attempt, or a full one:
			// a writer goroutine writes (or finishes) the batch.
			go c.writeLoop(cc, w.filled)
			return
		case n == 0 && err == nil:
			// A big frame or a close is next: that may wait.
			go c.writeLoop(cc, false)
			return
		}
		if !c.finishBatch(cc, &w.b, n, err) {
			return
		}
	}
}

// writeLoop is the writer goroutine: it finishes the batch kick began, if
// resume, and drains the outbox to cc, waiting for the network as long as
// it takes, and exits when nothing waits.
func (c *Client) writeLoop(cc *clientConn, resume bool) {
	bg := context.Background()
	if resume {
		n, err := cc.t().send(bg, cc.w.fill, false)
		if !c.finishBatch(cc, &cc.w.b, n, err) {
			return
		}
	}
	c.drain(bg, cc, nil)
}

// drain writes batches to cc until the outbox is empty for cc or, when
// until is set, until that item has been written; it then gives the token
// to a writer goroutine if frames still wait.
func (c *Client) drain(ctx context.Context, cc *clientConn, until *outItem) {
	for {
		n, err := c.writeBatch(ctx, cc, false)
		if err == errNoFrames {
			return // nothing left: take released the token
		}
		w := cc.w
		b := &w.b
		switch {
		case !w.filled:
			// Only Send's context ends here, waiting for the write locks;
			// its item is still queued.
			c.ob.release()
			c.spawnWriter()
			return
		case b.close != nil:
			it := b.close
			b.close = nil
			c.ob.release()
			c.sendClose(cc, it)
			return
		}
		mine := until != nil && (b.big == until || slices.Contains(b.items, until))
		confirming := mine && until.cw != nil // (keep takes cw from it)
		if !c.finishBatch(cc, b, n, err) {
			return
		}
		if mine {
			// Send's frame is written: the rest is a writer goroutine's.
			// A confirming Send waits for a pong anyway: it tries to write
			// the confirmation ping it asked for (and what else waits)
			// without waiting, rather than start a goroutine for it.
			c.ob.release()
			if confirming {
				c.kick()
			} else {
				c.spawnWriter()
			}
			return
		}
	}
}

// spawnWriter starts a writer goroutine if frames wait and nobody writes.
func (c *Client) spawnWriter() {
	if cc := c.ob.takeToken(); cc != nil {
		go c.writeLoop(cc, false)
	}
}

// writeOwn lets Send's goroutine write the outbox, its frame included, when
// nobody else writes; otherwise the frame waits for the writer.
func (c *Client) writeOwn(ctx context.Context, it *outItem) error {
	cc := c.ob.takeToken()
	if cc == nil {
		return nil
	}
	c.drain(ctx, cc, it)
	return nil
}

// finishBatch settles a written (err nil) or failed batch, of which the
// first n frames (the ping first) reached the socket whole: each of them was
// written (Send learns so, the counters move, a cast frame is recycled); a
// frame cut part-way and those after it were not (a server cannot take a
// truncated frame for a message, and the connection is dead): Send learns
// err, a cast or replied frame goes to OnUndelivered. After a failure the
// connection is dropped (its reader reports the end), the token released,
// and finishBatch returns false. A big frame is written in pieces: on a
// failure it was not written in full.
func (c *Client) finishBatch(cc *clientConn, b *batch, n int, err error) bool {
	kept := 0 // with confirmation: b.items[:kept] are written data frames to keep
	settle := func(it *outItem, err error) {
		if err == nil && (it.f.Type == TextMessage || it.f.Type == BinaryMessage) {
			c.msgsOut.Add(1)
			c.bytesOut.Add(uint64(len(it.f.Data)))
			if c.cfg.trace != nil {
				traceSent(cc.cn, it.f)
			}
			if c.cfg.confirmBytes > 0 {
				if it.again {
					// Written again after its connection ended unconfirmed.
					it.again = false
					c.ob.cf.redelivered.Add(1)
					if c.cfg.trace != nil {
						traceFrames(c.cfg.trace.FramesRedelivered, 1)
					}
				}
				if it == b.big {
					c.keep(cc, []*outItem{it}, b.tag)
				} else {
					b.items[kept] = it // kept <= the index of it
					kept++
				}
				return
			}
		}
		switch {
		case it.done != nil:
			if err != nil {
				it.failed = cc.t()
			}
			it.done <- err // Send clears it.taken: withdraw fails meanwhile
		case err == nil:
			freeItem(it)
		case it.again:
			// Written on an earlier connection: it may have arrived (and
			// a SendConfirmed may wait for it).
			c.unconfirmed(it, true, ErrUnconfirmed, true)
		default:
			_ = c.mail.put(c, event{kind: evUndelivered, f: it.f, err: err})
		}
	}
	if b.ping {
		n-- // the ping came first
	}
	for i, it := range b.items {
		written := err == nil || i < n
		b.items[i] = nil
		if written {
			settle(it, nil)
		} else {
			settle(it, err)
		}
	}
	if kept > 0 {
		c.keep(cc, b.items[:kept], b.tag)
		clear(b.items[:kept])
	}
	b.items = b.items[:0]
	if b.big != nil {
		settle(b.big, err)
		b.big = nil
	}
	if err != nil {
		c.ob.detach(cc)
		if !peerReset(err) {
			cc.cn.CloseNow() // else its reader reads the server's close first
		}
		c.ob.release()
		return false
	}
	return true
}

// sendClose starts the close handshake on cc (the frames before the close
// marker are written) and tells the machine, which arms the close timer.
func (c *Client) sendClose(cc *clientConn, it *outItem) {
	if err := cc.t().sendClose(it.code, it.reason); err != nil {
		cc.cn.CloseNow()
	}
	_ = c.mail.put(c, event{kind: evCloseSent, cc: cc})
}
