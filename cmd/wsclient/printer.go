package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// printer writes events: received messages to stdout (one per line, text as
// is, binary as hex or base64), status lines to stderr; or, with JSON, one
// JSON object per event to stdout. It is safe for concurrent use.
type printer struct {
	mu           sync.Mutex
	out          *bufio.Writer
	errw         io.Writer
	json         bool
	base64       bool
	showPingPong bool
	quiet        bool
	now          func() time.Time

	// marks: stdout is a terminal; received messages are printed after
	// "< " and, with prompt (stdin is a terminal too), typed lines after a
	// "> " prompt, as wscat does. promptShown: the prompt is the last thing
	// on the screen.
	marks, prompt, promptShown bool
}

// event is the JSON form of everything that happens on a connection. The
// fields used depend on Event; see the help text.
type event struct {
	Event       string  `json:"event"`
	Time        string  `json:"time"`
	Type        string  `json:"type,omitempty"`
	Data        *string `json:"data,omitempty"`
	Encoding    string  `json:"encoding,omitempty"`
	Size        *int    `json:"size,omitempty"`
	URL         string  `json:"url,omitempty"`
	Subprotocol string  `json:"subprotocol,omitempty"`
	Extensions  string  `json:"extensions,omitempty"`
	Code        int     `json:"code,omitempty"`
	Reason      *string `json:"reason,omitempty"`
	By          string  `json:"by,omitempty"`
	Error       string  `json:"error,omitempty"`
	Location    string  `json:"location,omitempty"`
	Attempt     int     `json:"attempt,omitempty"`
	DelayMS     *int64  `json:"delay_ms,omitempty"`
}

func newPrinter(stdout, stderr io.Writer) *printer {
	return &printer{out: bufio.NewWriter(stdout), errw: stderr, now: time.Now}
}

func (p *printer) encodeBinary(b []byte) (string, string) {
	if p.base64 {
		return base64.StdEncoding.EncodeToString(b), "base64"
	}
	return hex.EncodeToString(b), "hex"
}

// emit writes a JSON event; the caller holds p.mu.
func (p *printer) emit(e event) {
	e.URL, e.Error, e.Location = redact(e.URL), redact(e.Error), redact(e.Location)
	e.Time = p.now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(e)
	if err != nil { // cannot happen for this struct
		b = []byte(`{"event":"error","error":"json encoding failed"}`)
	}
	p.out.Write(b)
	p.out.WriteByte('\n')
	p.out.Flush()
}

// statusLocked writes a human status line to stderr unless quiet.
func (p *printer) statusLocked(format string, a ...any) {
	if p.quiet {
		return
	}
	p.clearPromptLocked()
	fmt.Fprint(p.errw, terminalSafe(redact(fmt.Sprintf("wsclient: "+format+"\n", a...))))
}

// clearPromptLocked erases a "> " prompt before other output.
func (p *printer) clearPromptLocked() {
	if p.promptShown {
		p.out.WriteString("\r\x1b[K")
		p.out.Flush()
		p.promptShown = false
	}
}

// showPrompt shows the "> " prompt for the next typed line, when stdin and
// stdout are terminals.
func (p *printer) showPrompt() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.showPromptLocked()
}

func (p *printer) showPromptLocked() {
	if p.prompt && !p.json && !p.promptShown {
		p.out.WriteString("> ")
		p.out.Flush()
		p.promptShown = true
	}
}

// typed notes that the user ended a line: the prompt it was typed after
// scrolled up with it.
func (p *printer) typed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.promptShown = false
}

// message prints a received text or binary message.
func (p *printer) message(binary bool, data []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		e := event{Event: "message", Type: "text", Size: ptr(len(data))}
		var s string
		if binary {
			e.Type = "binary"
			s, e.Encoding = p.encodeBinary(data)
		} else {
			s = string(data)
		}
		e.Data = &s
		p.emit(e)
		return
	}
	reprompt := p.promptShown
	p.clearPromptLocked()
	if p.marks {
		p.out.WriteString("< ")
	}
	switch {
	case binary:
		s, _ := p.encodeBinary(data)
		p.out.WriteString(s)
	case p.marks:
		// A terminal: the server's text must not drive it.
		p.out.WriteString(terminalSafe(string(data)))
	default:
		p.out.Write(data)
	}
	p.out.WriteByte('\n')
	if reprompt {
		p.showPromptLocked()
	}
	p.out.Flush()
}

