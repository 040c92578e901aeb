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
	end     int             // where its frame ends in the batch's buffer
	tag     uint64          // kept: the confirmation ping that confirms it
	cw      *confirmWait    // a confirming Send's
	again   bool            // written before, being redelivered
	cancel  bool            // Send withdrew it

	closeOn *clientConn // a close marker: close closeOn with code and reason
	code    int
	reason  string
}

// itemPool recycles the items of cast and replied frames with their copies
// of the data, so that a steady stream of Casts does not allocate.
var itemPool = sync.Pool{New: func() any { return new(outItem) }}

// sendPool recycles Send's items with their result channels.
var sendPool = sync.Pool{New: func() any { return &outItem{done: make(chan error, 1)} }}

// maxPooledData bounds the data buffer an item keeps when recycled.
const maxPooledData = 64 << 10

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

// Batches: at most batchBytes of frames are masked into one buffer; a frame
// over bigFrame is written on its own, straight from its data, by a writer
// that may wait.
const (
	batchBytes = 64 << 10
	bigFrame   = 16 << 10
	batchItems = 256
)

// Batch buffers come from two pools: small ones for the usual few small
// frames, so that many connections writing at once do not each take a
// large buffer, and large ones for full batches.
const (
	smallBatchBuf = 4<<10 + 8*frame.MaxHeaderLen
	largeBatchBuf = batchBytes + bigFrame + batchItems*frame.MaxHeaderLen
)

var (
	smallBatchPool = sync.Pool{New: func() any { b := make([]byte, 0, smallBatchBuf); return &b }}
	largeBatchPool = sync.Pool{New: func() any { b := make([]byte, 0, largeBatchBuf); return &b }}
)

