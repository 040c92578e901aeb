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
	"syscall"
	"time"

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
	if *useTLS {
		opts = append(opts, wstest.WithTLS())
	}
	if *compress {
		opts = append(opts, wstest.WithDeflate(wstest.DeflateOptions{ServerContextTakeover: true, ClientContextTakeover: true}))
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	srv, err := startEcho(opts)
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
	fmt.Fprintln(stderr, "wsclient: stopping")
	return exitOK
}

// startEcho starts wstest's echo server, turning its panic on a listen
// failure into an error.
func startEcho(opts []wstest.Option) (srv *wstest.Server, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	return wstest.NewEchoServer(opts...), nil
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
