//go:build !js

package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/frame"
	"github.com/wsclient/wsclient/wstest"
)

// The Autobahn|Testsuite client cases (wstest -m fuzzingserver), reproduced
// with wstest scripts. The fuzzingserver sends each case's frames to an
// "echo client" (read a message, write it back, stop at the first error)
// and judges, as autobahntestsuite/case/case.py does:
//
//   - the events it received from the client (echoed messages and pongs)
//     against the case's expected list;
//   - who started the closing handshake (expectedClose closedByMe: true
//     means the server did, false that the client had to fail the
//     connection);
//   - the close code the client sent, against the closeCode list;
//   - requireClean: the closing handshake completed. We are stricter here
//     than Autobahn in server mode: after its close frame the client must
//     leave the TCP connection open for the server to close (RFC 6455
//     section 7.1.1), which we check for abClean.
//
// Where Autobahn waits one second (continueLater(1), killAfter(1)) we wait
// abQuiet, and we treat Autobahn's NON-STRICT outcome as a failure: these
// tests are there to find where the Conn falls short of "Pass".
//
// The files autobahn_*_test.go hold the sections; the subtests are named by
// case number (go test -run 'TestAutobahn/6.4.3').

const (
	// abWait bounds every wait for something the client must do: an echo,
	// a pong, a close. Unloaded it comes within milliseconds; the largest
	// (a 128 KiB compressed echo in 12.x) took up to 2 s under -race with
	// the machine's two cores at load average 12. A client that never does
	// it fails the case after abWait; a passing case never waits it out.
	abWait = 10 * time.Second
	// abCaseLimit bounds a whole case's connection: the echo client's
	// context and the server's read deadline. Only a hung case reaches it:
	// the longest passing cases (9.x, 16 MiB echoed under -race) took up
	// to 11.4 s at load average 12 on two cores.
	abCaseLimit = 60 * time.Second
	// abQuiet is how long a case waits to see that nothing happens (the
	// fuzzingserver's one-second waits, shortened).
	abQuiet = 150 * time.Millisecond
	// abCleanWait is how long the client must keep TCP open after its
	// close frame in a clean close, for the server to close it first.
	abCleanWait = 25 * time.Millisecond
)

// abKind is the kind of an event the fuzzingserver records.
type abKind int

const (
	abMessage abKind = iota // a text or binary message
	abPong
	abPing
	abClose
	abViolation // a frame the client must never send
)

// abEvent is one thing the client sent, as in Case.received.
type abEvent struct {
	kind   abKind
	op     wstest.Opcode // abMessage: OpText or OpBinary
	data   []byte        // message or pong payload
	code   int           // abClose
	reason string        // abClose
	err    error         // abClose with an invalid payload, abViolation
	at     time.Time     // abClose: when the reading goroutine read it
}

func (e abEvent) String() string {
	short := func(b []byte) string {
		if len(b) > 40 {
			return fmt.Sprintf("%q...(%d bytes)", b[:40], len(b))
		}
		return fmt.Sprintf("%q", b)
	}
	switch e.kind {
	case abMessage:
		return fmt.Sprintf("message(%v %s)", e.op, short(e.data))
	case abPong:
		return "pong(" + short(e.data) + ")"
	case abPing:
		return "ping(" + short(e.data) + ")"
	case abClose:
		return fmt.Sprintf("close(%d %q %v)", e.code, e.reason, e.err)
	}
	return fmt.Sprintf("violation(%v)", e.err)
}

func (e abEvent) equal(o abEvent) bool {
	return e.kind == o.kind && e.op == o.op && bytes.Equal(e.data, o.data)
}

// Expected events.
func abText(s string) abEvent         { return abEvent{kind: abMessage, op: wstest.OpText, data: []byte(s)} }
func abBinary(b []byte) abEvent       { return abEvent{kind: abMessage, op: wstest.OpBinary, data: b} }
func abPongOf(s string) abEvent       { return abEvent{kind: abPong, data: []byte(s)} }
func abEvents(e ...abEvent) []abEvent { return e }

