package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// The example of RFC 6455 section 1.3.
func TestAcceptRFCExample(t *testing.T) {
	if got := Accept("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("Accept = %q", got)
	}
}

func TestNewKeyIsFreshAndSixteenBytes(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := NewKey()
		if len(k) != 24 || !strings.HasSuffix(k, "==") {
			t.Fatalf("key %q is not 16 bytes of base64", k)
		}
		if seen[k] {
			t.Fatal("repeated key")
		}
		seen[k] = true
	}
}

func TestRequestBytes(t *testing.T) {
	u, _ := url.Parse("ws://[::1]:8080/chat?room=1")
	r := Request{URL: u, Key: "k", Origin: "http://o", Subprotocols: []string{"a", "b"}, Extensions: "permessage-deflate",
		Header: http.Header{"X-Test": {"1"}}}
	b, err := r.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	checks := map[string]string{
		"Host": "[::1]:8080", "Upgrade": "websocket", "Connection": "Upgrade", "Sec-Websocket-Version": "13",
		"Sec-Websocket-Key": "k", "Origin": "http://o", "Sec-Websocket-Protocol": "a, b",
		"Sec-Websocket-Extensions": "permessage-deflate", "X-Test": "1",
	}
	for k, want := range checks {
		got := req.Header.Get(k)
		if k == "Host" {
			got = req.Host
		}
		if got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if req.RequestURI != "/chat?room=1" || req.Method != "GET" {
		t.Errorf("request line %s %s", req.Method, req.RequestURI)
	}
	u2, _ := url.Parse("wss://example.com:443")
	r2 := Request{URL: u2, Key: "k"}
	b2, _ := r2.Append(nil)
	if !bytes.Contains(b2, []byte("GET / HTTP/1.1\r\nHost: example.com\r\n")) {
		t.Errorf("default port not elided / empty path not /: %q", b2)
	}
	r2.Header = http.Header{"Sec-WebSocket-Key": {"x"}}
	if _, err := r2.Append(nil); !errors.Is(err, ErrReservedHeader) {
		t.Errorf("reserved header accepted: %v", err)
	}
}

func response(status string, hdr ...string) *Response {
	raw := "HTTP/1.1 " + status + "\r\n" + strings.Join(hdr, "\r\n")
	if len(hdr) > 0 {
		raw += "\r\n"
	}
	raw += "\r\n"
	resp, err := ParseResponse(raw)
	if err != nil {
		panic(err)
	}
	return resp
}

func TestCheck(t *testing.T) {
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	acc := "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	ok := []string{"Upgrade: WebSocket", "Connection: keep-alive, Upgrade", acc}
	cases := []struct {
		name   string
		resp   *Response
		protos []string
		exts   bool
		fail   string
	}{
		{"valid, case-insensitive tokens", response("101 Switching Protocols", ok...), nil, false, ""},
		{"refused", response("403 Forbidden"), nil, false, "refused"},
		{"200", response("200 OK", ok...), nil, false, "refused"},
		{"no upgrade", response("101 Switching Protocols", "Connection: Upgrade", acc), nil, false, "Upgrade"},
		{"no connection", response("101 Switching Protocols", "Upgrade: websocket", acc), nil, false, "Connection"},
		{"bad accept", response("101 Switching Protocols", "Upgrade: websocket", "Connection: upgrade", "Sec-WebSocket-Accept: xxx"), nil, false, "Accept"},
		{"missing accept", response("101 Switching Protocols", "Upgrade: websocket", "Connection: upgrade"), nil, false, "Accept"},
		{"protocol offered", response("101 Switching Protocols", append(ok, "Sec-WebSocket-Protocol: chat")...), []string{"x", "chat"}, false, ""},
		{"protocol not offered", response("101 Switching Protocols", append(ok, "Sec-WebSocket-Protocol: evil")...), []string{"chat"}, false, "not offered"},
		{"protocol with none offered", response("101 Switching Protocols", append(ok, "Sec-WebSocket-Protocol: chat")...), nil, false, "not offered"},
		{"extension not offered", response("101 Switching Protocols", append(ok, "Sec-WebSocket-Extensions: permessage-deflate")...), nil, false, "extensions"},
		{"extension offered", response("101 Switching Protocols", append(ok, "Sec-WebSocket-Extensions: permessage-deflate")...), nil, true, ""},
	}
	for _, c := range cases {
		_, err := Check(c.resp, key, c.protos, c.exts)
		if c.fail == "" && err != nil {
			t.Errorf("%s: unexpected %v", c.name, err)
		}
		if c.fail != "" {
			var f *Failure
			if !errors.As(err, &f) || !strings.Contains(err.Error(), c.fail) {
				t.Errorf("%s: got %v, want a failure mentioning %q", c.name, err, c.fail)
			}
		}
	}
}

// FuzzResponse feeds arbitrary bytes through the response parser and the
// validation: neither may panic, the parser accepts no 101 head that
// net/http.ReadResponse rejects and agrees with it on the status and every
// field, and whatever passes validation carries the right accept value.
func FuzzResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad"))
	f.Add([]byte("HTTP/1.0 101\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n\x81\x02hi"))
	f.Add([]byte("HTTP/1.1 101 OK\nUpgrade: websocket\n X-Folded: a\n\tb\nConnection:upgrade \n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := HeadEnd(b)
		if n < 0 {
			return
		}
		resp, err := ParseResponse(string(b[:n]))
		// Parse into a used Response (the dialer's way) agrees.
		reused := &Response{Proto: "stale", Fields: []Field{{"Stale", "x"}, {}}}
		if rerr := reused.Parse(string(b[:n])); (rerr == nil) != (err == nil) {
			t.Fatalf("Parse into a used Response: %v, ParseResponse: %v", rerr, err)
		} else if err == nil && !reflect.DeepEqual(reused, resp) {
			t.Fatalf("Parse into a used Response: %+v, ParseResponse: %+v", reused, resp)
		}
		if err != nil {
			return
		}
		// The dialer hands responses other than 101 to net/http, and
		// net/http's body framing rules (Content-Length, Transfer-Encoding)
		// do not apply to a 101, which has no body.
		framing := resp.count("Content-Length")+resp.count("Transfer-Encoding") > 0
		hr, herr := http.ReadResponse(bufio.NewReader(bytes.NewReader(b[:n])), nil)
		if herr != nil && (resp.StatusCode != 101 || framing) {
			return
		}
		if herr != nil {
			t.Fatalf("accepted %q, which net/http rejects: %v", b[:n], herr)
		}
		if hr.StatusCode != resp.StatusCode || hr.Status != resp.Status || hr.Proto != resp.Proto {
			t.Fatalf("status %q %d %q, net/http %q %d %q", resp.Proto, resp.StatusCode, resp.Status, hr.Proto, hr.StatusCode, hr.Status)
		}
		h := resp.Header()
		for k, vs := range hr.Header {
			if strings.Join(h[k], "\x00") != strings.Join(vs, "\x00") {
				t.Fatalf("%s: %q, net/http %q", k, h[k], vs)
			}
		}
		if len(h) != len(hr.Header) {
			t.Fatalf("fields %q, net/http %q", h, hr.Header)
		}
		_, err = Check(resp, "dGhlIHNhbXBsZSBub25jZQ==", []string{"chat"}, true)
		if err == nil {
			if resp.StatusCode != 101 || resp.Get("Sec-Websocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
				t.Fatalf("accepted a bad response: %q", b)
			}
		}
	})
}

