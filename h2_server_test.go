//go:build !js

package wsclient

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/internal/test/h2xconnect"
)

// h2Server is Go's own HTTP/2 server (net/http, with GODEBUG
// http2xconnect=1, see package h2xconnect) accepting WebSockets over
// HTTP/2 streams, for the HTTP/2 tests of this package. The request path
// chooses the behaviour:
//
//	/ (any other)        echo every frame back (fragments as they come)
//	/refuse              answer 403 with the body "nope"
//	/headers             send the request headers as JSON, then echo
//	/close?code=N        send a close frame with code N, then echo
//	/reset               accept, then reset the stream (RST_STREAM)
//	/noread              accept, never read
//
// It records how the client ended each stream (ends) and counts TCP
// connections (conns).
type h2Server struct {
	srv       *httptest.Server
	url       string // wss:// or ws:// base URL
	conns     atomic.Int32
	open      atomic.Int32 // TCP connections not yet closed
	openMu    sync.Mutex
	openMoved chan struct{} // closed (and cleared) when open changes; see waitAllClosed
	protocols []string
	deflate   bool
	ends      chan h2End
	closeConn chan struct{}
}

// h2End is how a stream ended on the server side.
type h2End struct {
	path      string
	closeCode int   // close code received, 0 if none
	bodyErr   error // the error reading the request body ended with (io.EOF: END_STREAM)
}

// newH2Server starts the server: with TLS (ALPN h2), or with prior-knowledge
// h2c when tlsOn is false. maxStreams, if non-zero, limits concurrent streams
// per connection.
func newH2Server(t testing.TB, tlsOn bool, maxStreams int) *h2Server {
	t.Helper()
	if !h2xconnect.Enabled() {
		t.Skip("Go's HTTP/2 server needs GODEBUG=http2xconnect=1 and the test binary could not be restarted with it")
	}
	s := &h2Server{ends: make(chan h2End, 1000), protocols: []string{"chat", "superchat"}, closeConn: make(chan struct{})}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: maxStreams}
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.conns.Add(1)
			s.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
			s.openMu.Lock()
			if s.openMoved != nil {
				close(s.openMoved)
				s.openMoved = nil
			}
			s.openMu.Unlock()
		}
	}
	s.srv.Config.ErrorLog = nil
	if tlsOn {
		s.srv.EnableHTTP2 = true
		s.srv.StartTLS()
		s.url = "wss://" + s.srv.Listener.Addr().String()
	} else {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		s.srv.Config.Protocols = &p
		s.srv.Start()
		s.url = "ws://" + s.srv.Listener.Addr().String()
	}
	t.Cleanup(s.srv.Close)
	return s
}

// waitAllClosed waits until every TCP connection to the server has closed.
func (s *h2Server) waitAllClosed(t testing.TB) {
	t.Helper()
	timeout := time.After(waitLong)
	for {
		s.openMu.Lock()
		if s.open.Load() == 0 {
			s.openMu.Unlock()
			return
		}
		if s.openMoved == nil {
			s.openMoved = make(chan struct{})
		}
		moved := s.openMoved
		s.openMu.Unlock()
		select {
		case <-moved:
		case <-timeout:
			t.Fatalf("%d TCP connections still open", s.open.Load())
		}
	}
}

// dialer returns an HTTP2Only Dialer that trusts the server.
func (s *h2Server) dialer() *Dialer {
	d := &Dialer{HTTP2: HTTP2Only, Proxy: NoProxy}
	if strings.HasPrefix(s.url, "wss:") {
		d.TLSConfig = &tls.Config{RootCAs: s.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	}
	return d
}

func (s *h2Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" || r.ProtoMajor != 2 {
		http.Error(w, "want an extended CONNECT", http.StatusBadRequest)
		return
	}
	if r.Header.Get("Sec-Websocket-Version") != "13" {
		http.Error(w, "want version 13", http.StatusBadRequest)
		return
	}
	if r.URL.Path == "/refuse" {
		w.Header().Set("X-Refused", "yes")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "nope")
		return
	}
	for _, offered := range strings.Split(r.Header.Get("Sec-Websocket-Protocol"), ",") {
		offered = strings.TrimSpace(offered)
		if offered != "" && strings.Contains(strings.Join(s.protocols, ","), offered) {
			w.Header().Set("Sec-WebSocket-Protocol", offered)
			break
		}
	}
	if s.deflate && strings.Contains(r.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate") {
		w.Header().Set("Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
	}
	w.Header().Set("Set-Cookie", "h2=yes")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	end := h2End{path: r.URL.Path}
	defer func() { s.ends <- end }()
	send := func(op frame.Opcode, p []byte) error {
		b := frame.Append(nil, frame.Header{Fin: true, Opcode: op, Length: int64(len(p))})
		if _, err := w.Write(append(b, p...)); err != nil {
			return err
		}
		return rc.Flush()
	}
	switch r.URL.Path {
	case "/reset":
		panic(http.ErrAbortHandler) // the server resets the stream
	case "/noread":
		<-r.Context().Done()
		return
	case "/headers":
		b, _ := json.Marshal(r.Header)
		send(frame.OpText, b)
	case "/close":
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		send(frame.OpClose, frame.AppendClose(nil, code, "bye"))
	}
	br := bufio.NewReader(r.Body)
	for {
		h, payload, err := readClientFrame(br)
		if err != nil {
			end.bodyErr = err
			return
		}
		switch h.Opcode {
		case frame.OpPing:
			send(frame.OpPong, payload)
		case frame.OpPong:
		case frame.OpClose:
			code := int(frame.CloseNoStatus)
			if len(payload) >= 2 {
				code = int(binary.BigEndian.Uint16(payload))
			}
			end.closeCode = code
			if r.URL.Path != "/close" {
				send(frame.OpClose, payload)
			}
			// Like a TCP server closing after the close handshake, end
			// the stream; then see how the client ends its side.
			_, end.bodyErr = io.Copy(io.Discard, br)
			if end.bodyErr == nil {
				end.bodyErr = io.EOF
			}
			return
		default:
			b := frame.Append(nil, frame.Header{Fin: h.Fin, RSV: h.RSV, Opcode: h.Opcode, Length: int64(len(payload))})
			if _, err := w.Write(append(b, payload...)); err != nil {
				end.bodyErr = err
				return
			}
			rc.Flush()
		}
	}
}

// readClientFrame reads one masked frame and unmasks its payload.
func readClientFrame(br *bufio.Reader) (frame.Header, []byte, error) {
	b2, err := br.Peek(2)
	if err != nil {
		return frame.Header{}, nil, err
	}
	hb, err := br.Peek(frame.HeaderLen(b2[0], b2[1]))
	if err != nil {
		return frame.Header{}, nil, err
	}
	h, n, err := frame.Parse(hb)
	if err != nil {
		return h, nil, err
	}
	br.Discard(n)
	if !h.Masked {
		return h, nil, errors.New("unmasked client frame")
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(br, payload); err != nil {
		return h, nil, err
	}
	frame.Mask(h.Mask, 0, payload)
	return h, payload, nil
}

// waitEnds collects n stream ends.
func (s *h2Server) waitEnds(t testing.TB, n int) []h2End {
	t.Helper()
	var out []h2End
	for range n {
		out = append(out, recv(t, s.ends))
	}
	return out
}