// Frames the fuzzingserver sends.
func abFrame(fin bool, op wstest.Opcode, payload string) []byte {
	return wstest.Frame{Fin: fin, Opcode: op, Payload: []byte(payload)}.Bytes()
}

func abFrameRSV(rsv byte, op wstest.Opcode, payload string) []byte {
	return wstest.Frame{Fin: true, RSV: rsv, Opcode: op, Payload: []byte(payload)}.Bytes()
}

func abCloseFrame(code int, reason string) []byte {
	return wstest.Frame{Fin: true, Opcode: wstest.OpClose, Payload: frame.AppendClose(nil, code, reason)}.Bytes()
}

// abPeer is the fuzzingserver's side of one case.
type abPeer struct {
	t  *testing.T
	c  *wstest.Conn
	ev chan abEvent // from the reading goroutine
	// eof receives the reading goroutine's final error when the TCP
	// connection ends (client or server side).
	eof chan error

	got       []abEvent // data messages, pongs, pings, violations
	closeEv   *abEvent  // the client's close frame
	eofErr    error
	eofSeen   bool
	eofAt     time.Time // when the reading goroutine saw the end (set before it sends on eof)
	sentClose bool      // the server sent a close frame
	// clientFirst: the client's close frame came before any close frame
	// of the server.
	clientFirst bool
}

// readLoop records everything the client sends until the connection ends.
// It reassembles fragmented data messages and, when p.inflate is set,
// decompresses messages whose first frame has RSV1.
func (p *abPeer) readLoop(inflate func([]byte) ([]byte, error)) {
	var (
		inMsg bool
		op    wstest.Opcode
		rsv1  bool
		buf   []byte
	)
	p.c.NetConn().SetReadDeadline(time.Now().Add(abCaseLimit))
	for {
		f, err := p.c.ReadFrame()
		if err != nil && f.Opcode == 0 && f.Payload == nil {
			p.eofAt = time.Now()
			p.eof <- err
			return
		}
		if err == nil && !f.Masked {
			err = errors.New("client frame not masked")
		}
		if err != nil {
			p.ev <- abEvent{kind: abViolation, err: fmt.Errorf("%v frame: %w", f.Opcode, err)}
			continue
		}
		switch {
		case f.Opcode == wstest.OpClose:
			code, reason, perr := frame.ParseClose(f.Payload)
			p.ev <- abEvent{kind: abClose, code: code, reason: reason, err: perr, at: time.Now()}
		case f.Opcode == wstest.OpPing:
			p.ev <- abEvent{kind: abPing, data: f.Payload}
		case f.Opcode == wstest.OpPong:
			p.ev <- abEvent{kind: abPong, data: f.Payload}
		case f.Opcode == wstest.OpContinuation:
			if !inMsg || f.RSV != 0 {
				p.ev <- abEvent{kind: abViolation, err: fmt.Errorf("bad continuation frame (in message %v, rsv %#x)", inMsg, f.RSV)}
				continue
			}
			buf = append(buf, f.Payload...)
		case f.Opcode == wstest.OpText || f.Opcode == wstest.OpBinary:
			if inMsg || f.RSV&^wstest.RSV1 != 0 || (f.RSV != 0 && inflate == nil) {
				p.ev <- abEvent{kind: abViolation, err: fmt.Errorf("bad data frame (in message %v, rsv %#x)", inMsg, f.RSV)}
				continue
			}
			inMsg, op, rsv1, buf = true, f.Opcode, f.RSV != 0, append([]byte(nil), f.Payload...)
		default:
			p.ev <- abEvent{kind: abViolation, err: fmt.Errorf("frame with opcode %v", f.Opcode)}
			continue
		}
		if f.Opcode.IsControl() || !f.Fin {
			continue
		}
		inMsg = false
		data := buf
		if rsv1 {
			if data, err = inflate(buf); err != nil {
				p.ev <- abEvent{kind: abViolation, err: fmt.Errorf("inflating the client's message: %w", err)}
				continue
			}
		}
		p.ev <- abEvent{kind: abMessage, op: op, data: data}
	}
}

