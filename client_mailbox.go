package wsclient

import "sync"

// The mailbox: the machine's events from other goroutines — Post,
// Connect, CloseConn and Stop requests, and what the writer reports (frames
// it could not write, a close frame sent) — in order, as they are
// dispatched. A mail goroutine exists only while events wait: the first put
// starts it, and it dispatches each under the callback lock, then exits
// when the mailbox is empty.

type mailbox struct {
	mu      sync.Mutex
	q       []event
	head    int32 // q[head:] waits
	closed  bool
	running bool // a mail goroutine is on its way
}

// emptyLocked reports whether no mail waits.
func (m *mailbox) emptyLocked() bool { return int(m.head) == len(m.q) }

// put queues x and makes sure a mail goroutine will handle it. After the
// run has ended only the writer's reports are taken (the run's end hands
// them back).
func (m *mailbox) put(c *Client, x event) error {
	m.mu.Lock()
	if m.closed && x.kind != evUndelivered {
		m.mu.Unlock()
		return ErrClosed
	}
	m.q = append(m.q, x)
	start := !m.running
	m.running = true
	m.mu.Unlock()
	if start {
		go c.runMail()
	}
	return nil
}

// next takes the next mail; when there is none, or the machine is not
// ready for mail, it marks the mail goroutine gone. The caller holds the
// callback lock.
func (m *mailbox) next(ready bool) (event, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !ready || m.emptyLocked() {
		m.running = false
		if m.emptyLocked() {
			clear(m.q)
			m.q, m.head = m.q[:0], 0
		}
		return event{}, false
	}
	x := m.q[m.head]
	m.q[m.head] = event{}
	m.head++
	return x, true
}

// resume starts a mail goroutine if mail waits (the run has become ready).
func (m *mailbox) resume(c *Client) {
	m.mu.Lock()
	start := !m.running && !m.emptyLocked()
	if start {
		m.running = true
	}
	m.mu.Unlock()
	if start {
		go c.runMail()
	}
}

func (m *mailbox) open() {
	m.mu.Lock()
	m.closed = false
	m.mu.Unlock()
}

// close refuses new mail (but the writer's reports) and returns what was
// left.
func (m *mailbox) close() []event {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	q := append([]event(nil), m.q[m.head:]...)
	clear(m.q)
	m.q, m.head = m.q[:0], 0
	return q
}

// runMail is the mail goroutine: it dispatches each event under the
// callback lock, one at a time.
func (c *Client) runMail() {
	for {
		c.lock()
		x, ok := c.mail.next(c.m.st.ready())
		if !ok {
			c.unlock()
			return
		}
		c.dispatch(&x)
		c.unlock()
	}
}

// runNow dispatches x on the calling goroutine, without a mail goroutine,
// when nothing else holds the callback lock and no mail waits before it.
func (c *Client) runNow(x *event) bool {
	if !c.mu.TryLock() {
		return false
	}
	c.mail.mu.Lock()
	idle := c.m.st.ready() && !c.mail.running && c.mail.emptyLocked() && !c.mail.closed
	c.mail.mu.Unlock()
	if idle {
		c.dispatch(x)
	}
	c.unlock()
	return idle
}
