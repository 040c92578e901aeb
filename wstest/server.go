package wstest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// TB is the part of testing.TB that a Server uses: *testing.T, *testing.B
// and *testing.F satisfy it.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Option configures a Server. Options are applied in order by NewServer and
// NewEchoServer.
type Option func(*config)

type config struct {
	addr         string
	tls          bool
	tb           TB
	status       int
	body         string
	header       http.Header
	subprotocols []string
	subprotoFunc func(offered []string) string
	extensions   *string
	deflate      *DeflateOptions
	accept       *string
	raw          func(*http.Request) []byte
	delay        time.Duration
	after        []byte
	readLimit    int64
	recordLimit  int
}

// DefaultReadLimit is the largest frame payload and message (after
// decompression) that a Conn reads unless WithReadLimit says otherwise.
const DefaultReadLimit = 64 << 20

// DefaultRecordLimit is the number of client frames each Conn records unless
// WithRecordLimit says otherwise.
const DefaultRecordLimit = 4096

// WithT reports script errors with t.Errorf as they happen, fails with
// t.Fatalf when the listener cannot be created, and registers Server.Close
// with t.Cleanup.
func WithT(t TB) Option { return func(c *config) { c.tb = t } }

// WithTLS serves wss:// with a freshly generated self-signed ECDSA
// certificate valid for 127.0.0.1, ::1 and localhost. Clients trust it
// through Server.CertPool or Server.ClientTLSConfig.
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithListenAddr sets the address to listen on (default "127.0.0.1:0"), for
// example "[::1]:0" for IPv6 or a fixed port.
func WithListenAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithStatus refuses every handshake with the given HTTP status code (not
// 101) and body; add headers with WithResponseHeader. The connection is
// closed after the response and the script does not run.
func WithStatus(code int, body string) Option {
	return func(c *config) { c.status, c.body = code, body }
}

// WithResponseHeader adds header fields to the handshake response (101 or
// refusal). A field with the same name as a generated one (Upgrade,
// Connection, Sec-WebSocket-Accept, Content-Length ...) replaces it, and a
// field with no values (nil slice) removes it.
func WithResponseHeader(h http.Header) Option {
	return func(c *config) {
		if c.header == nil {
			c.header = http.Header{}
		}
		for k, v := range h {
			c.header[http.CanonicalHeaderKey(k)] = slices.Clone(v)
		}
	}
}

// WithSubprotocols selects, as a server normally does, the first subprotocol
// offered by the client that is in supported. When none matches, no
// Sec-WebSocket-Protocol is answered.
func WithSubprotocols(supported ...string) Option {
	return func(c *config) { c.subprotocols = supported }
}

// WithSubprotocolFunc answers Sec-WebSocket-Protocol with fn(offered) (no
// header when it returns ""). fn may return a value the client did not offer.
// It takes precedence over WithSubprotocols.
func WithSubprotocolFunc(fn func(offered []string) string) Option {
	return func(c *config) { c.subprotoFunc = fn }
}

// WithExtensions answers Sec-WebSocket-Extensions with the raw string ext
// (no header when ext is ""), whatever the client offered. It disables the
// permessage-deflate negotiation of WithDeflate: frames are not compressed
// or decompressed.
func WithExtensions(ext string) Option { return func(c *config) { c.extensions = &ext } }

// WithDeflate accepts permessage-deflate (RFC 7692) when the client offers
// it; see DeflateOptions. Conn.ReadMessage then decompresses messages whose
// first frame has RSV1, and Conn.WriteMessage (and so Echo) compresses.
func WithDeflate(o DeflateOptions) Option { return func(c *config) { c.deflate = &o } }

// WithAccept sends accept as the Sec-WebSocket-Accept value instead of the
// correct one.
func WithAccept(accept string) Option { return func(c *config) { c.accept = &accept } }

// WithRawResponse replaces the generated handshake response with the bytes fn
// returns for the client's request (AcceptKey helps to build a valid one).
// The script then runs as after a normal handshake. When fn returns no bytes
// nothing is written, and the script writes the response itself (for
// example with Conn.WriteChunked).
func WithRawResponse(fn func(r *http.Request) []byte) Option {
	return func(c *config) { c.raw = fn }
}

// WithHandshakeDelay waits d after reading the request before answering it.
func WithHandshakeDelay(d time.Duration) Option { return func(c *config) { c.delay = d } }

// WithBytesAfterResponse sends b right after the handshake response, in the
// same TCP write (for example a first frame: see Frame.Bytes).
func WithBytesAfterResponse(b []byte) Option {
	return func(c *config) { c.after = slices.Clone(b) }
}

// WithReadLimit sets the largest frame payload and message (after
// decompression) a Conn accepts; default DefaultReadLimit.
func WithReadLimit(n int64) Option { return func(c *config) { c.readLimit = n } }

// WithRecordLimit sets how many client frames each Conn records for
// Conn.Frames; default DefaultRecordLimit. 0 records none (for long-running
// servers), a negative n records all.
func WithRecordLimit(n int) Option { return func(c *config) { c.recordLimit = n } }

// Server is a WebSocket server on a loopback listener that completes
// handshakes as configured and then runs a script per connection.
type Server struct {
	// URL is ws://host:port or wss://host:port, without a path: the server
	// answers any path.
	URL string

	cfg    config
	script func(*Conn) error
	ln     net.Listener
	tlsCfg *tls.Config
	pool   *x509.CertPool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu     sync.Mutex
	conns  []*Conn
	errs   []error
	closed bool
}

// NewServer starts a server that runs script on each connection after a
// successful handshake, on its own goroutine. The error script returns (or a
// panic in it) is reported through Err and, with WithT, t.Errorf; errors
// caused by Server.Close are not. When script returns, the TCP connection is
// closed (without a close frame, unless the script sent one). A nil script
// ends each connection right after the handshake.
//
// NewServer panics (or calls t.Fatalf with WithT) if it cannot listen.
func NewServer(script func(*Conn) error, opts ...Option) *Server {
	s := &Server{script: script, cfg: config{
		addr:        "127.0.0.1:0",
		readLimit:   DefaultReadLimit,
		recordLimit: DefaultRecordLimit,
	}}
	for _, o := range opts {
		o(&s.cfg)
	}
	fail := func(err error) {
		if s.cfg.tb != nil {
			s.cfg.tb.Helper()
			s.cfg.tb.Fatalf("wstest: %v", err)
		}
		panic("wstest: " + err.Error())
	}
	scheme := "ws"
	if s.cfg.tls {
		scheme = "wss"
		cfg, pool, err := newCert()
		if err != nil {
			fail(err)
		}
		s.tlsCfg, s.pool = cfg, pool
	}
	ln, err := net.Listen("tcp", s.cfg.addr)
	if err != nil {
		fail(err)
	}
	s.ln = ln
	s.URL = scheme + "://" + ln.Addr().String()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.acceptLoop()
	if s.cfg.tb != nil {
		s.cfg.tb.Cleanup(s.Close)
	}
	return s
}

// NewEchoServer starts a server whose script is Conn.Echo: it echoes text and
// binary messages, answers pings and the close handshake. Combine it with
// WithDeflate for compressed echo.
func NewEchoServer(opts ...Option) *Server {
	return NewServer((*Conn).Echo, opts...)
}

// Addr returns the listener's address as host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the listener, closes every connection and waits for all
// scripts to return. It may be called more than once, but not from a script.
func (s *Server) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := slices.Clone(s.conns)
		s.mu.Unlock()
		s.cancel()
		s.ln.Close()
		for _, c := range conns {
			c.nc.Close()
		}
		s.wg.Wait()
	})
}

