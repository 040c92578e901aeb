package main

import (
	"crypto/tls"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/wstest"
)

// runServe runs the embedded echo server until interrupted.
func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsclient serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:0", "")
	useTLS := fs.Bool("tls", false, "")
	compress := fs.Bool("compress", false, "")
	cacertOut := fs.String("cacert-out", "", "")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if isHelp(err) {
			io.WriteString(stdout, serveHelp)
			return exitOK
		}
		return usageError(stderr, err)
	}
	if len(pos) > 0 {
		return usageError(stderr, fmt.Errorf("serve takes no arguments, got %q", pos))
	}
	if *cacertOut != "" && !*useTLS {
		return usageError(stderr, errors.New("--cacert-out needs --tls"))
	}
	// Listen first so that a bad address is reported cleanly (wstest
	// panics when it cannot listen).
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "wsclient: serve: %v\n", err)
		return exitError
	}
	ln.Close()

	opts := []wstest.Option{wstest.WithListenAddr(*addr), wstest.WithRecordLimit(0)}
	echo := &echoServer{conns: map[*wstest.Conn]*echoConn{}}
	if *useTLS {
		opts = append(opts, wstest.WithTLS())
	}
	if *compress {
		opts = append(opts, wstest.WithDeflate(wstest.DeflateOptions{ServerContextTakeover: true, ClientContextTakeover: true}))
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	srv, err := startServer(echo.serve, opts)
	if err != nil {
		fmt.Fprintf(stderr, "wsclient: serve: %v\n", err)
		return exitError
	}
	defer srv.Close()
	// The certificate file exists before the URL is printed, so that a
	// script can use both as soon as it reads the URL.
	if *useTLS {
		path := *cacertOut
		if path == "" {
			path = filepath.Join(os.TempDir(), fmt.Sprintf("wsclient-serve-%d.pem", os.Getpid()))
			defer os.Remove(path)
		}
		if err := writeServerCert(srv.Addr(), path); err != nil {
			fmt.Fprintf(stderr, "wsclient: serve: saving the certificate: %v\n", err)
			return exitError
		}
		fmt.Fprintln(stdout, srv.URL)
		fmt.Fprintf(stderr, "wsclient: self-signed certificate written to %s\nwsclient: connect with: wsclient --cacert %s %s\n", path, path, srv.URL)
	} else {
		fmt.Fprintln(stdout, srv.URL)
		fmt.Fprintf(stderr, "wsclient: echo server listening; connect with: wsclient %s\n", srv.URL)
	}
	fmt.Fprintln(stderr, "wsclient: press Ctrl-C to stop")
	<-sigs
	if n := echo.goAway(); n > 0 {
		fmt.Fprintf(stderr, "wsclient: stopping: closing %d connection(s) with 1001 (going away); Ctrl-C again to drop them at once\n", n)
		select {
		case <-echo.drained(serveCloseTimeout):
		case <-sigs:
		}
	} else {
		fmt.Fprintln(stderr, "wsclient: stopping")
	}
	return exitOK
}

// serveCloseTimeout bounds the wait for clients to answer the server's
// close frame when it stops.
const serveCloseTimeout = 5 * time.Second

// echoServer is wsclient serve's script: an echo server (as wstest's
// Conn.Echo) that, when the server stops, closes every connection with a
// close frame 1001 (going away) instead of dropping it.
type echoServer struct {
	mu      sync.Mutex
	conns   map[*wstest.Conn]*echoConn
	stopped bool
	empty   chan struct{} // closed when the last connection ends after goAway
}

// echoConn orders a connection's echoes with the close frame goAway
// writes: once closing, nothing else is written.
type echoConn struct {
	mu      sync.Mutex
	closing bool
}

// write writes with w unless the connection is closing.
func (ec *echoConn) write(w func() error) error {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if ec.closing {
		return nil
	}
	return w()
}

func (e *echoServer) serve(c *wstest.Conn) error {
	ec := &echoConn{}
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return c.Close(wsclient.CloseGoingAway, "server stopping")
	}
	e.conns[c] = ec
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.conns, c)
		if e.stopped && len(e.conns) == 0 && e.empty != nil {
			close(e.empty)
			e.empty = nil
		}
		e.mu.Unlock()
	}()
	for {
		op, p, err := c.ReadMessage()
		if err != nil {
			if !disconnected(err) {
				ec.write(func() error { return c.Close(wsclient.CloseProtocolError, "") })
			}
			return nil
		}
		switch op {
		case wstest.OpPing:
			err = ec.write(func() error { return c.WriteFrame(true, 0, wstest.OpPong, p) })
		case wstest.OpPong:
		case wstest.OpClose:
			// The client's close, or its answer to ours (then nothing is
			// written): the server closes the TCP connection after it.
			ec.write(func() error { return c.WriteFrame(true, 0, wstest.OpClose, p) })
			return nil
		case wstest.OpText:
			if !utf8.Valid(p) {
				ec.write(func() error { return c.Close(wsclient.CloseInvalidFramePayloadData, "") })
				return nil
			}
			fallthrough
		default:
			err = ec.write(func() error { return c.WriteMessage(op, p) })
		}
		if err != nil {
			return nil
		}
	}
}

// goAway writes a close frame 1001 on every connection and returns their
// number; new connections get one at once.
func (e *echoServer) goAway() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = true
	e.empty = make(chan struct{})
	if len(e.conns) == 0 {
		close(e.empty)
		e.empty = nil
	}
	for c, ec := range e.conns {
		ec.mu.Lock()
		if !ec.closing {
			ec.closing = true
			c.Close(wsclient.CloseGoingAway, "server stopping")
		}
		ec.mu.Unlock()
	}
	return len(e.conns)
}

// drained returns a channel closed when every connection has ended after
// goAway, or after d.
func (e *echoServer) drained(d time.Duration) <-chan struct{} {
	e.mu.Lock()
	empty := e.empty
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(d)
		defer t.Stop()
		if empty == nil {
			return
		}
		select {
		case <-empty:
		case <-t.C:
		}
	}()
	return done
}

// disconnected reports a read error that means the client went away (not
// a protocol violation).
func disconnected(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// startEcho starts wstest's echo server, turning its panic on a listen
// failure into an error.
func startEcho(opts []wstest.Option) (*wstest.Server, error) {
	return startServer((*wstest.Conn).Echo, opts)
}

// startServer starts a wstest server with script, turning its panic on a
// listen failure into an error.
func startServer(script func(*wstest.Conn) error, opts []wstest.Option) (srv *wstest.Server, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	return wstest.NewServer(script, opts...), nil
}

// writeServerCert saves, as PEM, the certificate that the TLS server at addr
// presents (wstest's self-signed certificate is its own CA), so that clients
// can trust it with --cacert.
func writeServerCert(addr, path string) error {
	d := &net.Dialer{Timeout: 5 * time.Second}
	// Verification is off only to fetch the certificate to save; nothing is
	// sent on this connection.
	tc, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec
	if err != nil {
		return err
	}
	defer tc.Close()
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return errors.New("no certificate presented")
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].Raw}), 0o644)
}
