package wsclient

import (
	"log/slog"
	"time"
)

// Options configures a Client; pass it to New or Start. A nil *Options, and
// every zero field, means the default. The Client copies it: changing it
// afterwards has no effect.
type Options struct {
	// Dialer is used for every connection (headers, TLS, proxies,
	// subprotocols, limits). Nil means a zero Dialer. The Client does not
	// modify it.
	Dialer *Dialer

	// Trace, when set, reports what the Client does (state transitions,
	// reconnects, outbox depth, delivery) and, unless Dialer has a Trace of
	// its own, its dials and connections (see Trace).
	Trace *Trace

	// Keepalive sends a ping every Keepalive on each connection and drops
	// the connection with ErrKeepaliveTimeout as the disconnect reason after
	// KeepaliveMissed consecutive pings went unanswered (not a byte arrived
	// after them). Any inbound traffic counts as an answer, including the
	// bytes of a large message still arriving. Zero (the default) turns
	// keepalive off; a Keepalive action from a callback overrides the
	// interval for the current connection. The same bound, Keepalive ×
	// KeepaliveMissed, also limits a connection attempt the server never
	// answers.
	Keepalive time.Duration
	// KeepaliveMissed is the number of unanswered pings tolerated; zero
	// means 3.
	KeepaliveMissed int

	// Backoff computes Disconnect.Backoff, the delay the KeepReconnecting
	// default waits. See Backoff for how zero fields are
	// treated.
	Backoff Backoff

	// OutboxSize bounds the number of cast and replied frames waiting to be
	// written, whether the client is connected or not (zero means 1024).
	// Beyond it Cast returns ErrOutboxFull and a Reply goes to
	// OnUndelivered; Send waits for room instead, and OnConnect's replies
	// are always taken. The outbox copies frames: size it for the memory it
	// may hold.
	OutboxSize int

	// OutboxBytes bounds the payload bytes of the cast and replied frames
	// waiting to be written (the high-water mark; zero or negative: no
	// byte bound, only OutboxSize; 256 KiB holds 10,000 stalled clients'
	// outboxes to 2.5 GiB). A Cast that would take the outbox
	// past it returns ErrOutboxFull, as at OutboxSize, unless nothing
	// waits (a frame larger than the bound goes alone). Send's frames do
	// not count: Send waits for its frame to be written and writes it
	// from the caller's buffer, so a producer that Sends is slowed to the
	// link's pace instead.
	OutboxBytes int
	// OutboxLowBytes is the low-water mark (with OutboxBytes set): after
	// the outbox has refused a frame (ErrOutboxFull), once the bytes waiting have drained to
	// OutboxLowBytes or fewer (and fewer than OutboxSize frames wait),
	// HandleInfo receives a Drained value: cast again. Zero means a
	// quarter of OutboxBytes.
	OutboxLowBytes int

	// StopTimeout bounds how long the client takes to stop (Stop,
	// cancellation of Serve's context, a StopWith decision, a panic in a
	// callback): writing the frames still queued and the close handshake.
	// After it the TCP connection is dropped, which also frees a write stuck
	// on a server that does not read. Zero means 5 s.
	StopTimeout time.Duration

	// Logger receives connection events, undelivered frames and recovered
	// panics. Nil (the default) is silent.
	Logger *slog.Logger

	// ReadBufferRetain releases a receive buffer after a message larger than
	// ReadBufferRetain bytes, so that a client that once received a large
	// message does not keep its buffer. The default, 0, keeps the
	// connection's buffer for messages up to 64 KiB. The buffer of a larger
	// message goes back to a pool shared by all clients once HandleFrame
	// returns, and the next large message takes it from there: a stream of
	// large messages does not allocate, and an idle client holds no large
	// buffer (the pool lets the garbage collector free it after two
	// collections). A decompressed message's buffer over 64 KiB, grown as
	// it inflates, goes to the same pool when its size is one of the pool's
	// (doubling makes powers of two, which are); otherwise it is kept with
	// the connection unless ReadBufferRetain says otherwise.
	ReadBufferRetain int

	// Confirm turns delivery confirmation on: written text and binary
	// frames are kept until the pong of a later ping (or the server's
	// answer to the client's close frame) confirms that the server read
	// them, at most Confirm bytes of payload (plus one batch) at a time; at
	// the bound Cast returns ErrOutboxFull (with OutboxBytes, a Drained
	// follows once a pong makes room) and Send waits. The bound is soft
	// for a callback's replies: they (and the frames queued ahead of them)
	// are written even over it, so that a handler answering the server
	// never stalls on it. A frame written
	// but not confirmed when its connection ends is reported
	// (ErrUnconfirmed) or, with Redelivery, sent again. With confirmation,
	// Send returns nil once its frame is confirmed. Zero or negative (the
	// default) leaves it off. See docs/delivery.md.
	Confirm int

	// Redelivery (with Confirm) sends the frames unconfirmed when a
	// connection ends again on the next connection, ahead of the frames
	// waiting, instead of handing them to OnUndelivered: at-least-once
	// delivery. The server may get a frame twice (it read it, but its pong
	// was lost with the connection); make messages idempotent or carry an
	// id. A frame still unconfirmed when the client terminates goes to
	// OnUndelivered with ErrUnconfirmed.
	Redelivery bool
}

type clientConfig struct {
	dialer       *Dialer
	keepalive    time.Duration
	keepMissed   int
	backoff      Backoff
	outboxSize   int
	outboxBytes  int // Options.OutboxBytes; 0: no byte bound
	outboxLow    int
	drained      func(Drained) // the Client's postDrained, set by New
	stopTimeout  time.Duration
	logger       *slog.Logger
	maxRetainBuf int
	confirmBytes int // Options.Confirm; 0: off
	// confirmNoPong is how long a confirmation ping may go unanswered,
	// without a stray pong, before confirmation is given up on the
	// connection (noPongTimeout; tests shorten it).
	confirmNoPong time.Duration
	redeliver     bool // Options.Redelivery
	trace         *Trace
}

const (
	defaultOutboxSize  = 1024
	defaultStopTimeout = 5 * time.Second
	defaultKeepMissed  = 3
)

// config returns the configuration o describes, defaults filled in.
func (o *Options) config() clientConfig {
	var z Options
	if o == nil {
		o = &z
	}
	cfg := clientConfig{
		dialer:        o.Dialer,
		keepalive:     max(o.Keepalive, 0),
		keepMissed:    o.KeepaliveMissed,
		backoff:       o.Backoff,
		outboxSize:    o.OutboxSize,
		stopTimeout:   o.StopTimeout,
		logger:        o.Logger,
		maxRetainBuf:  max(o.ReadBufferRetain, 0),
		confirmBytes:  max(o.Confirm, 0),
		confirmNoPong: noPongTimeout,
		redeliver:     o.Redelivery,
	}
	if cfg.dialer == nil {
		cfg.dialer = defaultDialer
	}
	cfg.trace, cfg.dialer = traceConfig(o.Trace, cfg.dialer)
	if cfg.keepMissed < 1 {
		cfg.keepMissed = defaultKeepMissed
	}
	if cfg.outboxSize < 1 {
		cfg.outboxSize = defaultOutboxSize
	}
	cfg.outboxBytes = max(o.OutboxBytes, 0)
	cfg.outboxLow = min(max(o.OutboxLowBytes, 0), cfg.outboxBytes)
	if o.OutboxLowBytes == 0 {
		cfg.outboxLow = cfg.outboxBytes / 4
	}
	if cfg.stopTimeout <= 0 {
		cfg.stopTimeout = defaultStopTimeout
	}
	return cfg
}