// take records one event.
func (p *abPeer) take(e abEvent) {
	if e.kind == abClose {
		if p.closeEv == nil {
			p.closeEv = &e
			p.clientFirst = !p.sentClose
		} else {
			p.t.Errorf("client sent a second close frame: %v", e)
		}
		return
	}
	if e.kind == abViolation {
		p.t.Errorf("client sent an invalid frame: %v", e.err)
	}
	p.got = append(p.got, e)
}

// wait records events until cond holds, the connection ends or d passes.
// It reports whether cond held.
func (p *abPeer) wait(d time.Duration, cond func() bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for !cond() {
		if p.eofSeen {
			// Drain what the reader had queued before the end.
			select {
			case e := <-p.ev:
				p.take(e)
				continue
			default:
				return cond()
			}
		}
		select {
		case e := <-p.ev:
			p.take(e)
		case err := <-p.eof:
			p.eofErr, p.eofSeen = err, true
		case <-timer.C:
			return cond()
		}
	}
	return true
}

// quiet records events for d and reports whether the client kept the
// connection open (no close frame, no TCP close) all along: Autobahn's
// ("timeout", X) events.
func (p *abPeer) quiet(d time.Duration) bool {
	p.wait(d, func() bool { return p.closeEv != nil || p.eofSeen })
	return p.closeEv == nil && !p.eofSeen
}

// awaitEvents waits until n events (other than close) arrived.
func (p *abPeer) awaitEvents(n int, d time.Duration) bool {
	return p.wait(d, func() bool { return len(p.got) >= n || p.closeEv != nil })
}

// awaitClose waits for the client's close frame.
func (p *abPeer) awaitClose(d time.Duration) bool {
	return p.wait(d, func() bool { return p.closeEv != nil })
}

// write sends bytes in one write ("one chop").
func (p *abPeer) write(parts ...[]byte) {
	if err := p.c.WriteRaw(bytes.Join(parts, nil)); err != nil && !gone(err) {
		p.t.Errorf("server write: %v", err)
	}
}

// writeEach sends each part in its own write, delay apart (Autobahn's
// sync=True: one frame per TCP segment).
func (p *abPeer) writeEach(delay time.Duration, parts ...[]byte) {
	for i, b := range parts {
		if i > 0 && delay > 0 {
			time.Sleep(delay) // the peer's pace, not synchronisation
		}
		if err := p.c.WriteRaw(b); err != nil {
			if !gone(err) {
				p.t.Errorf("server write: %v", err)
			}
			return
		}
	}
}

// writeChopped sends the parts' bytes in pieces of size bytes, delay apart
// (Autobahn's chopsize).
func (p *abPeer) writeChopped(size int, delay time.Duration, parts ...[]byte) {
	if err := p.c.WriteChunked(bytes.Join(parts, nil), []int{size}, delay); err != nil && !gone(err) {
		p.t.Errorf("server write: %v", err)
	}
}

// sendClose sends the server's close frame (Autobahn's sendClose).
func (p *abPeer) sendClose(code int, reason string) {
	p.sentClose = true
	p.write(abCloseFrame(code, reason))
}

// sendRawClose sends a close frame with an arbitrary payload.
func (p *abPeer) sendRawClose(payload []byte) {
	p.sentClose = true
	p.write(wstest.Frame{Fin: true, Opcode: wstest.OpClose, Payload: payload}.Bytes())
}

// abExpect is a case's verdict: Autobahn's expected[OK] and expectedClose.
type abExpect struct {
	events []abEvent // what the client must have sent, in order
	// byServer is expectedClose closedByMe: the server starts the closing
	// handshake (with codes[0] unless the case already sent a close) once
	// the events arrived; otherwise the client must fail the connection
	// first.
	byServer bool
	codes    []int // acceptable close codes from the client
	clean    bool  // requireClean
	// anyEvents accepts any prefix of events (informational cases).
	anyEvents bool
}

// abOK is the verdict of a case where everything is legal: echo, then a
// clean close started by the server with 1000.
func abOK(events ...abEvent) abExpect {
	return abExpect{events: events, byServer: true, codes: []int{1000}, clean: true}
}

