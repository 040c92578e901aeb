package handshake

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"net/textproto"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Response is the head of the server's handshake response, parsed without
// net/http (whose general-purpose parser costs some 30 allocations a
// handshake; this one costs three). It is as strict as net/http's
// ReadResponse: the same status line and field syntax, field names that are
// tokens, values free of control characters; obsolete line folding is
// joined with a space as net/textproto does.
type Response struct {
	Proto      string // "HTTP/1.1"
	StatusCode int
	Status     string // "101 Switching Protocols", as in http.Response
	Fields     []Field
}

// Field is one header field of a Response, with its name as received and
// its value trimmed of surrounding white space.
type Field struct{ Name, Value string }

// ErrMalformed is returned by ParseResponse for a head that is not valid
// HTTP/1.x.
var ErrMalformed = errors.New("malformed HTTP response")

// HeadEnd returns the length of the response head at the start of b, up to
// and including the empty line that ends it, or -1 if b does not hold a
// whole head yet. Lines end in CRLF or a bare LF.
func HeadEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		line := b[i : i+j]
		i += j + 1
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return i // (an empty status line is ParseResponse's to reject)
		}
	}
}

// ParseResponse parses a response head as HeadEnd delimits it. The strings
// of the Response slice head.
func ParseResponse(head string) (*Response, error) {
	r := &Response{}
	if err := r.Parse(head); err != nil {
		return nil, err
	}
	return r, nil
}

// Parse parses a response head as HeadEnd delimits it into r, whose Fields
// it reuses (appending to Fields[:0]) when they have room. The strings of r
// slice head. On an error r is left empty.
func (r *Response) Parse(head string) error {
	var err error
	*r, err = ParseInto(head, r.Fields)
	return err
}

// ParseInto is ParseResponse into a Response value whose fields are
// appended to fields[:0] while they have room: a caller that passes an
// array on its stack, and keeps the result there, parses with no
// allocation.
func ParseInto(head string, fields []Field) (Response, error) {
	// Locals, put together at the end: escape analysis follows a struct as
	// one, and an error made from the status line would otherwise move
	// fields to the heap.
	line, rest, err := nextLine(head)
	if err != nil {
		return Response{}, err
	}
	proto, status, ok := strings.Cut(line, " ")
	if !ok {
		return Response{}, malformed("status line", line)
	}
	status = strings.TrimLeft(status, " ")
	code, _, _ := strings.Cut(status, " ")
	if len(code) != 3 || !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) {
		return Response{}, malformed("status code", code)
	}
	statusCode := int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	if major, _, ok := http.ParseHTTPVersion(proto); !ok || major != 1 {
		return Response{}, malformed("HTTP version", proto)
	}
	fs := fields[:0]
	if n := strings.Count(rest, "\n"); n > cap(fs) {
		fs = make([]Field, 0, n)
	}
	for {
		if line, rest, err = nextLine(rest); err != nil {
			return Response{}, err
		}
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Obsolete line folding continues the previous value.
			if len(fs) == 0 {
				return Response{}, malformed("header initial line", line)
			}
			f := &fs[len(fs)-1]
			if !validValue(line) {
				return Response{}, malformed("header line", line)
			}
			// As net/textproto: one space, then the line trimmed.
			f.Value = strings.TrimLeft(f.Value+" "+textproto.TrimString(line), " \t")
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) {
			return Response{}, malformed("header line", line)
		}
		if !validValue(value) {
			return Response{}, malformed("header line", line)
		}
		value = textproto.TrimString(value)
		fs = append(fs, Field{Name: name, Value: value})
	}
	if rest != "" {
		return Response{}, malformed("head", "bytes after the empty line")
	}
	return Response{Proto: proto, StatusCode: statusCode, Status: status, Fields: fs}, nil
}

// nextLine splits off the first line of s, which must end in LF (CR LF or
// a bare LF, as net/textproto accepts).
func nextLine(s string) (line, rest string, err error) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return "", "", malformed("head", "unterminated line")
	}
	line, rest = s[:i], s[i+1:]
	line = strings.TrimSuffix(line, "\r")
	return line, rest, nil
}

