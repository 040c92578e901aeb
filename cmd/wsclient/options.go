package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wsclient/wsclient"
)

// clientOptions are the interactive client's flags.
type clientOptions struct {
	trace          bool   // -v, --trace: dial phases and stats on stderr (trace.go)
	url            string // normalized: ws:// or wss://
	urlNote        string // how a URL without a scheme was read, for stderr
	headers        headerFlag
	origin         string
	subprotocols   subprotocolFlag
	connect        string // -c/--connect URL (wscat), instead of the argument
	auth           string // --auth user:password (wscat)
	host           string // --host NAME (wscat): the Host header
	keepalive      durationFlag
	reconnect      bool
	compress       bool
	cacert         string
	cert, key      string
	insecure       bool
	insecureFlag   string // the spelling given (--insecure, -k, -n, --no-check), for the warning
	proxy          string
	proxyCACert    string
	follow         bool
	maxMessageSize sizeFlag
	wait           durationFlag
	waitSet        bool        // --wait (or -w, -E) was given
	execute        stringsFlag // -x MSG: send these instead of reading stdin
	oneMessage     bool        // -1: send at most one message, end after the first one received
	slash          bool        // slash commands (/ping, /close ...) in the input
	slashSet       bool        // --slash was given (else: on when stdin is a terminal)
	binary         bool
	base64         bool
	json           bool
	showPingPong   bool
	quiet          bool
	timeout        durationFlag
	version        bool
	http2          http2Flag // --http2 off|auto|only
}

// stringsFlag collects a repeatable flag's values as they are.
type stringsFlag []string

func (f *stringsFlag) String() string     { return strings.Join(*f, "\n") }
func (f *stringsFlag) Set(s string) error { *f = append(*f, s); return nil }

// clientFlagSet defines the interactive client's flags. Several names for
// one flag are aliases: wsclient's own short forms and the spellings of
// wscat and websocat (README.md has the table).
func clientFlagSet(o *clientOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("wsclient", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&o.headers, "H", "")
	fs.Var(&o.headers, "header", "")
	fs.StringVar(&o.origin, "o", "", "")
	fs.StringVar(&o.origin, "origin", "", "")
	fs.StringVar(&o.host, "host", "", "")
	fs.StringVar(&o.auth, "auth", "", "")
	fs.Var(&o.subprotocols, "s", "")
	fs.Var(&o.subprotocols, "subprotocol", "")
	fs.Var(&o.subprotocols, "protocol", "") // websocat
	fs.StringVar(&o.connect, "c", "", "")
	fs.StringVar(&o.connect, "connect", "", "")
	fs.Var(&o.keepalive, "keepalive", "")
	fs.Var(&o.keepalive, "ping-interval", "") // websocat
	fs.BoolVar(&o.reconnect, "reconnect", false, "")
	fs.BoolVar(&o.compress, "compress", false, "")
	fs.StringVar(&o.cacert, "cacert", "", "")
	fs.StringVar(&o.cacert, "ca", "", "") // wscat
	fs.StringVar(&o.cert, "cert", "", "")
	fs.StringVar(&o.key, "key", "", "")
	for _, name := range []string{"insecure", "k", "n", "no-check"} { // websocat -k, wscat -n
		fs.BoolFunc(name, "", func(v string) error {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("want true or false")
			}
			o.insecure, o.insecureFlag = on, dashed(name)
			return nil
		})
	}
	fs.StringVar(&o.proxy, "proxy", "", "")
	fs.StringVar(&o.proxyCACert, "proxy-cacert", "", "")
	fs.BoolVar(&o.follow, "L", false, "")
	fs.BoolVar(&o.follow, "follow-redirects", false, "")
	fs.BoolVar(&o.follow, "location", false, "") // wscat
	fs.Var(&o.maxMessageSize, "max-message-size", "")
	o.wait = durationFlag(time.Second)
	fs.Var(&o.wait, "w", "")
	fs.Var(&o.wait, "wait", "")
	exitOnEOF := func(v string) error { // websocat -E: --wait 0
		if on, err := strconv.ParseBool(v); err != nil || !on {
			return errors.New("takes no value")
		}
		o.wait = 0
		return nil
	}
	fs.BoolFunc("E", "", exitOnEOF)
	fs.BoolFunc("exit-on-eof", "", exitOnEOF)
	fs.Var(&o.execute, "x", "")
	fs.Var(&o.execute, "execute", "")
	fs.BoolVar(&o.oneMessage, "1", false, "")
	fs.BoolVar(&o.oneMessage, "one-message", false, "")
	fs.BoolVar(&o.slash, "slash", false, "")
	fs.BoolVar(&o.binary, "b", false, "")
	fs.BoolVar(&o.binary, "binary", false, "")
	text := func(v string) error { // websocat -t: text messages, the default
		on, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		o.binary = !on
		return nil
	}
	fs.BoolFunc("t", "", text)
	fs.BoolFunc("text", "", text)
	fs.BoolVar(&o.base64, "base64", false, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.BoolVar(&o.showPingPong, "P", false, "")
	fs.BoolVar(&o.showPingPong, "show-ping-pong", false, "")
	fs.BoolFunc("no-color", "", func(string) error { return nil }) // wscat: wsclient never colours
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	o.timeout = durationFlag(30 * time.Second)
	fs.Var(&o.timeout, "timeout", "")
	fs.BoolVar(&o.trace, "v", false, "")
	fs.BoolVar(&o.trace, "trace", false, "")
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
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "w", "wait", "E", "exit-on-eof":
			o.waitSet = true
		case "slash":
			o.slashSet = true
		}
	})
	if o.connect != "" {
		if len(pos) > 0 {
			return nil, fmt.Errorf("-c/--connect %q and the argument %q: give the URL once", redact(o.connect), redact(pos[0]))
		}
		pos = []string{o.connect}
	}
	if o.insecureFlag == "" {
		o.insecureFlag = "--insecure"
	}
	if o.auth != "" || o.host != "" {
		if err := o.authHostHeaders(); err != nil {
			return nil, err
		}
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

// authHostHeaders turns --auth and --host (wscat) into their headers.
func (o *clientOptions) authHostHeaders() error {
	if o.auth != "" {
		if !strings.Contains(o.auth, ":") {
			return errors.New("--auth: want user:password")
		}
		if o.headers.h.Get("Authorization") != "" {
			return errors.New("--auth and -H 'Authorization: ...': give one")
		}
		if err := o.headers.Set("Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(o.auth))); err != nil {
			return fmt.Errorf("--auth: %w", err)
		}
	}
	if o.host != "" {
		if o.headers.h.Get("Host") != "" {
			return errors.New("--host and -H 'Host: ...': give one")
		}
		if err := o.headers.Set("Host: " + o.host); err != nil {
			return fmt.Errorf("--host %q: %w", o.host, err)
		}
	}
	return nil
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