// The parser rejects what net/http rejects.
func TestParseResponseStrict(t *testing.T) {
	for _, raw := range []string{
		"\r\n",
		"HTTP/1.1\r\n\r\n",
		"HTTP/1.1 1010 X\r\n\r\n",
		"HTTP/1.1 1x1 X\r\n\r\n",
		"HTTP/2.0 101 X\r\n\r\n",
		"HTTX/1.1 101 X\r\n\r\n",
		"HTTP/1.1 101 X\r\n Folded: first\r\n\r\n",
		"HTTP/1.1 101 X\r\nNo colon\r\n\r\n",
		"HTTP/1.1 101 X\r\nBad name : v\r\n\r\n",
		"HTTP/1.1 101 X\r\nA: b\x00c\r\n\r\n",
		"HTTP/1.1 101 X\r\nA: b\rc\r\n\r\n",
	} {
		if _, err := ParseResponse(raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", raw, err)
		}
		if n := HeadEnd([]byte(raw)); n != len(raw) {
			t.Errorf("%q: HeadEnd %d", raw, n)
		}
	}
	r, err := ParseResponse("HTTP/1.1 101 Switching Protocols\nA:  x \r\na: y\r\n\tz\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Values("A"); len(got) != 2 || got[0] != "x" || got[1] != "y z" {
		t.Fatalf("values %q", got)
	}
	if HeadEnd([]byte("HTTP/1.1 101 X\r\nA: b\r\n")) != -1 {
		t.Fatal("HeadEnd found the end of an unfinished head")
	}
}

