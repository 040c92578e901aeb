package deflate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/klauspost/compress/flate"
)

// ExtensionName is the registered name of the permessage-deflate extension.
const ExtensionName = "permessage-deflate"

// Defaults used when the corresponding Options field is zero.
const (
	// DefaultLevel is the compression level used when Options.Level is 0:
	// klauspost/compress level 1, the fastest LZ77 level (see the package
	// documentation for the numbers behind the choice).
	DefaultLevel = flate.BestSpeed
	// DefaultThreshold is the message size, in bytes, below which messages
	// are sent uncompressed when Options.Threshold is 0.
	DefaultThreshold = 128
	// NotOffered, as Options.ClientMaxWindowBits, leaves the
	// client_max_window_bits parameter out of the offer.
	NotOffered = -1
)

// Options are the client's permessage-deflate settings. The zero value is a
// good default: it offers "permessage-deflate; client_max_window_bits".
type Options struct {
	// ClientNoContextTakeover offers client_no_context_takeover: the client
	// resets its compressor after every message (less memory per
	// connection, worse ratio). The client honours it even if the server
	// leaves the parameter out of its answer.
	ClientNoContextTakeover bool
	// ServerNoContextTakeover offers server_no_context_takeover: the server
	// must reset its compressor after every message, so the client keeps no
	// 32 KiB dictionary per connection. A server that accepts the offer must
	// echo it.
	ServerNoContextTakeover bool
	// ClientMaxWindowBits: 0 offers client_max_window_bits without a value
	// (as browsers do), telling the server it may ask for any window from
	// 8 to 15 bits, which the client can always honour (see the package
	// documentation); 8..15 offers it with that value, a promise that the
	// client uses no larger window; NotOffered (-1) leaves it out, and then
	// the server may not ask for a smaller window.
	ClientMaxWindowBits int
	// ServerMaxWindowBits: 0 does not offer server_max_window_bits; 8..15
	// asks the server to use at most that window (which saves the server
	// memory and shrinks the client's per-connection dictionary).
	ServerMaxWindowBits int
	// Level is the compression level: 0 means DefaultLevel; -1 is the
	// library default (5); 1..9 trade speed for ratio; -2 is Huffman-only.
	Level int
	// Threshold: messages shorter than this many bytes are sent
	// uncompressed. 0 means DefaultThreshold; a negative value compresses
	// every message.
	Threshold int
}

// Params are the parameters agreed in the handshake, as they bind the
// client. Window bits are always 8..15 (15 when the answer set no limit).
type Params struct {
	// ClientNoContextTakeover: the client resets its compressor after every
	// message (offered by the client or demanded by the server).
	ClientNoContextTakeover bool
	// ServerNoContextTakeover: the server resets its compressor after every
	// message, so the client needs no dictionary between messages.
	ServerNoContextTakeover bool
	// ClientMaxWindowBits is the largest LZ77 window the client may use.
	// Below 15 the client compresses with a window-limited encoder.
	ClientMaxWindowBits int
	// ServerMaxWindowBits is the largest window the server will use; the
	// client keeps at most 2^ServerMaxWindowBits bytes of dictionary.
	ServerMaxWindowBits int
}

// Validate reports whether the options are within range.
func (o Options) Validate() error {
	if b := o.ClientMaxWindowBits; b != 0 && b != NotOffered && (b < 8 || b > 15) {
		return fmt.Errorf("deflate: ClientMaxWindowBits %d out of range (0, -1 or 8..15)", b)
	}
	if b := o.ServerMaxWindowBits; b != 0 && (b < 8 || b > 15) {
		return fmt.Errorf("deflate: ServerMaxWindowBits %d out of range (0 or 8..15)", b)
	}
	if l := o.Level; l < flate.HuffmanOnly || l > flate.BestCompression {
		return fmt.Errorf("deflate: Level %d out of range (-2..9)", l)
	}
	return nil
}

// Offer returns the Sec-WebSocket-Extensions request header value that
// offers permessage-deflate with these options, e.g.
// "permessage-deflate; client_max_window_bits".
func (o Options) Offer() (string, error) {
	if err := o.Validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(ExtensionName)
	if o.ClientNoContextTakeover {
		b.WriteString("; client_no_context_takeover")
	}
	if o.ServerNoContextTakeover {
		b.WriteString("; server_no_context_takeover")
	}
	if o.ServerMaxWindowBits != 0 {
		b.WriteString("; server_max_window_bits=")
		b.WriteString(strconv.Itoa(o.ServerMaxWindowBits))
	}
	switch o.ClientMaxWindowBits {
	case NotOffered:
	case 0:
		b.WriteString("; client_max_window_bits")
	default:
		b.WriteString("; client_max_window_bits=")
		b.WriteString(strconv.Itoa(o.ClientMaxWindowBits))
	}
	return b.String(), nil
}

