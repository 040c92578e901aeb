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
	confirmBytes int  // WithConfirmation; 0: off
	redeliver    bool // WithRedelivery
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
// maxMissed consecutive pings went unanswered (not a byte arrived after
// them). Any inbound traffic counts as an answer, including the bytes of a
// large message still arriving. maxMissed < 1 means 3. An interval of 0 (the default) turns keepalive off; a Keepalive action
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

// WithOutboxSize bounds the number of cast and replied frames waiting to be
// written, whether the client is connected or not (default 1024). Beyond
// it Cast returns ErrOutboxFull and a Reply goes to OnUndelivered; Send
// waits for room instead, and OnConnect's replies are always taken. The
// outbox copies frames: size it for the memory it may hold.
func WithOutboxSize(n int) Option {
	return func(c *clientConfig) {
		if n < 1 {
			n = 1
		}
		c.outboxSize = n
	}
}

// WithStopTimeout bounds how long the client takes to stop (Stop,
// cancellation of Serve's context, a StopWith decision, a panic in a
// callback): writing the frames still queued and the close handshake.
// After it the TCP connection is dropped, which also frees a write stuck on
// a server that does not read. Default 5s.
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

// WithReadBufferRetain releases a receive buffer after a message larger
// than n bytes, so that a client that once received a large message does
// not keep its buffer. The default, 0, keeps the connection's buffer for
// messages up to 64 KiB. The buffer of a larger message goes back to a
// pool shared by all clients once HandleFrame returns, and the next large
// message takes it from there: a stream of large messages does not
// allocate, and an idle client holds no large buffer (the pool lets the
// garbage collector free it after two collections). A decompressed
// message's buffer over 64 KiB, grown as it inflates, goes to the same
// pool when its size is one of the pool's (doubling makes powers of two,
// which are); otherwise it is kept with the connection unless n says
// otherwise.
func WithReadBufferRetain(n int) Option {
	return func(c *clientConfig) { c.maxRetainBuf = max(n, 0) }
}