// Conns returns every accepted TCP connection so far, in accept order,
// including those whose handshake failed or was refused.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.conns)
}

// Err returns the errors reported so far (script errors, panics, invalid
// handshake requests, protocol violations seen by Echo), joined, or nil.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// CertPool returns a pool that trusts the server's certificate, or nil
// without WithTLS.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// ClientTLSConfig returns a new client configuration that trusts the
// server's certificate, or nil without WithTLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.pool == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.pool}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for id := 1; ; {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(5 * time.Millisecond): // transient error (EMFILE ...)
				continue
			}
		}
		c := newConn(s, nc, id)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns = append(s.conns, c)
		s.wg.Add(1)
		s.mu.Unlock()
		id++
		go s.serve(c)
	}
}

func (s *Server) serve(c *Conn) {
	defer s.wg.Done()
	defer close(c.done)
	defer c.release()
	defer c.nc.Close()
	if s.tlsCfg != nil {
		tc := tls.Server(c.nc, s.tlsCfg)
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			return // clients refusing our certificate are not our error
		}
		c.setRW(tc)
	}
	ok, err := c.handshake()
	if err != nil {
		s.report(c, err)
	}
	if !ok || s.script == nil {
		return
	}
	if err := s.run(c); err != nil {
		if s.ctx.Err() != nil && errors.Is(err, net.ErrClosed) {
			return
		}
		s.report(c, err)
	}
}

func (s *Server) run(c *Conn) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("script panicked: %v\n%s", v, debug.Stack())
		}
	}()
	return s.script(c)
}

func (s *Server) report(c *Conn, err error) {
	err = fmt.Errorf("wstest: connection %d: %w", c.id, err)
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
	if s.cfg.tb != nil {
		s.cfg.tb.Errorf("%v", err)
	}
}

// newCert makes a self-signed ECDSA P-256 certificate for the loopback
// names, and a pool that trusts it.
func newCert() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"wstest"}, CommonName: "wstest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, pool, nil
}
