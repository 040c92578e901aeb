package h2

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Conn is one HTTP/2 connection of a Pool: the client side of RFC 9113,
// as much of it as extended CONNECT streams need. A read loop goroutine
// (one per connection) reads every frame and files DATA into the streams'
// buffers; writers frame their own bytes under the write lock. Streams
// have no goroutine of their own.
type Conn struct {
	pool  *Pool
	key   Key
	nc    net.Conn
	fr    *http2.Framer
	tls   *tls.ConnectionState // nc's TLS, if any
	first firstSettings        // the server's first SETTINGS, as decoded

	// wmu orders every frame written; the HPACK encoder's state and
	// stream IDs (which must go out in order) are guarded by it too.
	wmu    sync.Mutex
	werr   error // sticky write error
	henc   *hpack.Encoder
	hbuf   bytes.Buffer
	nextID uint32

	mu          sync.Mutex // guards what follows and every Stream's flow state
	streams     map[uint32]*Stream
	reserved    int       // streams reserved by Acquire, not yet opened
	maxStreams  uint32    // the server's SETTINGS_MAX_CONCURRENT_STREAMS
	sendWindow  int64     // connection-level send window
	initWindow  int64     // the server's SETTINGS_INITIAL_WINDOW_SIZE
	maxFrame    int       // largest DATA payload we send
	recvUnacked int       // connection-level DATA received and not yet refunded
	connWaiters []*Stream // writers waiting for the connection's window
	goAway      bool      // the server sent GOAWAY: no new streams
	err         error     // the connection is over (read loop ended)
	writer      *Stream   // the stream whose DATA frame is being written
	wdlSet      bool      // nc has a write deadline set for writer
	baseWDL     time.Time // nc's write deadline between DATA frames
	pendingEnds []pendingEnd

	users    int  // WebSockets open or being opened on it; guarded by pool.mu
	closed   bool // guarded by pool.mu
	readDone chan struct{}
}

const (
	// streamWindow is the receive window of each stream: how much the
	// server may send that the WebSocket has not read yet.
	streamWindow = 256 << 10
	// connWindow is the connection's receive window; it is refunded as
	// DATA arrives, so only the streams' windows bound what is buffered.
	connWindow = 1 << 30
	// maxDataFrame is the largest DATA payload sent, the protocol's
	// initial SETTINGS_MAX_FRAME_SIZE.
	maxDataFrame = 16 << 10
	// defaultMaxStreams is the stream limit when the server sets none.
	defaultMaxStreams = 1000
	// initialSendWindow is RFC 9113's initial flow-control window.
	initialSendWindow = 65535
	// streamCloseWait bounds how long a connection's end waits for the
	// server to close after GOAWAY.
	streamCloseWait = time.Second
)

// pendingEnd is the frame that ends a stream Close could not write at once
// because another goroutine held the write lock: the holder writes it.
type pendingEnd struct {
	s     *Stream
	reset bool // RST_STREAM (CANCEL); END_STREAM otherwise
}

// ErrNoSettings reports a server whose first frame was not a SETTINGS
// frame: it does not speak HTTP/2.
var ErrNoSettings = errors.New("no HTTP/2 SETTINGS from the server")

// ErrNoExtendedConnect reports a server whose SETTINGS do not enable
// extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 section 3).
var ErrNoExtendedConnect = errors.New("the server does not send SETTINGS_ENABLE_CONNECT_PROTOCOL")

// errConnLost ends the streams of a connection that failed.
var errConnLost = errors.New("wsclient: HTTP/2 connection lost")

// NewConn starts HTTP/2 on nc (after TLS with ALPN h2, or from the first
// byte for prior-knowledge h2c): the client preface with our SETTINGS, and
// the server's first SETTINGS, which must enable extended CONNECT.
// maxHeaderBytes bounds the response headers. ctx bounds the set-up. On
// failure nc is closed and the error is ErrNoSettings,
// ErrNoExtendedConnect, ctx's error or an I/O error.
func NewConn(ctx context.Context, nc net.Conn, maxHeaderBytes int) (*Conn, error) {
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	c, err := setUp(nc, maxHeaderBytes)
	if !stop() {
		err = ctx.Err()
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

// setUp exchanges the prefaces.
func setUp(nc net.Conn, maxHeaderBytes int) (*Conn, error) {
	c := &Conn{
		nc:         nc,
		streams:    map[uint32]*Stream{},
		nextID:     1,
		maxStreams: defaultMaxStreams,
		sendWindow: initialSendWindow,
		initWindow: initialSendWindow,
		maxFrame:   maxDataFrame,
		readDone:   make(chan struct{}),
	}
	if tc, ok := nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		c.tls = &st
	}
	pre := &prefixReader{r: nc}
	c.fr = http2.NewFramer(nc, bufio.NewReaderSize(pre, 16<<10))
	c.fr.SetMaxReadFrameSize(maxDataFrame)
	c.fr.SetReuseFrames()
	c.fr.MaxHeaderListSize = uint32(maxHeaderBytes)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.henc = hpack.NewEncoder(&c.hbuf)
	// The preface, our SETTINGS and the connection's window in one write.
	// A server that does not speak HTTP/2 may answer and close before it
	// reads them: its answer still tells what it is.
	werr := writePreface(nc, maxHeaderBytes)
	// The server's first frame must be SETTINGS (RFC 9113 section 3.4).
	var tmp [1024]byte
	var err error
	for !c.first.complete && err == nil {
		var n int
		n, err = nc.Read(tmp[:])
		c.first.feed(tmp[:n])
	}
	switch {
	case !c.first.valid && err != nil && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: %w", ErrNoSettings, err)
	case !c.first.valid:
		return nil, ErrNoSettings
	case !c.first.enableConnect:
		return nil, ErrNoExtendedConnect
	case werr != nil:
		return nil, werr
	}
	n := c.first.frameLen()
	pre.pending = c.first.buf[n:]
	sf, ferr := http2.NewFramer(nil, bytes.NewReader(c.first.buf[:n])).ReadFrame()
	if ferr != nil {
		return nil, ferr
	}
	c.first.buf = nil
	if err := c.applySettings(sf.(*http2.SettingsFrame)); err != nil {
		return nil, err
	}
	// Acknowledged like every SETTINGS (RFC 9113 section 6.5.3): a server
	// may end a connection whose client never does (SETTINGS_TIMEOUT).
	if err := c.fr.WriteSettingsAck(); err != nil {
		return nil, err
	}
	return c, nil
}

// writePreface writes the client's connection preface: the magic, our
// SETTINGS (no push, each stream's receive window, the header limit) and
// the connection's receive window.
func writePreface(nc net.Conn, maxHeaderBytes int) error {
	var buf bytes.Buffer
	buf.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&buf, nil)
	fr.WriteSettings(
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: streamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: uint32(maxHeaderBytes)},
	)
	fr.WriteWindowUpdate(0, connWindow-initialSendWindow)
	_, err := nc.Write(buf.Bytes())
	return err
}

