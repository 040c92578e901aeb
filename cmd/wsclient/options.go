package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wsclient/wsclient"
)

// clientOptions are the interactive client's flags.
type clientOptions struct {
	url            string
	headers        headerFlag
	origin         string
	subprotocols   listFlag
	keepalive      time.Duration
	reconnect      bool
	compress       bool
	cacert         string
	cert, key      string
	insecure       bool
	maxMessageSize sizeFlag
	wait           durationFlag
	binary         bool
	base64         bool
	json           bool
	showPingPong   bool
	quiet          bool
	timeout        time.Duration
	http2          wsclient.HTTP2Mode // --http2 off|auto|only
}

func clientFlagSet(o *clientOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("wsclient", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&o.headers, "H", "")
	fs.Var(&o.headers, "header", "")
	fs.StringVar(&o.origin, "origin", "", "")
	fs.Var(&o.subprotocols, "subprotocol", "")
	fs.DurationVar(&o.keepalive, "keepalive", 0, "")
	fs.BoolVar(&o.reconnect, "reconnect", false, "")
	fs.BoolVar(&o.compress, "compress", false, "")
	fs.StringVar(&o.cacert, "cacert", "", "")
	fs.StringVar(&o.cert, "cert", "", "")
	fs.StringVar(&o.key, "key", "", "")
	fs.BoolVar(&o.insecure, "insecure", false, "")
	fs.Var(&o.maxMessageSize, "max-message-size", "")
	o.wait = durationFlag(time.Second)
	fs.Var(&o.wait, "wait", "")
	fs.BoolVar(&o.binary, "binary", false, "")
	fs.BoolVar(&o.base64, "base64", false, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.BoolVar(&o.showPingPong, "show-ping-pong", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "")
	fs.TextVar(&o.http2, "http2", wsclient.HTTP2Off, "")
	return fs
}

// parseClientArgs parses the interactive client's command line.
func parseClientArgs(args []string) (*clientOptions, error) {
	o := &clientOptions{}
	fs := clientFlagSet(o)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case len(pos) == 0:
		return nil, errors.New("no URL given")
	case len(pos) > 1:
		if pos[0] != "" && !strings.Contains(pos[0], "://") && len(pos[0]) < 20 {
			return nil, fmt.Errorf("unknown command %q", pos[0])
		}
		return nil, fmt.Errorf("one URL expected, got %d arguments: %q", len(pos), pos)
	}
	u, err := url.Parse(pos[0])
	if err != nil {
		return nil, fmt.Errorf("bad URL: %v", err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	case "":
		return nil, fmt.Errorf("URL %q has no scheme: did you mean ws://%s ?", pos[0], pos[0])
	default:
		return nil, fmt.Errorf("URL %q: scheme must be ws or wss", pos[0])
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", pos[0])
	}
	o.url = pos[0]
	if (o.cert == "") != (o.key == "") {
		return nil, errors.New("--cert and --key go together")
	}
	if o.keepalive < 0 {
		return nil, errors.New("--keepalive must not be negative")
	}
	if o.timeout <= 0 {
		return nil, errors.New("--timeout must be positive")
	}
	return o, nil
}

// dialer builds the library Dialer from the options. File problems are
// reported as errors (a usage error for the caller).
func (o *clientOptions) dialer() (*wsclient.Dialer, error) {
	d := &wsclient.Dialer{
		Header:                        o.headers.h,
		Origin:                        o.origin,
		Subprotocols:                  o.subprotocols,
		HandshakeTimeout:              o.timeout,
		MaxMessageSize:                int64(o.maxMessageSize),
		InsecureSkipVerifyDangerously: o.insecure,
		HTTP2:                         o.http2,
	}
	if o.compress {
		d.Compression = &wsclient.CompressionOptions{}
	}
	if o.cacert != "" || o.cert != "" {
		cfg := &tls.Config{}
		if o.cacert != "" {
			pem, err := os.ReadFile(o.cacert)
			if err != nil {
				return nil, fmt.Errorf("--cacert: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--cacert %s: no PEM certificate found", o.cacert)
			}
			cfg.RootCAs = pool
		}
		if o.cert != "" {
			cert, err := tls.LoadX509KeyPair(o.cert, o.key)
			if err != nil {
				return nil, fmt.Errorf("--cert/--key: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		d.TLSConfig = cfg
	}
	return d, nil
}