// abFail is the verdict of a case where the client must fail the
// connection with code after sending events.
func abFail(code int, events ...abEvent) abExpect {
	return abExpect{events: events, codes: []int{code}}
}

// abCase is one case: what the fuzzingserver sends, and the verdict.
type abCase struct {
	id   string
	play func(p *abPeer)
	want abExpect
	skip string // reason to skip: a known failure, reported
	// prepare, if set, runs before the client connects: work of the
	// test's own (such as compressing the server's messages) that must not
	// count against the bounds of the connection.
	prepare func()
	// dialer and server options, for the compression cases.
	dialer  func() *Dialer
	srvOpts []wstest.Option
	inflate func() func([]byte) ([]byte, error)
}

// abConcurrency is how many cases run at once. The cases mostly wait on
// the network and timers, so they run concurrently through t.Run from
// several goroutines (which -parallel does not limit); the CPU-heavy
// sections (9, 12, 13) use fewer.
const abConcurrency = 8

// runABCases runs cases as subtests, up to limit at a time, each with
// the echo client start makes.
func runABCases(t *testing.T, limit int, cases []abCase, start abStarter) {
	t.Helper()
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, tc := range cases {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			t.Run(tc.id, func(t *testing.T) {
				if tc.skip != "" {
					t.Skip(tc.skip)
				}
				runAB(t, tc, start)
			})
		}()
	}
	wg.Wait()
}

// abEchoResult is how the echo client ended.
type abEchoResult struct {
	echoed int
	err    error
	at     time.Time
}

// abEchoClient is the client Autobahn users write: read a message, write it
// back, stop at the first error.
func abEchoClient(ctx context.Context, conn *Conn) abEchoResult {
	n := 0
	for {
		typ, msg, err := conn.ReadMessage(ctx)
		if err != nil {
			return abEchoResult{n, err, time.Now()}
		}
		if err := conn.WriteMessage(ctx, typ, msg); err != nil {
			return abEchoResult{n, fmt.Errorf("echo write: %w", err), time.Now()}
		}
		n++
	}
}

// abStarter starts an echo client against url, once the server has its
// connection in hand, and returns the channel its result arrives on. ready
// is closed once the client is connected and may be sent frames.
type abStarter func(t *testing.T, url string, d *Dialer) (result <-chan abEchoResult, ready <-chan struct{})

// abConnEcho is the Conn running abEchoClient.
func abConnEcho(t *testing.T, url string, d *Dialer) (<-chan abEchoResult, <-chan struct{}) {
	conn := dialT(t, url, d)
	ctx, cancel := context.WithTimeout(context.Background(), abCaseLimit)
	t.Cleanup(cancel)
	echoDone := make(chan abEchoResult, 1)
	go func() { echoDone <- abEchoClient(ctx, conn) }()
	ready := make(chan struct{})
	close(ready)
	return echoDone, ready
}

