package wsclient

// Byte-based flow control of the outbox: Options.OutboxBytes (the high-water
// mark) bounds the payload of the frames cast and replied that wait; a Cast
// beyond it is refused with ErrOutboxFull; once the outbox has drained to
// Options.OutboxLowBytes (the low-water mark) after a refusal, HandleInfo
// receives a Drained value. The outbox keeps the counts (client_outbox.go:
// push, full, popLocked).

// Drained is the value HandleInfo receives, with Options.OutboxBytes set
// (never otherwise), when the outbox, having refused
// a frame (ErrOutboxFull), has drained to Options.OutboxLowBytes or fewer
// bytes: the time to cast again. It comes once per refusal episode, in
// order with the values posted.
type Drained struct {
	// Frames and Bytes are the cast and replied frames waiting, and their
	// payload bytes, when the outbox drained (as Stats.QueuedFrames and
	// QueuedBytes).
	Frames, Bytes int
}

// overLocked reports whether n more bytes would take the outbox past the
// byte bound. A frame larger than the bound is taken when nothing waits.
func (ob *outbox) overLocked(n int) bool {
	return ob.cfg != nil && ob.cfg.outboxBytes > 0 && ob.bytes > 0 && ob.bytes+n > ob.cfg.outboxBytes
}

// drainedLocked signals the low-water mark after a refusal, once, when
// confirmation's retention bound has room too (a pong that makes room
// calls it as well: a Cast refused at that bound gets its Drained).
func (ob *outbox) drainedLocked() {
	if ob.refused && ob.cfg != nil && ob.cfg.outboxBytes > 0 && !ob.closed && ob.bytes <= ob.cfg.outboxLow && ob.count < ob.limit && !ob.cf.fullLocked() {
		ob.refused = false
		ob.cfg.drained(Drained{Frames: ob.count, Bytes: ob.bytes})
	}
}

// queued returns the counted frames waiting and their bytes.
func (ob *outbox) queued() (frames, bytes int) {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	return ob.count, ob.bytes
}

// postDrained hands d to HandleInfo. It runs under the outbox's lock; the
// mailbox's lock is taken after it and never before it.
func (c *Client) postDrained(d Drained) {
	_ = c.mail.put(c, event{kind: evInfo, msg: d}) // ErrClosed: the client ends
}
