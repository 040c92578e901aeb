package h2

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Connections are shared by the WebSockets one Dialer opens to one origin
// (scheme, host, port) through one proxy: the Dialer owns a Pool. A
// connection takes new WebSockets while the server's
// SETTINGS_MAX_CONCURRENT_STREAMS allows; past it another connection is
// opened. A connection is closed (GOAWAY) when its last WebSocket ends, so
// nothing lingers after the last Close.
//
// Concurrent dials to an origin with no room wait for one connection to be
// set up rather than each opening its own.

// Key identifies the connections of a Pool that may be shared.
type Key struct {
	Scheme string // "https" or "http" (prior-knowledge h2c)
	Addr   string // host:port dialed
	Proxy  string // proxy URL, "" for none
}

// dialing is a connection being set up; others wait on done.
type dialing struct {
	done chan struct{}
	err  error
}

// Pool is one Dialer's HTTP/2 state: its connections, the ones being set
// up, and the origins found without RFC 8441.
type Pool struct {
	mu      sync.Mutex
	conns   map[Key][]*Conn
	dialing map[Key]*dialing
	useH1   map[Key]time.Time // origins found without RFC 8441, until when
}

// NewPool returns an empty Pool.
func NewPool() *Pool {
	return &Pool{
		conns:   map[Key][]*Conn{},
		dialing: map[Key]*dialing{},
		useH1:   map[Key]time.Time{},
	}
}

// h1Memory is how long an origin that does not offer WebSockets over
// HTTP/2 is dialed with HTTP/1.1 directly (HTTP2Auto).
const h1Memory = 5 * time.Minute

// ErrUseHTTP1 is returned by a dial function given to Acquire when the
// origin does not offer WebSockets over HTTP/2 and the caller should go on
// with HTTP/1.1; the Pool remembers the origin (see RememberedH1).
var ErrUseHTTP1 = errors.New("wsclient: use HTTP/1.1")

// RememberedH1 reports whether key was recently found without RFC 8441.
func (p *Pool) RememberedH1(key Key) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.useH1[key]
	if ok && time.Now().After(until) {
		delete(p.useH1, key)
		return false
	}
	return ok
}

// Acquire returns a connection of p for key with a stream reserved on it,
// setting one up with dial if none has room (its first stream is the
// caller's; others waiting for it take the rest). The reservation is used or
// given back by OpenStream. A dial error is returned as dial returned it;
// when ctx ends while another dial to key is under way, Acquire returns
// ctx.Err().
func (p *Pool) Acquire(ctx context.Context, key Key, dial func(context.Context) (*Conn, error)) (*Conn, error) {
	for {
		p.mu.Lock()
		if c := p.reserveLocked(key); c != nil {
			p.mu.Unlock()
			return c, nil
		}
		if w := p.dialing[key]; w != nil {
			p.mu.Unlock()
			select {
			case <-w.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if w.err != nil && !isCtxErr(w.err) {
				return nil, w.err
			}
			continue
		}
		w := &dialing{done: make(chan struct{})}
		p.dialing[key] = w
		p.mu.Unlock()

		c, err := dial(ctx)
		if err == nil && !c.reserve() {
			c.shutdown() // a server that allows no stream at all
			err = errNoStreams
		}
		p.dialed(key, w, c, err)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// errNoStreams: a new connection's server allows no stream.
var errNoStreams = errors.New("wsclient: the HTTP/2 server allows no streams (SETTINGS_MAX_CONCURRENT_STREAMS 0)")

// reserveLocked reserves a stream on a connection for key with room.
func (p *Pool) reserveLocked(key Key) *Conn {
	for _, c := range p.conns[key] {
		if !c.closed && c.reserve() {
			c.users++
			return c
		}
	}
	return nil
}

// dialed records the outcome of a dial and wakes its waiters.
func (p *Pool) dialed(key Key, w *dialing, c *Conn, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.dialing, key)
	if err == nil {
		c.pool, c.key = p, key
		c.users++ // the stream Acquire reserved for its caller
		p.conns[key] = append(p.conns[key], c)
	} else if errors.Is(err, ErrUseHTTP1) {
		now := time.Now()
		for k, until := range p.useH1 {
			if now.After(until) {
				delete(p.useH1, k)
			}
		}
		p.useH1[key] = now.Add(h1Memory)
	}
	w.err = err
	close(w.done)
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// release ends one user of c; the last one closes the connection.
func (c *Conn) release() {
	p := c.pool
	p.mu.Lock()
	c.users--
	last := c.users == 0 && !c.closed
	if last {
		c.closed = true
		list := p.conns[c.key]
		for i, x := range list {
			if x == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(p.conns, c.key)
		} else {
			p.conns[c.key] = list
		}
	}
	p.mu.Unlock()
	if last {
		c.shutdown()
	}
}