// runAB runs one case: a wstest server hands its connection to the test,
// the echo client runs against it, tc.play sends the case's frames, and the
// verdict is checked on both ends.
func runAB(t *testing.T, tc abCase, start abStarter) {
	t.Helper()
	connCh := make(chan *wstest.Conn, 1)
	release := make(chan struct{})
	srv := newServer(t, func(c *wstest.Conn) error {
		connCh <- c
		<-release
		return nil
	}, tc.srvOpts...)
	var once sync.Once
	releaseScript := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseScript) // runs before the server's Close

	if tc.prepare != nil {
		tc.prepare()
	}
	var d *Dialer
	if tc.dialer != nil {
		d = tc.dialer()
	}
	echoDone, ready := start(t, srv.URL, d)
	c := recv(t, connCh)
	recv(t, ready)
	p := &abPeer{t: t, c: c, ev: make(chan abEvent, 4096), eof: make(chan error, 1)}
	var inflate func([]byte) ([]byte, error)
	if tc.inflate != nil {
		inflate = tc.inflate()
	}
	readerDone := make(chan struct{})
	go func() { defer close(readerDone); p.readLoop(inflate) }()
	defer func() {
		c.Drop()
		<-readerDone
	}()

	tc.play(p)
	if t.Failed() {
		return
	}
	want := tc.want
	// The events, then the closing handshake.
	if !want.anyEvents {
		p.awaitEvents(len(want.events), abWait)
	}
	if want.byServer {
		// Anything extra the client sends in the meantime counts.
		p.quiet(5 * time.Millisecond)
		if !p.sentClose && p.closeEv == nil && !p.eofSeen {
			p.sendClose(want.codes[0], "")
		}
	}
	p.awaitClose(abWait)
	clientClosedTCPEarly := false
	if p.closeEv != nil && want.clean {
		// The client must leave the TCP connection for the server to
		// close (RFC 6455 section 7.1.1). Both times are taken by the
		// reading goroutine as it reads the close frame and the end, so a
		// late test goroutine cannot shrink the window.
		p.wait(time.Until(p.closeEv.at.Add(abCleanWait)), func() bool { return p.eofSeen })
		clientClosedTCPEarly = p.eofSeen && p.eofAt.Sub(p.closeEv.at) < abCleanWait
	}
	if p.closeEv != nil && p.clientFirst && !p.sentClose {
		// Autobahn answers the client's close, then drops TCP.
		p.sendClose(p.closeEv.code, "")
	}
	c.Drop()
	p.wait(abWait, func() bool { return p.eofSeen })

	var res abEchoResult
	select {
	case res = <-echoDone:
	case <-time.After(abWait):
		t.Fatalf("echo client still running %v after the server closed the connection", abWait)
	}

	// (a) events.
	if want.anyEvents {
		if len(p.got) > len(want.events) {
			t.Errorf("client sent %v, want a prefix of %v", p.got, want.events)
		}
		for i := range min(len(p.got), len(want.events)) {
			if !p.got[i].equal(want.events[i]) {
				t.Errorf("client sent %v, want a prefix of %v", p.got, want.events)
				break
			}
		}
	} else if len(p.got) != len(want.events) || !abEqual(p.got, want.events) {
		t.Errorf("client sent %v\nwant %v", p.got, want.events)
	}
	// (b) who closed, and the code.
	switch {
	case p.closeEv == nil:
		t.Errorf("client sent no close frame (echo client ended with %v)", res.err)
	case p.closeEv.err != nil:
		t.Errorf("client sent an invalid close frame: %v", p.closeEv.err)
	case want.byServer && p.clientFirst:
		t.Errorf("client started the closing handshake (code %d); Autobahn: \"The connection was failed by the wrong endpoint\"", p.closeEv.code)
	case !want.byServer && !p.clientFirst:
		t.Errorf("client did not fail the connection; it answered the server's close with %d; Autobahn: \"The connection was failed by the wrong endpoint\"", p.closeEv.code)
	case !containsInt(want.codes, p.closeEv.code):
		t.Errorf("client closed with code %d, want one of %v", p.closeEv.code, want.codes)
	}
	// (d) clean.
	if clientClosedTCPEarly {
		t.Errorf("client closed the TCP connection within %v of its close frame, before the server (unclean)", abCleanWait)
	}
	// The client's own view.
	if p.closeEv != nil && p.closeEv.err == nil {
		var ce *CloseError
		var pe *ProtocolError
		switch {
		case errors.As(res.err, &pe):
			if pe.Code != p.closeEv.code {
				t.Errorf("client error %v has code %d, but the client sent %d", res.err, pe.Code, p.closeEv.code)
			}
		case errors.As(res.err, &ce):
			if !p.sentClose {
				t.Errorf("client reports a close by the server (%v) that never happened", res.err)
			}
		default:
			t.Errorf("echo client ended with %v, want a *CloseError or *ProtocolError", res.err)
		}
	}
}

func abEqual(a, b []abEvent) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].equal(b[i]) {
			return false
		}
	}
	return true
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// abOctets is Autobahn's "chopsize = 1" delivery: one byte per TCP write.
func abOctets(p *abPeer, parts ...[]byte) { p.writeChopped(1, time.Millisecond, parts...) }

