package wsclient

import (
	"log/slog"
	"time"
)

// Keepalive: the connected state's timer ticks every interval. Any byte
// read from the socket since the last tick counts as life; otherwise an
// outstanding ping counts as missed, and after maxMissed the connection is
// dropped with ErrKeepaliveTimeout. The ping is written ahead of the frames
// waiting in the outbox. During a connection attempt the connecting state's
// timer (interval × maxMissed) plays the same part for the handshake.
// With confirmation, the keepalive pings are confirmation pings, and
// interval × maxMissed also bounds how long one may stay unanswered after
// a pong with another payload (client_confirm.go).

type keepalive struct {
	interval    time.Duration
	missed      int
	outstanding bool
	last        uint64
}

// setKeepalive (re)starts the keepalive with interval d on the current
// connection; 0 turns it off.
func (c *Client) setKeepalive(d time.Duration) {
	if c.m.st != phConnected {
		return
	}
	c.m.ka = keepalive{interval: d, last: c.m.conn.t().bytesRead()}
	c.ob.setConfirmTimeout(c.m.conn, max(d, 0)*time.Duration(c.cfg.keepMissed))
	if d <= 0 {
		c.disarm()
		return
	}
	c.arm(d)
}

func (c *Client) stopKeepalive() { c.m.ka = keepalive{} }

// keepaliveTick runs when the connected state's timer fires.
func (c *Client) keepaliveTick() {
	k, cc := &c.m.ka, c.m.conn
	if k.interval <= 0 || cc == nil {
		return
	}
	if in := cc.t().bytesRead(); in != k.last {
		k.last, k.missed, k.outstanding = in, 0, false
	} else if k.outstanding {
		k.missed++
		if k.missed >= c.cfg.keepMissed {
			c.log(slog.LevelDebug, "wsclient: keepalive timeout", "missed", k.missed)
			c.stopKeepalive()
			c.ob.detach(cc)
			c.enter(phDropped, 0)
			cc.cn.CloseNow()
			return
		}
	}
	if c.ob.queueConfirmPing(cc) {
		k.outstanding = true
		c.kick()
	}
	c.arm(k.interval)
}