// Parsing and checking a response allocates the Response and its fields
// only.
func TestCheckAllocs(t *testing.T) {
	raw := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nServer: x\r\n\r\n"
	a := testing.AllocsPerRun(100, func() {
		r, err := ParseResponse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Check(r, "dGhlIHNhbXBsZSBub25jZQ==", nil, false); err != nil {
			t.Fatal(err)
		}
	})
	if a > 2 {
		t.Fatalf("%v allocations, want 2", a)
	}
}

func TestRequestRejectsInjection(t *testing.T) {
	u, _ := url.Parse("ws://example.com/")
	for name, r := range map[string]Request{
		"CRLF in a value":  {URL: u, Header: http.Header{"X-A": {"1\r\nInjected: yes"}}},
		"LF in Host":       {URL: u, Header: http.Header{"Host": {"a\nInjected: yes"}}},
		"bad name":         {URL: u, Header: http.Header{"X A:": {"1"}}},
		"CRLF in Origin":   {URL: u, Origin: "http://o\r\nX: y"},
		"CRLF in protocol": {URL: u, Subprotocols: []string{"a\r\nX: y"}},
		"protocol header":  {URL: u, Header: http.Header{"Sec-WebSocket-Protocol": {"x"}}},
	} {
		if _, err := r.Append(nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Parse into a Response whose fields have room allocates nothing.
func TestParseReusesFields(t *testing.T) {
	const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	r := &Response{Fields: make([]Field, 0, 8)}
	allocs := testing.AllocsPerRun(100, func() {
		if err := r.Parse(head); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Parse: %v allocations, want 0", allocs)
	}
	if len(r.Fields) != 3 || r.Get("upgrade") != "websocket" || r.StatusCode != 101 {
		t.Errorf("Parse: %+v", r)
	}
}

// canonicalKey agrees with net/textproto, allocating nothing for the
// handshake's own fields however they are spelt.
func TestCanonicalKey(t *testing.T) {
	for _, k := range []string{"Sec-WebSocket-Accept", "sec-websocket-protocol", "SEC-WEBSOCKET-EXTENSIONS", "Sec-Websocket-Version", "Sec-WebSocket-Key", "Sec-WebSocket-", "Server", "x-y", "Sec-Websocket-Accept2"} {
		if got, want := canonicalKey(k), textproto.CanonicalMIMEHeaderKey(k); got != want {
			t.Errorf("canonicalKey(%q) = %q, want %q", k, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = canonicalKey("Sec-WebSocket-Accept") }); n != 0 {
		t.Errorf("canonicalKey: %v allocations, want 0", n)
	}
}
