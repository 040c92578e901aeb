package wstest

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// AcceptKey returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key
// (RFC 6455 section 4.2.2).
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// headerToken reports whether a comma-separated header has token (any case).
func headerToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// listValues splits every value of a comma-separated header.
func listValues(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// validate checks an opening handshake request. It returns the status to
// answer and a description of the problem, or 0 and "".
func validate(r *http.Request) (int, string) {
	switch {
	case r.Method != http.MethodGet:
		return http.StatusMethodNotAllowed, "method " + r.Method + ", want GET"
	case !r.ProtoAtLeast(1, 1):
		return http.StatusBadRequest, "protocol " + r.Proto + ", want HTTP/1.1"
	case r.Host == "":
		return http.StatusBadRequest, "no Host header"
	case !headerToken(r.Header, "Upgrade", "websocket"):
		return http.StatusBadRequest, fmt.Sprintf("Upgrade header %q lacks websocket", r.Header.Values("Upgrade"))
	case !headerToken(r.Header, "Connection", "upgrade"):
		return http.StatusBadRequest, fmt.Sprintf("Connection header %q lacks upgrade", r.Header.Values("Connection"))
	}
	if v := r.Header.Values("Sec-WebSocket-Version"); len(v) != 1 || v[0] != "13" {
		return http.StatusUpgradeRequired, fmt.Sprintf("Sec-WebSocket-Version %q, want 13", v)
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return http.StatusBadRequest, fmt.Sprintf("%d Sec-WebSocket-Key headers, want 1", len(keys))
	}
	if k, err := base64.StdEncoding.DecodeString(keys[0]); err != nil || len(k) != 16 {
		return http.StatusBadRequest, fmt.Sprintf("Sec-WebSocket-Key %q is not 16 bytes in base64", keys[0])
	}
	return 0, ""
}

// field is one response header line; an ordered list keeps the conventional
// spelling and order of the generated response.
type field struct{ name, value string }

func applyOverrides(fields []field, h http.Header) []field {
	for name, vals := range h {
		var out []field
		done := false
		for _, f := range fields {
			if !strings.EqualFold(f.name, name) {
				out = append(out, f)
			} else if !done {
				for _, v := range vals {
					out = append(out, field{f.name, v})
				}
				done = true
			}
		}
		if !done {
			for _, v := range vals {
				out = append(out, field{name, v})
			}
		}
		fields = out
	}
	return fields
}

func response(code int, fields []field, body string) []byte {
	var b bytes.Buffer
	text := http.StatusText(code)
	if text == "" {
		text = "Status " + strconv.Itoa(code)
	}
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", code, text)
	for _, f := range fields {
		fmt.Fprintf(&b, "%s: %s\r\n", f.name, f.value)
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.Bytes()
}

func refusal(code int, h http.Header, body string) []byte {
	fields := []field{
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Length", strconv.Itoa(len(body))},
		{"Connection", "close"},
	}
	if code == http.StatusUpgradeRequired {
		fields = append(fields, field{"Sec-WebSocket-Version", "13"})
	}
	return response(code, applyOverrides(fields, h), body)
}

// handshake reads and answers the opening handshake. ok reports whether the
// script should run; err is a problem to report.
func (c *Conn) handshake() (ok bool, err error) {
	cfg := &c.srv.cfg
	r, err := http.ReadRequest(c.br)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || ignoreDisconnect(err) == nil {
			return false, nil
		}
		_ = c.WriteRaw(refusal(http.StatusBadRequest, nil, "bad request\n"))
		return false, fmt.Errorf("reading handshake request: %w", err)
	}
	c.mu.Lock()
	c.req = r
	c.mu.Unlock()
	if code, msg := validate(r); code != 0 {
		_ = c.WriteRaw(refusal(code, nil, msg+"\n"))
		return false, errors.New("invalid handshake request: " + msg)
	}
	if cfg.delay > 0 {
		t := time.NewTimer(cfg.delay)
		select {
		case <-t.C:
		case <-c.srv.ctx.Done():
			t.Stop()
			return false, nil
		}
	}
	if cfg.status != 0 && cfg.status != http.StatusSwitchingProtocols {
		_ = c.WriteRaw(refusal(cfg.status, cfg.header, cfg.body))
		return false, nil
	}
	if cfg.raw != nil {
		b := cfg.raw(r)
		if len(b) > 0 || len(cfg.after) > 0 {
			if err := c.WriteRaw(append(b, cfg.after...)); err != nil {
				return false, nil
			}
		}
		return true, nil
	}

	accept := AcceptKey(r.Header.Get("Sec-WebSocket-Key"))
	if cfg.accept != nil {
		accept = *cfg.accept
	}
	fields := []field{
		{"Upgrade", "websocket"},
		{"Connection", "Upgrade"},
		{"Sec-WebSocket-Accept", accept},
	}
	offered := listValues(r.Header, "Sec-WebSocket-Protocol")
	var proto string
	if cfg.subprotoFunc != nil {
		proto = cfg.subprotoFunc(offered)
	} else {
	search:
		for _, o := range offered {
			for _, s := range cfg.subprotocols {
				if o == s {
					proto = o
					break search
				}
			}
		}
	}
	if proto != "" {
		fields = append(fields, field{"Sec-WebSocket-Protocol", proto})
	}
	var ext string
	var d *deflater
	switch {
	case cfg.extensions != nil:
		ext = *cfg.extensions
	case cfg.deflate != nil:
		ext, d = negotiateDeflate(r.Header.Values("Sec-WebSocket-Extensions"), *cfg.deflate)
	}
	if ext != "" {
		fields = append(fields, field{"Sec-WebSocket-Extensions", ext})
	}
	c.mu.Lock()
	c.subproto, c.ext, c.deflate = proto, ext, d
	c.mu.Unlock()
	resp := response(http.StatusSwitchingProtocols, applyOverrides(fields, cfg.header), "")
	if err := c.WriteRaw(append(resp, cfg.after...)); err != nil {
		return false, nil // the client gave up; not the server's problem
	}
	return true, nil
}