// ErrNegotiation is matched (errors.Is) by every error Accept returns: the
// server's answer is not a valid answer to the offer, and the client must
// fail the connection.
var ErrNegotiation = errors.New("deflate: invalid permessage-deflate answer")

func negErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNegotiation}, args...)...)
}

// Accept checks the server's Sec-WebSocket-Extensions response header
// values (all of them, e.g. resp.Header.Values("Sec-WebSocket-Extensions"))
// against the offer o.Offer() made, following RFC 7692 section 7.1.
//
// It returns ok=false and no error when the server declined (no extension
// in the answer): the connection goes on uncompressed. It returns an error
// matching ErrNegotiation when the header is malformed, names an extension
// other than permessage-deflate (only that one was offered), names
// permessage-deflate more than once, or when a parameter is unknown,
// duplicated, has a malformed or out-of-range value, or is not a valid
// answer to the offer:
//   - client_max_window_bits only if offered, and then with a value 8..15
//     (a value larger than the offered one is allowed: the client keeps to
//     the smaller, RFC 7692 section 7.1.2.2);
//   - server_max_window_bits 8..15, no larger than the offered value, and
//     required when offered (the server accepts that parameter by echoing
//     it); it may also appear unoffered;
//   - server_no_context_takeover required when offered, allowed otherwise;
//   - client_no_context_takeover always allowed;
//   - the *_no_context_takeover parameters take no value.
func (o Options) Accept(headerValues []string) (p Params, ok bool, err error) {
	if err := o.Validate(); err != nil {
		return Params{}, false, err
	}
	exts, err := ParseExtensions(headerValues)
	if err != nil {
		return Params{}, false, fmt.Errorf("%w: %w", ErrNegotiation, err)
	}
	var pmd *Extension
	for i := range exts {
		e := &exts[i]
		if !strings.EqualFold(e.Name, ExtensionName) {
			return Params{}, false, negErr("server answered with extension %q, which was not offered", e.Name)
		}
		if pmd != nil {
			return Params{}, false, negErr("permessage-deflate answered more than once")
		}
		pmd = e
	}
	if pmd == nil {
		return Params{}, false, nil
	}
	p = Params{
		ClientNoContextTakeover: o.ClientNoContextTakeover,
		ClientMaxWindowBits:     15,
		ServerMaxWindowBits:     15,
	}
	if o.ClientMaxWindowBits > 0 {
		p.ClientMaxWindowBits = o.ClientMaxWindowBits
	}
	var seenSNCT, seenCNCT, seenSMWB, seenCMWB bool
	for _, prm := range pmd.Params {
		name := strings.ToLower(prm.Name)
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			seen := &seenSNCT
			if name == "client_no_context_takeover" {
				seen = &seenCNCT
			}
			if *seen {
				return Params{}, false, negErr("duplicate parameter %s", name)
			}
			*seen = true
			if prm.HasValue {
				return Params{}, false, negErr("parameter %s must not have a value (got %q)", name, prm.Value)
			}
			if name == "client_no_context_takeover" {
				p.ClientNoContextTakeover = true
			} else {
				p.ServerNoContextTakeover = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			seen := &seenSMWB
			if name == "client_max_window_bits" {
				seen = &seenCMWB
			}
			if *seen {
				return Params{}, false, negErr("duplicate parameter %s", name)
			}
			*seen = true
			if name == "client_max_window_bits" && o.ClientMaxWindowBits == NotOffered {
				return Params{}, false, negErr("client_max_window_bits in the answer but not offered")
			}
			if !prm.HasValue {
				return Params{}, false, negErr("parameter %s needs a value in the answer", name)
			}
			bits, ok := parseWindowBits(prm.Value)
			if !ok {
				return Params{}, false, negErr("parameter %s=%q: want a decimal 8..15 without leading zeros", name, prm.Value)
			}
			if name == "server_max_window_bits" {
				if o.ServerMaxWindowBits != 0 && bits > o.ServerMaxWindowBits {
					return Params{}, false, negErr("server_max_window_bits=%d larger than the offered %d", bits, o.ServerMaxWindowBits)
				}
				p.ServerMaxWindowBits = bits
			} else {
				p.ClientMaxWindowBits = min(p.ClientMaxWindowBits, bits)
			}
		default:
			return Params{}, false, negErr("unknown parameter %q", prm.Name)
		}
	}
	if o.ServerNoContextTakeover && !seenSNCT {
		return Params{}, false, negErr("server_no_context_takeover was offered but not accepted")
	}
	if o.ServerMaxWindowBits != 0 && !seenSMWB {
		return Params{}, false, negErr("server_max_window_bits was offered but not accepted")
	}
	return p, true, nil
}

