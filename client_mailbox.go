package wsclient

import "sync"

// The mailbox: Post, Connect, CloseConn and Stop requests, and what the
// writer reports (frames it could not write, a close frame sent), in order.
// A mail goroutine exists only while mail waits: the first put starts it,
// and it runs each event under the callback lock, then exits when the
// mailbox is empty.

type mailKind uint8

const (
	mailPost mailKind = iota
	mailConnect
	mailClose
	mailStop
	mailForce
	mailUndelivered
	mailCloseSent
)

type mail struct {
	kind   mailKind
	drop   bool // mailStop: without a close handshake
	msg    any
	code   int
	reason string
	f      Frame
	err    error
	cc     *clientConn
}

type mailbox struct {
	mu      sync.Mutex
	q       []mail
	head    int32 // q[head:] waits
	closed  bool
	running bool // a mail goroutine is on its way
}

// emptyLocked reports whether no mail waits.
func (m *mailbox) emptyLocked() bool { return int(m.head) == len(m.q) }

// put queues x and makes sure a mail goroutine will handle it. After the
// run has ended only the writer's reports are taken (the run's end hands
// them back).
func (m *mailbox) put(c *Client, x mail) error {
	m.mu.Lock()
	if m.closed && x.kind != mailUndelivered {
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
func (m *mailbox) next(ready bool) (mail, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !ready || m.emptyLocked() {
		m.running = false
		if m.emptyLocked() {
			clear(m.q)
			m.q, m.head = m.q[:0], 0
		}
		return mail{}, false
	}
	x := m.q[m.head]
	m.q[m.head] = mail{}
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
func (m *mailbox) close() []mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	q := append([]mail(nil), m.q[m.head:]...)
	clear(m.q)
	m.q, m.head = m.q[:0], 0
	return q
}

// runMail is the mail goroutine: it hands each mail to the state machine
// under the callback lock, one at a time.
func (c *Client) runMail() {
	for {
		c.lock()
		x, ok := c.mail.next(c.m.active)
		if !ok {
			c.unlock()
			return
		}
		c.onMail(&x)
		c.unlock()
	}
}

// runNow handles x on the calling goroutine, without a mail goroutine, when
// nothing else holds the callback lock and no mail waits before it.
func (c *Client) runNow(x *mail) bool {
	if !c.mu.TryLock() {
		return false
	}
	c.mail.mu.Lock()
	idle := c.m.active && !c.mail.running && c.mail.emptyLocked() && !c.mail.closed
	c.mail.mu.Unlock()
	if idle {
		c.onMail(x)
	}
	c.unlock()
	return idle
}

// onMail turns a mail into an event of the state machine.
func (c *Client) onMail(x *mail) {
	switch x.kind {
	case mailPost:
		c.dispatch(&event{kind: evInfo, msg: x.msg})
	case mailConnect:
		c.dispatch(&event{kind: evConnect})
	case mailClose:
		c.dispatch(&event{kind: evCloseConn, code: x.code, reason: x.reason})
	case mailStop:
		c.dispatch(&event{kind: evStop, err: x.err, code: CloseNormalClosure, drop: x.drop})
	case mailForce:
		c.dispatch(&event{kind: evForce})
	case mailUndelivered:
		c.dispatch(&event{kind: evUndelivered, f: x.f, err: x.err})
	case mailCloseSent:
		c.dispatch(&event{kind: evCloseSent, cc: x.cc})
	}
}
