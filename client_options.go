package wsclient

import (
	"log/slog"
	"time"
)

// Option configures a Client; pass options to New or Start.
type Option func(*clientConfig)

type clientConfig struct {
	dialer       *Dialer
	keepalive    time.Duration
	keepMissed   int
	backoff      Backoff
	outboxSize   int
	stopTimeout  time.Duration
	logger       *slog.Logger
	maxRetainBuf int
}

const (
	defaultOutboxSize   = 1024
	defaultStopTimeout  = 5 * time.Second
	defaultKeepMissed   = 3
	defaultMaxRetainBuf = 0
)

func defaultClientConfig() clientConfig {
	return clientConfig{
		dialer:       DefaultDialer,
		keepMissed:   defaultKeepMissed,
		backoff:      DefaultBackoff,
		outboxSize:   defaultOutboxSize,
		stopTimeout:  defaultStopTimeout,
		maxRetainBuf: defaultMaxRetainBuf,
	}
}

// WithDialer sets the Dialer used for every connection (headers, TLS,
// proxies, subprotocols, limits). Nil means DefaultDialer. The Client does
// not modify it.
func WithDialer(d *Dialer) Option {
	return func(c *clientConfig) {
		if d == nil {
			d = DefaultDialer
		}
		c.dialer = d
	}
}

// WithKeepalive sends a ping every interval on each connection and drops the
// connection with ErrKeepaliveTimeout as the disconnect reason after
// maxMissed consecutive pings went unanswered (no frame of any kind arrived
// after them). Any inbound traffic counts as an answer. maxMissed < 1 means
// 3. An interval of 0 (the default) turns keepalive off; a Keepalive action
// from a callback overrides the interval for the current connection.
func WithKeepalive(interval time.Duration, maxMissed int) Option {
	return func(c *clientConfig) {
		c.keepalive = max(interval, 0)
		if maxMissed < 1 {
			maxMissed = defaultKeepMissed
		}
		c.keepMissed = maxMissed
	}
}

// WithBackoff sets the backoff used by ReconnectWithBackoff and by the
// KeepReconnecting default. See Backoff for how zero fields are treated.
func WithBackoff(b Backoff) Option { return func(c *clientConfig) { c.backoff = b } }

// WithOutboxSize bounds the number of frames that wait while the client is
// not connected (default 1024). Cast returns ErrOutboxFull beyond it.
func WithOutboxSize(n int) Option {
	return func(c *clientConfig) {
		if n < 1 {
			n = 1
		}
		c.outboxSize = n
	}
}

// WithStopTimeout bounds the close handshake when the client stops (Stop
// without a deadline, cancellation of Serve's context, a panic in a
// callback). After it the TCP connection is dropped. Default 5s.
func WithStopTimeout(d time.Duration) Option {
	return func(c *clientConfig) {
		if d <= 0 {
			d = defaultStopTimeout
		}
		c.stopTimeout = d
	}
}

// WithLogger sets a logger for connection events, undelivered frames and
// recovered panics. Nil (the default) is silent.
func WithLogger(l *slog.Logger) Option { return func(c *clientConfig) { c.logger = l } }

// WithReadBufferRetain releases the receive buffer after a message larger
// than n bytes, so that a connection that once received a large message
// does not keep its buffer. The default, 0, keeps the buffer (up to the
// Dialer's MaxMessageSize) for the connection's life: no allocation per
// message, at the cost of memory on idle connections.
func WithReadBufferRetain(n int) Option {
	return func(c *clientConfig) { c.maxRetainBuf = max(n, 0) }
}