// abFrames is Autobahn's sync=True delivery: one frame per TCP write.
func abFrames(p *abPeer, parts ...[]byte) { p.writeEach(time.Millisecond, parts...) }

// TestAutobahn runs the reproduced fuzzingserver cases, section by section.
func TestAutobahn(t *testing.T) {
	sections := []struct {
		name  string
		cases func() []abCase
		limit int
	}{
		{"1", abSection1, abConcurrency},
		{"2", abSection2, abConcurrency},
		{"3", abSection3, abConcurrency},
		{"4", abSection4, abConcurrency},
		{"5", abSection5, abConcurrency},
		{"6", abSection6, abConcurrency},
		{"7", abSection7, abConcurrency},
		{"9", abSection9, 2},
		{"10", abSection10, abConcurrency},
		{"12", abSection12, 4},
		{"13", abSection13, 4},
	}
	for _, s := range sections {
		t.Run(s.name, func(t *testing.T) { runABCases(t, s.limit, s.cases(), abConnEcho) })
	}
}

// ---------------------------------------------------------------------------
// 1 Framing: text and binary messages of various lengths, echoed.

func abSection1() []abCase {
	var cases []abCase
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536}
	for i, n := range sizes {
		txt := strings.Repeat("*", n)
		cases = append(cases, abCase{
			id:   fmt.Sprintf("1.1.%d", i+1),
			play: func(p *abPeer) { p.write(abFrame(true, wstest.OpText, txt)) },
			want: abOK(abText(txt)),
		})
		bin := bytes.Repeat([]byte{0xfe}, n)
		cases = append(cases, abCase{
			id:   fmt.Sprintf("1.2.%d", i+1),
			play: func(p *abPeer) { p.write(abFrame(true, wstest.OpBinary, string(bin))) },
			want: abOK(abBinary(bin)),
		})
	}
	// 1.1.8, 1.2.8: 65536 bytes delivered in chops of 997 octets.
	txt := strings.Repeat("*", 65536)
	bin := bytes.Repeat([]byte{0xfe}, 65536)
	cases = append(cases,
		abCase{id: "1.1.8", play: func(p *abPeer) { p.writeChopped(997, 0, abFrame(true, wstest.OpText, txt)) }, want: abOK(abText(txt))},
		abCase{id: "1.2.8", play: func(p *abPeer) { p.writeChopped(997, 0, abFrame(true, wstest.OpBinary, string(bin))) }, want: abOK(abBinary(bin))},
	)
	return cases
}

// ---------------------------------------------------------------------------
// 2 Pings and pongs.

func abSection2() []abCase {
	ping := func(s string) []byte { return abFrame(true, wstest.OpPing, s) }
	pongF := func(s string) []byte { return abFrame(true, wstest.OpPong, s) }
	bin := "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
	p125 := strings.Repeat("\xfe", 125)
	p126 := strings.Repeat("\xfe", 126)
	var tenPings [][]byte
	var tenPongs []abEvent
	for i := range 10 {
		s := fmt.Sprintf("payload-%d", i)
		tenPings = append(tenPings, ping(s))
		tenPongs = append(tenPongs, abPongOf(s))
	}
	return []abCase{
		{id: "2.1", play: func(p *abPeer) { p.write(ping("")) }, want: abOK(abPongOf(""))},
		{id: "2.2", play: func(p *abPeer) { p.write(ping("Hello, world!")) }, want: abOK(abPongOf("Hello, world!"))},
		{id: "2.3", play: func(p *abPeer) { p.write(ping(bin)) }, want: abOK(abPongOf(bin))},
		{id: "2.4", play: func(p *abPeer) { p.write(ping(p125)) }, want: abOK(abPongOf(p125))},
		{id: "2.5", play: func(p *abPeer) { p.write(ping(p126)) }, want: abFail(1002)},
		{id: "2.6", play: func(p *abPeer) { abOctets(p, ping(p125)) }, want: abOK(abPongOf(p125))},
		// 2.7, 2.8: the close follows the pong at once (Autobahn's sendClose).
		{id: "2.7", play: func(p *abPeer) { p.write(pongF("")); p.sendClose(1000, "") }, want: abOK()},
		{id: "2.8", play: func(p *abPeer) { p.write(pongF("unsolicited pong payload")); p.sendClose(1000, "") }, want: abOK()},
		{id: "2.9", play: func(p *abPeer) { p.write(pongF("unsolicited pong payload"), ping("ping payload")) }, want: abOK(abPongOf("ping payload"))},
		{id: "2.10", play: func(p *abPeer) { p.write(tenPings...) }, want: abOK(tenPongs...)},
		{id: "2.11", play: func(p *abPeer) { abOctets(p, tenPings...) }, want: abOK(tenPongs...)},
	}
}