type outbox struct {
	mu    sync.Mutex
	cond  sync.Cond // signals the release of the writer token
	q     []*outItem
	head  int
	count int // items counted against the bound
	limit int
	cc    *clientConn
	stall chan struct{} // closed when cc is detached (see pushSend)

	pingData []byte     // the pending ping's payload (Client.Ping's copy; nil for keepalive)
	cf       *confirmer // delivery confirmation (client_confirm.go); nil when off

	closed bool // the run has ended: refuse frames
	busy   bool // the writer token is taken
	ping   bool // a ping goes ahead of the queue
	user   bool // the pending ping is Client.Ping's (see queueConfirmPing)
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
		if ob.count >= ob.limit || ob.cf.fullLocked() {
			return ErrOutboxFull
		}
		it.counted = true
		ob.count++
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

// full returns the error push would return for a bounded item, if any.
func (ob *outbox) full() error {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	switch {
	case ob.closed:
		return ErrClosed
	case ob.count >= ob.limit || ob.cf.fullLocked():
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
		ob.ping, ob.user = false, false
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
		if it.counted {
			ob.count--
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
	ob.ping, ob.user = false, false
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
	bufp  *[]byte
	buf   []byte

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
	b.items = cc.items[:0]
	if ob.ping {
		b.ping = true
		ob.ping, ob.user = false, false
		ob.takePingLocked(b)
		size += frame.MaxHeaderLen + b.pingLen
	}
	if ob.cf != nil {
		b.tag = ob.cf.seq + 1
	}
	for len(b.items) < batchItems && size < batchBytes {
		it := ob.peekLocked()
		if it == nil || it.closeOn == nil && ob.cf.fullLocked() {
			break // nothing, or no room to keep a data frame (a pong makes room)
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
		b.items = append(b.items, ob.popLocked())
		size += frame.MaxHeaderLen + len(it.f.Data)
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

// kick makes the outbox drain if frames wait and nobody writes: the calling
// goroutine makes one write attempt that does not wait, and leaves the rest
// to a writer goroutine.
func (c *Client) kick() {
	cc := c.ob.takeToken()
	if cc == nil {
		return
	}
	if cc.now == nil && !cc.noNow {
		cc.now = newNowWriter(cc.cn.nc) // the token guards it
		cc.noNow = cc.now == nil
	}
	for {
		if cc.now == nil || !cc.cn.tryLockWrites() {
			go c.writeLoop(cc, nil)
			return
		}
		var b batch
		if !c.ob.take(cc, &b, true) {
			cc.cn.unlockWrites()
			return
		}
		if len(b.items) == 0 && !b.ping {
			// A big frame or a close is next: that may wait.
			cc.cn.unlockWrites()
			go c.writeLoop(cc, nil)
			return
		}
		err := c.mask(cc, &b)
		n := 0
		if err == nil {
			n, err = cc.cn.writeNowLocked(cc.now, b.buf)
		}
		if err == nil && n < len(b.buf) {
			// The socket is full: a writer goroutine writes the rest, with
			// the write locks handed over.
			go c.writeLoop(cc, &pending{b: b, off: n})
			return
		}
		cc.cn.unlockWrites()
		if !c.finishBatch(cc, &b, n, err) {
			return
		}
	}
}

// pending is a batch partly written, handed to a writer goroutine with the
// connection's write locks.
type pending struct {
	b   batch
	off int
}

// writeLoop is the writer goroutine: it drains the outbox to cc, waiting
// for the network as long as it takes, and exits when nothing waits.
func (c *Client) writeLoop(cc *clientConn, p *pending) {
	bg := context.Background()
	if p != nil {
		n, err := cc.cn.writeRawLocked(bg, p.b.buf[p.off:])
		cc.cn.unlockWrites()
		if !c.finishBatch(cc, &p.b, p.off+n, err) {
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
		if err := cc.cn.lockWrites(ctx); err != nil {
			// Only Send's context ends here; its item is still queued.
			c.ob.release()
			c.spawnWriter()
			return
		}
		var b batch
		if !c.ob.take(cc, &b, false) {
			cc.cn.unlockWrites()
			return
		}
		if b.close != nil {
			cc.cn.unlockWrites()
			c.ob.release()
			c.sendClose(cc, b.close)
			return
		}
		var err error
		n := 0
		if b.big != nil {
			err = c.writeBig(cc, b.big)
		} else if err = c.mask(cc, &b); err == nil {
			n, err = cc.cn.writeRawLocked(ctx, b.buf)
		}
		cc.cn.unlockWrites()
		mine := until != nil && (b.big == until || slices.Contains(b.items, until))
		if !c.finishBatch(cc, &b, n, err) {
			return
		}
		if mine {
			// Send's frame is written: the rest is a writer goroutine's.
			c.ob.release()
			c.spawnWriter()
			return
		}
	}
}

// spawnWriter starts a writer goroutine if frames wait and nobody writes.
func (c *Client) spawnWriter() {
	if cc := c.ob.takeToken(); cc != nil {
		go c.writeLoop(cc, nil)
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

// mask builds b's buffer: the ping, then the frames. The caller holds cc's
// write locks.
func (c *Client) mask(cc *clientConn, b *batch) error {
	need := 0
	if b.ping {
		need += frame.MaxHeaderLen + b.pingLen
	}
	for _, it := range b.items {
		need += frame.MaxHeaderLen + len(it.f.Data)
	}
	if need <= smallBatchBuf {
		b.bufp = smallBatchPool.Get().(*[]byte)
	} else {
		b.bufp = largeBatchPool.Get().(*[]byte)
	}
	buf := (*b.bufp)[:0]
	var err error
	if b.ping {
		buf = appendMasked(buf, 0, frame.OpPing, b.pingBuf[:b.pingLen])
	}
	for _, it := range b.items {
		if err != nil {
			break
		}
		buf, err = cc.cn.appendFrameLocked(buf, it.f.Type, it.f.Data)
		it.end = len(buf)
	}
	b.buf = buf
	return err
}

// writeBig writes one big frame; the caller holds cc's write locks.
func (c *Client) writeBig(cc *clientConn, it *outItem) error {
	ctx := context.Background()
	if it.done != nil {
		ctx = it.ctx
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if stop := cc.cn.watchCtx(ctx, false); stop != nil {
		defer stop()
	}
	return cc.cn.ctxErr(ctx, cc.cn.writeFrameBigLocked(it.f.Type, it.f.Data))
}

// finishBatch settles a written (err nil) or failed batch, of which the
// socket took the first n bytes: each frame that ends within them was
// written (Send learns so, the counters move, a cast frame is recycled); a
// frame cut part-way and those after it were not (a server cannot take a
// truncated frame for a message, and the connection is dead): Send learns
// err, a cast or replied frame goes to OnUndelivered. After a failure the
// connection is dropped (its reader reports the end), the token released,
// and finishBatch returns false. A big frame is written in pieces: on a
// failure it was not written in full.
func (c *Client) finishBatch(cc *clientConn, b *batch, n int, err error) bool {
	if b.bufp != nil {
		// A buffer that grew (compression can) goes where its size fits.
		switch n := cap(b.buf); {
		case n <= smallBatchBuf:
			*b.bufp = b.buf[:0]
			smallBatchPool.Put(b.bufp)
		case n <= largeBatchBuf:
			*b.bufp = b.buf[:0]
			largeBatchPool.Put(b.bufp)
		}
		b.bufp, b.buf = nil, nil
	}
	kept := 0 // with confirmation: b.items[:kept] are written data frames to keep
	settle := func(it *outItem, err error) {
		if err == nil && (it.f.Type == TextMessage || it.f.Type == BinaryMessage) {
			c.msgsOut.Add(1)
			c.bytesOut.Add(uint64(len(it.f.Data)))
			if c.ob.cf != nil {
				if it.again {
					// Written again after its connection ended unconfirmed.
					it.again = false
					c.ob.cf.redelivered.Add(1)
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
		if err == nil && it.f.Type == PingMessage && c.ob.cf != nil {
			// A ping the user queued: its pong is no stray one.
			c.ob.mu.Lock()
			c.ob.cf.userOut++
			c.ob.mu.Unlock()
		}
		switch {
		case it.done != nil:
			it.done <- err // Send clears it.taken: withdraw fails meanwhile
		case err == nil:
			freeItem(it)
		case it.again:
			// Written on an earlier connection: it may have arrived (and
			// a SendConfirmed may wait for it).
			c.unconfirmed(it, true, ErrUnconfirmed, true)
		default:
			_ = c.mail.put(c, mail{kind: mailUndelivered, f: it.f, err: err})
		}
	}
	for i, it := range b.items {
		written := err == nil || (it.end > 0 && it.end <= n)
		it.end = 0
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
	cc.items = b.items[:0]
	if b.big != nil {
		settle(b.big, err)
	}
	if err != nil {
		c.ob.detach(cc)
		cc.cn.CloseNow()
		c.ob.release()
		return false
	}
	return true
}

// sendClose starts the close handshake on cc (the frames before the close
// marker are written) and tells the machine, which arms the close timer.
func (c *Client) sendClose(cc *clientConn, it *outItem) {
	if err := cc.cn.sendClose(it.code, it.reason); err != nil {
		cc.cn.CloseNow()
	}
	_ = c.mail.put(c, mail{kind: mailCloseSent, cc: cc})
}