// control prints a received ping or pong if asked to (--show-ping-pong, or
// force). A payload that is UTF-8 text is shown as text (quoted, in text
// mode); any other as hex or base64, which is said.
func (p *printer) control(kind string, payload []byte, force bool) {
	if !p.showPingPong && !force {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	text := utf8.Valid(payload)
	if p.json {
		e := event{Event: kind, Size: ptr(len(payload))}
		s := string(payload)
		if !text {
			s, e.Encoding = p.encodeBinary(payload)
		}
		e.Data = &s
		p.emit(e)
		return
	}
	reprompt := p.promptShown
	p.clearPromptLocked()
	switch {
	case len(payload) == 0:
		fmt.Fprintf(p.errw, "wsclient: < %s\n", kind)
	case text:
		// Quoted: the server's text cannot drive the terminal, and where
		// it ends shows.
		fmt.Fprintf(p.errw, "wsclient: < %s %s\n", kind, strconv.Quote(string(payload)))
	default:
		s, enc := p.encodeBinary(payload)
		fmt.Fprintf(p.errw, "wsclient: < %s %s (%s)\n", kind, s, enc)
	}
	if reprompt {
		p.showPromptLocked()
		p.out.Flush()
	}
}

// connected reports an established connection.
func (p *printer) connected(url, subprotocol, extensions string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.emit(event{Event: "connect", URL: url, Subprotocol: subprotocol, Extensions: extensions})
		return
	}
	msg := "connected to " + url
	if subprotocol != "" {
		msg += " (subprotocol " + subprotocol + ")"
	}
	if extensions != "" {
		msg += " (extensions " + extensions + ")"
	}
	p.statusLocked("%s", msg)
	p.showPromptLocked()
}

// closed reports a completed or received close: by is "server" or "client".
// In text mode it prints only when status is set (the final error message
// says it otherwise).
func (p *printer) closed(code int, reason, by string, status bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.emit(event{Event: "close", Code: code, Reason: &reason, By: by})
		return
	}
	if !status {
		return
	}
	if reason != "" {
		p.statusLocked("closed by %s: %d %s", by, code, reason)
	} else {
		p.statusLocked("closed by %s: %d", by, code)
	}
}

// disconnected reports the end of a connection for a reason other than a
// close handshake. In text mode it prints only when status is set (the
// final error message says it otherwise).
func (p *printer) disconnected(err error, status bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		e := event{Event: "disconnect"}
		if err != nil {
			e.Error = errText(err)
		}
		p.emit(e)
		return
	}
	if !status {
		return
	}
	if err != nil {
		p.statusLocked("disconnected: %s", errText(err))
	} else {
		p.statusLocked("disconnected")
	}
}

// redirected reports a redirect being followed (-L).
func (p *printer) redirected(status int, location string, dropped bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.emit(event{Event: "redirect", Code: status, Location: location})
		return
	}
	msg := fmt.Sprintf("redirected (%d) to %s", status, location)
	if dropped {
		msg += " (the chain left the first host: its user:password@ and Authorization, Cookie and Host headers are not sent)"
	}
	p.statusLocked("%s", msg)
}

// reconnecting reports a reconnect attempt scheduled after delay.
func (p *printer) reconnecting(attempt int, delay time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.emit(event{Event: "reconnect", Attempt: attempt, DelayMS: ptr(delay.Milliseconds())})
		return
	}
	p.statusLocked("reconnecting in %v (attempt %d)", delay.Round(time.Millisecond), attempt)
}

// errorf writes an error line on stderr, even when quiet.
func (p *printer) errorf(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearPromptLocked()
	fmt.Fprint(p.errw, terminalSafe(redact(fmt.Sprintf("wsclient: "+format+"\n", a...))))
}

// status writes a status line on stderr unless quiet.
func (p *printer) status(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.statusLocked(format, a...)
}

func ptr[T any](v T) *T { return &v }