// ---------------------------------------------------------------------------
// 3 Reserved bits: the client fails with 1002, after echoing what came
// before (Autobahn: echoing first is Pass, failing first Non-Strict).

func abSection3() []abCase {
	hello := "Hello, world!"
	msg := abFrame(true, wstest.OpText, hello)
	ping := abFrame(true, wstest.OpPing, hello)
	bin := "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
	return []abCase{
		{id: "3.1", play: func(p *abPeer) { p.write(abFrameRSV(wstest.RSV3, wstest.OpText, hello)) }, want: abFail(1002)},
		{id: "3.2", play: func(p *abPeer) { p.write(msg, abFrameRSV(wstest.RSV2, wstest.OpText, hello), ping) }, want: abFail(1002, abText(hello))},
		{id: "3.3", play: func(p *abPeer) { abFrames(p, msg, abFrameRSV(wstest.RSV2|wstest.RSV3, wstest.OpText, hello), ping) }, want: abFail(1002, abText(hello))},
		{id: "3.4", play: func(p *abPeer) { abOctets(p, msg, abFrameRSV(wstest.RSV1, wstest.OpText, hello), ping) }, want: abFail(1002, abText(hello))},
		{id: "3.5", play: func(p *abPeer) { p.write(abFrameRSV(wstest.RSV1|wstest.RSV3, wstest.OpBinary, bin)) }, want: abFail(1002)},
		{id: "3.6", play: func(p *abPeer) { p.write(abFrameRSV(wstest.RSV1|wstest.RSV2, wstest.OpPing, hello)) }, want: abFail(1002)},
		{id: "3.7", play: func(p *abPeer) {
			p.write(wstest.Frame{Fin: true, RSV: wstest.RSV1 | wstest.RSV2 | wstest.RSV3, Opcode: wstest.OpClose, Payload: frame.AppendClose(nil, 1000, "")}.Bytes())
		}, want: abFail(1002)},
	}
}

// ---------------------------------------------------------------------------
// 4 Reserved opcodes, alone and after a valid message.

func abSection4() []abCase {
	hello := "Hello, world!"
	msg := abFrame(true, wstest.OpText, hello)
	ping := abFrame(true, wstest.OpPing, hello)
	var cases []abCase
	for i, base := range []wstest.Opcode{3, 11} {
		sec := fmt.Sprintf("4.%d", i+1)
		cases = append(cases,
			abCase{id: sec + ".1", play: func(p *abPeer) { p.write(abFrame(true, base, "")) }, want: abFail(1002)},
			abCase{id: sec + ".2", play: func(p *abPeer) { p.write(abFrame(true, base+1, "reserved opcode payload")) }, want: abFail(1002)},
			abCase{id: sec + ".3", play: func(p *abPeer) { p.write(msg, abFrame(true, base+2, ""), ping) }, want: abFail(1002, abText(hello))},
			abCase{id: sec + ".4", play: func(p *abPeer) { p.write(msg, abFrame(true, base+3, "reserved opcode payload"), ping) }, want: abFail(1002, abText(hello))},
			abCase{id: sec + ".5", play: func(p *abPeer) { abOctets(p, msg, abFrame(true, base+4, "reserved opcode payload"), ping) }, want: abFail(1002, abText(hello))},
		)
	}
	return cases
}

// ---------------------------------------------------------------------------
// 5 Fragmentation.