// parseWindowBits parses a decimal 8..15 without leading zeros.
func parseWindowBits(s string) (int, bool) {
	switch len(s) {
	case 1:
		if s[0] >= '8' && s[0] <= '9' {
			return int(s[0] - '0'), true
		}
	case 2:
		if s[0] == '1' && s[1] >= '0' && s[1] <= '5' {
			return 10 + int(s[1]-'0'), true
		}
	}
	return 0, false
}

// Extension is one element of a Sec-WebSocket-Extensions list.
type Extension struct {
	Name   string
	Params []Param
}

// Param is one extension parameter. Value is unquoted; HasValue tells
// "name" from "name=".
type Param struct {
	Name     string
	Value    string
	HasValue bool
}

// ParseExtensions parses Sec-WebSocket-Extensions header values (RFC 6455
// section 9.1 with the RFC 7230 list, token and quoted-string rules): each
// value is a comma-separated list of extensions, each a token followed by
// ";"-separated parameters "token" or "token=token" or
// "token=quoted-string"; optional whitespace around separators; empty list
// elements are ignored. A quoted value must unescape to a token (RFC 6455
// section 9.1).
func ParseExtensions(values []string) ([]Extension, error) {
	var exts []Extension
	for _, v := range values {
		var err error
		exts, err = parseExtensionList(exts, v)
		if err != nil {
			return nil, err
		}
	}
	return exts, nil
}

type lexer struct {
	s   string
	pos int
}

func (l *lexer) skipOWS() {
	for l.pos < len(l.s) && (l.s[l.pos] == ' ' || l.s[l.pos] == '\t') {
		l.pos++
	}
}

func (l *lexer) peek() byte {
	if l.pos < len(l.s) {
		return l.s[l.pos]
	}
	return 0
}

func (l *lexer) errorf(format string, args ...any) error {
	return fmt.Errorf("malformed extension header %q at offset %d: %s", l.s, l.pos, fmt.Sprintf(format, args...))
}

func (l *lexer) token() (string, error) {
	start := l.pos
	for l.pos < len(l.s) && isTokenChar(l.s[l.pos]) {
		l.pos++
	}
	if l.pos == start {
		return "", l.errorf("expected a token")
	}
	return l.s[start:l.pos], nil
}

func (l *lexer) quoted() (string, error) {
	l.pos++ // opening quote
	var b []byte
	start := l.pos
	escaped := false
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch {
		case c == '"':
			l.pos++
			if !escaped {
				return l.s[start : l.pos-1], nil
			}
			return string(b), nil
		case c == '\\':
			if l.pos+1 >= len(l.s) {
				return "", l.errorf("unterminated quoted-pair")
			}
			q := l.s[l.pos+1]
			if !(q == '\t' || q == ' ' || (q >= 0x21 && q != 0x7f)) {
				return "", l.errorf("invalid quoted-pair")
			}
			if !escaped {
				escaped = true
				b = append(b, l.s[start:l.pos]...)
			}
			b = append(b, q)
			l.pos += 2
		case c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c != 0x7f):
			// qdtext (obs-text included)
			if escaped {
				b = append(b, c)
			}
			l.pos++
		default:
			return "", l.errorf("invalid character %q in quoted-string", c)
		}
	}
	return "", l.errorf("unterminated quoted-string")
}

func parseExtensionList(exts []Extension, s string) ([]Extension, error) {
	l := &lexer{s: s}
	for {
		// Empty list elements: ", ," is allowed.
		l.skipOWS()
		for l.peek() == ',' {
			l.pos++
			l.skipOWS()
		}
		if l.pos == len(l.s) {
			return exts, nil
		}
		name, err := l.token()
		if err != nil {
			return nil, err
		}
		ext := Extension{Name: name}
		l.skipOWS()
		for l.peek() == ';' {
			l.pos++
			l.skipOWS()
			pn, err := l.token()
			if err != nil {
				return nil, err
			}
			prm := Param{Name: pn}
			l.skipOWS()
			if l.peek() == '=' {
				l.pos++
				l.skipOWS()
				prm.HasValue = true
				if l.peek() == '"' {
					v, err := l.quoted()
					if err != nil {
						return nil, err
					}
					if !isToken(v) {
						return nil, l.errorf("quoted value %q is not a token", v)
					}
					prm.Value = v
				} else {
					v, err := l.token()
					if err != nil {
						return nil, err
					}
					prm.Value = v
				}
				l.skipOWS()
			}
			ext.Params = append(ext.Params, prm)
		}
		exts = append(exts, ext)
		switch l.peek() {
		case ',':
			l.pos++
		case 0:
			if l.pos == len(l.s) {
				return exts, nil
			}
			return nil, l.errorf("unexpected character %q", l.s[l.pos])
		default:
			return nil, l.errorf("unexpected character %q", l.s[l.pos])
		}
	}
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c is an RFC 7230 tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