// prefixReader reads pending, then r.
type prefixReader struct {
	pending []byte
	r       io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.pending) > 0 {
		n := copy(b, p.pending)
		p.pending = p.pending[n:]
		if len(p.pending) == 0 {
			p.pending = nil
		}
		return n, nil
	}
	return p.r.Read(b)
}

// MaxStreams is the stream limit of the server's first SETTINGS; 0 if it
// set none.
func (c *Conn) MaxStreams() uint32 { return c.first.maxStreams }

// reserve reserves a stream for a request about to be sent.
func (c *Conn) reserve() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.goAway || c.nextID > 1<<31-1-2*uint32(c.reserved) {
		return false
	}
	if len(c.streams)+c.reserved >= int(c.maxStreams) {
		return false
	}
	c.reserved++
	return true
}

// shutdown ends the connection once its last stream is over: GOAWAY, our
// side closed, and the server given a moment to close its own (so that
// nothing it has not read yet is lost to a reset).
func (c *Conn) shutdown() {
	// A writer blocked on a server that does not read (the read loop
	// answering a PING, say) gives up the write lock in time.
	c.mu.Lock()
	c.baseWDL = time.Now().Add(streamCloseWait)
	c.nc.SetWriteDeadline(c.baseWDL)
	c.mu.Unlock()
	c.wmu.Lock()
	if c.werr == nil {
		c.werr = c.fr.WriteGoAway(0, http2.ErrCodeNo, nil)
		if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && c.werr == nil {
			cw.CloseWrite()
		}
		if c.werr == nil {
			c.werr = net.ErrClosed
		}
	}
	c.unlockW()
	t := time.NewTimer(streamCloseWait)
	select {
	case <-c.readDone:
	case <-t.C:
	}
	t.Stop()
	c.nc.Close()
	<-c.readDone
}

// write runs fn (which writes frames) under the write lock; a failed write
// ends the connection.
func (c *Conn) write(fn func() error) error {
	c.wmu.Lock()
	defer c.unlockW()
	if c.werr != nil {
		return c.werr
	}
	if err := fn(); err != nil {
		c.werr = fmt.Errorf("wsclient: HTTP/2 connection: %w", err)
		c.nc.Close() // the read loop ends every stream
		return c.werr
	}
	return nil
}

// unlockW releases the write lock, first writing the frames that end the
// streams closed while it was held (see Stream.Close).
func (c *Conn) unlockW() {
	for {
		c.mu.Lock()
		ends := c.pendingEnds
		c.pendingEnds = nil
		c.mu.Unlock()
		for _, e := range ends {
			c.writeEndLocked(e)
		}
		c.wmu.Unlock()
		c.mu.Lock()
		more := len(c.pendingEnds) > 0
		c.mu.Unlock()
		// Another goroutine that holds the lock now writes them itself.
		if !more || !c.wmu.TryLock() {
			return
		}
	}
}

// writeEndLocked writes the frame that ends a closed stream; the caller
// holds the write lock.
func (c *Conn) writeEndLocked(e pendingEnd) {
	if c.werr != nil || e.s.sentEnd {
		return
	}
	var err error
	if e.reset {
		err = c.fr.WriteRSTStream(e.s.id, http2.ErrCodeCancel)
	} else {
		e.s.sentEnd = true
		err = c.fr.WriteData(e.s.id, true, nil)
	}
	if err != nil {
		c.werr = fmt.Errorf("wsclient: HTTP/2 connection: %w", err)
		c.nc.Close()
	}
}

// writeWindowUpdate refunds n bytes of receive window of a stream (0: the
// connection).
func (c *Conn) writeWindowUpdate(id uint32, n int) {
	c.write(func() error { return c.fr.WriteWindowUpdate(id, uint32(n)) })
}

// writeReset resets a stream.
func (c *Conn) writeReset(id uint32, code http2.ErrCode) {
	c.write(func() error { return c.fr.WriteRSTStream(id, code) })
}