func abSection5() []abCase {
	f := abFrame
	const (
		txt  = wstest.OpText
		cont = wstest.OpContinuation
	)
	deliver := []struct {
		name string
		send func(p *abPeer, parts ...[]byte)
	}{
		{"one chop", func(p *abPeer, parts ...[]byte) { p.write(parts...) }},
		{"frame-wise", abFrames},
		{"octet-wise", abOctets},
	}
	var cases []abCase
	// 5.3-5.5, 5.6-5.8, 5.9-5.11, 5.12-5.14: the same frames in three
	// deliveries.
	groups := []struct {
		first  int
		frames [][]byte
		want   abExpect
	}{
		{3, [][]byte{f(false, txt, "fragment1"), f(true, cont, "fragment2")}, abOK(abText("fragment1fragment2"))},
		{6, [][]byte{f(false, txt, "fragment1"), f(true, wstest.OpPing, "ping payload"), f(true, cont, "fragment2")},
			abOK(abPongOf("ping payload"), abText("fragment1fragment2"))},
		{9, [][]byte{f(true, cont, "non-continuation payload"), f(true, txt, "Hello, world!")}, abFail(1002)},
		{12, [][]byte{f(false, cont, "non-continuation payload"), f(true, txt, "Hello, world!")}, abFail(1002)},
	}
	for _, g := range groups {
		for j, dl := range deliver {
			cases = append(cases, abCase{
				id:   fmt.Sprintf("5.%d", g.first+j),
				play: func(p *abPeer) { dl.send(p, g.frames...) },
				want: g.want,
			})
		}
	}
	repeat2 := func(fr ...[]byte) [][]byte { return append(append([][]byte{}, fr...), fr...) }
	cases = append(cases,
		abCase{id: "5.1", play: func(p *abPeer) { p.write(f(false, wstest.OpPing, "fragment1"), f(true, cont, "fragment2")) }, want: abFail(1002)},
		abCase{id: "5.2", play: func(p *abPeer) { p.write(f(false, wstest.OpPong, "fragment1"), f(true, cont, "fragment2")) }, want: abFail(1002)},
		abCase{id: "5.15", play: func(p *abPeer) {
			p.write(f(false, txt, "fragment1"), f(true, cont, "fragment2"), f(false, cont, "fragment3"), f(true, txt, "fragment4"))
		}, want: abFail(1002, abText("fragment1fragment2"))},
		abCase{id: "5.16", play: func(p *abPeer) {
			p.write(repeat2(f(false, cont, "fragment1"), f(false, txt, "fragment2"), f(true, cont, "fragment3"))...)
		}, want: abFail(1002)},
		abCase{id: "5.17", play: func(p *abPeer) {
			p.write(repeat2(f(true, cont, "fragment1"), f(false, txt, "fragment2"), f(true, cont, "fragment3"))...)
		}, want: abFail(1002)},
		abCase{id: "5.18", play: func(p *abPeer) { p.write(f(false, txt, "fragment1"), f(true, txt, "fragment2")) }, want: abFail(1002)},
	)
	// 5.19, 5.20: five fragments with two pings between them and a pause;
	// the first ping must be answered during the pause.
	for i, dl := range deliver[:2] {
		cases = append(cases, abCase{
			id: fmt.Sprintf("5.%d", 19+i),
			play: func(p *abPeer) {
				dl.send(p, f(false, txt, "fragment1"), f(false, cont, "fragment2"), f(true, wstest.OpPing, "pongme 1!"))
				// The rest is sent only after the pong, so waiting long
				// cannot let a client that answers late pass.
				if !p.awaitEvents(1, abWait) {
					p.t.Errorf("first ping not answered within %v, before the rest of the message", abWait)
				}
				p.quiet(abQuiet)
				dl.send(p, f(false, cont, "fragment3"), f(false, cont, "fragment4"), f(true, wstest.OpPing, "pongme 2!"), f(true, cont, "fragment5"))
			},
			want: abOK(abPongOf("pongme 1!"), abPongOf("pongme 2!"), abText("fragment1fragment2fragment3fragment4fragment5")),
		})
	}
	return cases
}
