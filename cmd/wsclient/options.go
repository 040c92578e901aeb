package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wsclient/wsclient"
)

// clientOptions are the interactive client's flags.
type clientOptions struct {
	url            string // normalized: ws:// or wss://
	urlNote        string // how a URL without a scheme was read, for stderr
	headers        headerFlag
	origin         string
	subprotocols   listFlag
	keepalive      durationFlag
	reconnect      bool
	compress       bool
	cacert         string
	cert, key      string
	insecure       bool
	proxy          string
	proxyCACert    string
	follow         bool
	maxMessageSize sizeFlag
	wait           durationFlag
	binary         bool
	base64         bool
	json           bool
	showPingPong   bool
	quiet          bool
	timeout        durationFlag
	version        bool
	http2          http2Flag // --http2 off|auto|only
}

func clientFlagSet(o *clientOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("wsclient", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&o.headers, "H", "")
	fs.Var(&o.headers, "header", "")
	fs.StringVar(&o.origin, "origin", "", "")
	fs.Var(&o.subprotocols, "subprotocol", "")
	fs.Var(&o.keepalive, "keepalive", "")
	fs.BoolVar(&o.reconnect, "reconnect", false, "")
	fs.BoolVar(&o.compress, "compress", false, "")
	fs.StringVar(&o.cacert, "cacert", "", "")
	fs.StringVar(&o.cert, "cert", "", "")
	fs.StringVar(&o.key, "key", "", "")
	fs.BoolVar(&o.insecure, "insecure", false, "")
	fs.StringVar(&o.proxy, "proxy", "", "")
	fs.StringVar(&o.proxyCACert, "proxy-cacert", "", "")
	fs.BoolVar(&o.follow, "L", false, "")
	fs.BoolVar(&o.follow, "follow-redirects", false, "")
	fs.Var(&o.maxMessageSize, "max-message-size", "")
	o.wait = durationFlag(time.Second)
	fs.Var(&o.wait, "wait", "")
	fs.BoolVar(&o.binary, "binary", false, "")
	fs.BoolVar(&o.base64, "base64", false, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.BoolVar(&o.showPingPong, "show-ping-pong", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	o.timeout = durationFlag(30 * time.Second)
	fs.Var(&o.timeout, "timeout", "")
	fs.BoolVar(&o.version, "V", false, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.Var(&o.http2, "http2", "")
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
	if o.version {
		return o, nil
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
	if o.url, o.urlNote, err = normalizeURL(pos[0]); err != nil {
		return nil, err
	}
	if (o.cert == "") != (o.key == "") {
		return nil, errors.New("--cert and --key go together")
	}
	if o.keepalive < 0 {
		return nil, errors.New("--keepalive must not be negative")
	}
	if o.timeout <= 0 {
		return nil, errors.New("--timeout must be positive")
	}
	if o.proxy != "" {
		if _, err := parseProxy(o.proxy); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// normalizeURL checks a URL from the command line and returns it as ws:// or
// wss://. Like wscat, it takes a URL without a scheme ("127.0.0.1:9001",
// "localhost:9001", "example.com/feed") as ws://; note then says so. A bare
// word that cannot be a host name is reported as an unknown command.
func normalizeURL(raw string) (u, note string, err error) {
	if raw == "" {
		return "", "", errors.New("empty URL")
	}
	if !strings.Contains(raw, "://") {
		if !strings.ContainsAny(raw, ".:/[") && !strings.EqualFold(raw, "localhost") {
			return "", "", fmt.Errorf("unknown command %q (for a host of that name, say ws://%s)", raw, raw)
		}
		raw = "ws://" + raw
		note = "no scheme given: connecting to " + redact(raw)
	}
	pu, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, credentials included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", "", fmt.Errorf("bad URL %q: %v", redact(raw), err)
	}
	switch strings.ToLower(pu.Scheme) {
	case "ws", "http":
		pu.Scheme = "ws"
	case "wss", "https":
		pu.Scheme = "wss"
	default:
		return "", "", fmt.Errorf("URL %q: scheme must be ws or wss", redact(raw))
	}
	if pu.Hostname() == "" {
		return "", "", fmt.Errorf("URL %q has no host", redact(raw))
	}
	return pu.String(), note, nil
}

// parseProxy checks a --proxy URL.
func parseProxy(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--proxy %q: want a URL such as http://host:3128, https://host:3129 or socks5://host:1080", redact(s))
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("--proxy %q: scheme must be http, https or socks5", redact(s))
	}
	return u, nil
}

// closeTimeout bounds the wait for the server's answer to our close frame
// (the library's default, set explicitly so that messages can name it).
const closeTimeout = 5 * time.Second

// maxRedirects bounds a redirect chain with -L (as python-websockets does).
const maxRedirects = 10

// discardLogger silences the library's own logs: the command reports
// everything itself (the --insecure warning once, and not with -q).
var discardLogger = slog.New(slog.DiscardHandler)

// defaultMaxMessageSize is the library's default MaxMessageSize, which
// --max-message-size also applies to stdin lines when it is not given.
const defaultMaxMessageSize = 32 << 20

// lineLimit is the longest stdin line sent, in bytes (-1: no limit): the
// --max-message-size that bounds received messages bounds sent lines too,
// so an endless line cannot exhaust memory.
func (o *clientOptions) lineLimit() int64 {
	switch n := int64(o.maxMessageSize); {
	case n == 0:
		return defaultMaxMessageSize
	case n < 0:
		return -1
	default:
		return n
	}
}

// dialer builds the library Dialer from the options. File problems are
// reported as errors (a usage error for the caller).
func (o *clientOptions) dialer() (*wsclient.Dialer, error) {
	d := &wsclient.Dialer{
		Header:                        o.headers.h,
		Origin:                        o.origin,
		Subprotocols:                  o.subprotocols,
		HandshakeTimeout:              time.Duration(o.timeout),
		MaxMessageSize:                int64(o.maxMessageSize),
		InsecureSkipVerifyDangerously: o.insecure,
		CloseTimeout:                  closeTimeout,
		FollowRedirects:               o.follow,
		MaxRedirects:                  maxRedirects,
		Logger:                        discardLogger,
		HTTP2:                         wsclient.HTTP2Mode(o.http2),
	}
	if o.proxy != "" {
		u, err := parseProxy(o.proxy)
		if err != nil {
			return nil, err
		}
		d.Proxy = http.ProxyURL(u)
	}
	if o.proxyCACert != "" {
		// The proxy hop's own TLS settings: never the server's.
		pool, err := loadCertPool("--proxy-cacert", o.proxyCACert)
		if err != nil {
			return nil, err
		}
		d.ProxyTLSConfig = &tls.Config{RootCAs: pool}
	}
	if o.compress {
		d.Compression = &wsclient.CompressionOptions{}
	}
	if o.cacert != "" || o.cert != "" {
		cfg := &tls.Config{}
		if o.cacert != "" {
			pool, err := loadCertPool("--cacert", o.cacert)
			if err != nil {
				return nil, err
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

// loadCertPool reads the PEM certificates of file (named by flag in
// errors).
func loadCertPool(flag, file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %s: no PEM certificate found", flag, file)
	}
	return pool, nil
}

// http2Flag is --http2: off, auto or only (wsclient.HTTP2Off, HTTP2Auto,
// HTTP2Only).
type http2Flag wsclient.HTTP2Mode

func (f *http2Flag) String() string {
	switch wsclient.HTTP2Mode(*f) {
	case wsclient.HTTP2Auto:
		return "auto"
	case wsclient.HTTP2Only:
		return "only"
	}
	return "off"
}

func (f *http2Flag) Set(s string) error {
	switch strings.ToLower(s) {
	case "off", "":
		*f = http2Flag(wsclient.HTTP2Off)
	case "auto":
		*f = http2Flag(wsclient.HTTP2Auto)
	case "only":
		*f = http2Flag(wsclient.HTTP2Only)
	default:
		return fmt.Errorf("want off, auto or only, not %q", s)
	}
	return nil
}