// validValue reports whether a field value holds no control character but
// horizontal tab (the rule net/textproto applies).
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func malformed(what, s string) error {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return &malformedError{what: what, s: s}
}

type malformedError struct{ what, s string }

func (e *malformedError) Error() string {
	return ErrMalformed.Error() + ": bad " + e.what + " " + strings.ToValidUTF8(quote(e.s), "?")
}

func (e *malformedError) Unwrap() error { return ErrMalformed }

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// next returns the index of the first field named name (compared
// case-insensitively) at or after i, or -1. (Plain loops rather than a
// callback: a Response parsed into fields on the caller's stack keeps
// them there.)
func (r *Response) next(name string, i int) int {
	for ; i < len(r.Fields); i++ {
		if strings.EqualFold(r.Fields[i].Name, name) {
			return i
		}
	}
	return -1
}

// Get returns the first value of the fields named name, or "".
func (r *Response) Get(name string) string {
	if i := r.next(name, 0); i >= 0 {
		return r.Fields[i].Value
	}
	return ""
}

// Values returns the values of the fields named name.
func (r *Response) Values(name string) []string {
	var vs []string
	for i := r.next(name, 0); i >= 0; i = r.next(name, i+1) {
		vs = append(vs, r.Fields[i].Value)
	}
	return vs
}

// count returns how many fields are named name.
func (r *Response) count(name string) int {
	n := 0
	for i := r.next(name, 0); i >= 0; i = r.next(name, i+1) {
		n++
	}
	return n
}

// Header returns the fields as an http.Header (canonical names).
func (r *Response) Header() http.Header {
	h := make(http.Header, len(r.Fields))
	// One array holds the values of every name's first field: a name
	// seen again appends to a copy.
	vals := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		k := canonicalKey(f.Name)
		if vs, ok := h[k]; ok {
			h[k] = append(vs, f.Value)
			continue
		}
		vals[i] = f.Value
		h[k] = vals[i : i+1 : i+1]
	}
	return h
}

// wsKeys are the canonical forms of the handshake's own response fields,
// which servers often spell otherwise ("Sec-WebSocket-Accept"), and which
// net/textproto does not intern.
var wsKeys = [...]string{"Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions", "Sec-Websocket-Version"}

// canonicalKey is textproto.CanonicalMIMEHeaderKey without an allocation
// for the handshake's fields. (Names are tokens, so ASCII: EqualFold does
// no more than ASCII case folding on them.)
func canonicalKey(name string) string {
	if len(name) > 14 && strings.EqualFold(name[:14], "Sec-Websocket-") {
		for _, k := range wsKeys {
			if strings.EqualFold(name, k) {
				return k
			}
		}
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// HTTP returns the head as an *http.Response with an empty body.
func (r *Response) HTTP() *http.Response {
	major, minor, _ := http.ParseHTTPVersion(r.Proto)
	return &http.Response{
		Status: r.Status, StatusCode: r.StatusCode, Proto: r.Proto, ProtoMajor: major, ProtoMinor: minor,
		Header: r.Header(), Body: http.NoBody,
	}
}

// hasToken reports whether a comma-separated field named name contains
// token, compared case-insensitively.
func (r *Response) hasToken(name, token string) bool {
	for i := r.next(name, 0); i >= 0; i = r.next(name, i+1) {
		for v := r.Fields[i].Value; v != ""; {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(textproto.TrimString(t), token) {
				return true
			}
		}
	}
	return false
}

// acceptMatches reports whether v is the Sec-WebSocket-Accept value for
// key, without allocating.
func acceptMatches(v, key string) bool {
	var buf [128]byte
	sum := sha1.Sum(append(append(buf[:0], key...), acceptGUID...))
	var enc [28]byte
	base64.StdEncoding.Encode(enc[:], sum[:])
	return v == string(enc[:])
}
