//go:build !js

package wsclient_test

// The fault suite's accounting (see client_fault_test.go): each frame's
// fate (echoed, reported, written), the handler that records it, and the
// tally of a row.

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
)

// A frame's payload starts with its id: a stream letter ('C' for Cast,
// 'S' for Send, 'Z' for the harness's closing marker) and 7 digits.
const faultIDLen = 8

func faultID(stream byte, seq int) []byte {
	return fmt.Appendf(nil, "%c%07d", stream, seq)
}

// parseFaultID returns the stream index (0 Cast, 1 Send, 2 marker) and
// sequence number of a payload, or ok false.
func parseFaultID(p []byte) (stream, seq int, ok bool) {
	if len(p) < faultIDLen {
		return 0, 0, false
	}
	switch p[0] {
	case 'C':
		stream = 0
	case 'S':
		stream = 1
	case 'Z':
		stream = 2
	default:
		return 0, 0, false
	}
	n, err := strconv.Atoi(string(p[1:faultIDLen]))
	if err != nil {
		return 0, 0, false
	}
	return stream, n, true
}

// ---------------------------------------------------------------------------
// What happened to each frame.

type frameFate struct {
	echoes      int  // echoes received
	written     int  // times written in full to a socket (tap)
	undelivered bool // reported as not delivered
	unconfirmed bool // reported as written but unconfirmed
}

type disconnectAt struct {
	at     time.Time
	reason error
	was    bool // an established connection ended (not a failed attempt)
}

// fateRecorder collects, for one row, the echoes (from HandleFrame), the
// reports (from Cast, Send and OnUndelivered), the writes (from the tap)
// and the connection events.
type fateRecorder struct {
	mu          sync.Mutex
	fates       [2][]frameFate
	lastEcho    [2]int
	reorders    int
	markerWrite int // markers written (they count in Stats.MessagesOut)
	dataWrites  int // all text/binary messages the tap saw written
	connects    []time.Time
	disconnects []disconnectAt

	connected chan struct{} // one value per OnConnect
	markers   chan int      // the marker numbers echoed
}

func newFateRecorder(perStream int) *fateRecorder {
	r := &fateRecorder{
		connected: make(chan struct{}, 64),
		markers:   make(chan int, 64),
		lastEcho:  [2]int{-1, -1},
	}
	for s := range r.fates {
		r.fates[s] = make([]frameFate, perStream)
	}
	return r
}

func (r *fateRecorder) fate(stream, seq int) *frameFate {
	if stream > 1 || seq < 0 || seq >= len(r.fates[stream]) {
		return nil
	}
	return &r.fates[stream][seq]
}

func (r *fateRecorder) echoed(p []byte) {
	stream, seq, ok := parseFaultID(p)
	if !ok {
		return
	}
	if stream == 2 {
		select {
		case r.markers <- seq:
		default:
		}
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.fate(stream, seq)
	if f == nil {
		return
	}
	f.echoes++
	if f.echoes == 1 && seq < r.lastEcho[stream] {
		r.reorders++
	}
	r.lastEcho[stream] = max(r.lastEcho[stream], seq)
}

// reported records a frame handed back with err (Cast's or Send's error, or
// OnUndelivered).
func (r *fateRecorder) reported(p []byte, err error) {
	stream, seq, ok := parseFaultID(p)
	if !ok || stream == 2 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.fate(stream, seq); f != nil {
		if classifyUnconfirmed(err) {
			f.unconfirmed = true
		} else {
			f.undelivered = true
		}
	}
}

// written records a text or binary message whose last byte the socket took;
// id is its payload's first bytes.
func (r *fateRecorder) written(id []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dataWrites++
	stream, seq, ok := parseFaultID(id)
	if !ok {
		return
	}
	if stream == 2 {
		r.markerWrite++
		return
	}
	if f := r.fate(stream, seq); f != nil {
		f.written++
	}
}

func (r *fateRecorder) onConnect() {
	r.mu.Lock()
	r.connects = append(r.connects, time.Now())
	r.mu.Unlock()
	select {
	case r.connected <- struct{}{}:
	default:
	}
}

func (r *fateRecorder) onDisconnect(d wsclient.Disconnect) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.disconnects = append(r.disconnects, disconnectAt{at: time.Now(), reason: d.Reason, was: d.WasConnected})
}

// faultHandler reconnects after every loss, records echoes and reports.
type faultHandler struct {
	wsclient.BaseHandler
	rec *fateRecorder
}

func (h *faultHandler) Init(*wsclient.Client) (wsclient.InitMode, error) {
	return wsclient.KeepReconnecting, nil
}

func (h *faultHandler) OnConnect(*wsclient.Client, wsclient.ConnInfo) wsclient.Action {
	h.rec.onConnect()
	return wsclient.Action{}
}

func (h *faultHandler) OnDisconnect(_ *wsclient.Client, d wsclient.Disconnect) wsclient.DisconnectAction {
	h.rec.onDisconnect(d)
	return wsclient.ReconnectAfter(d.Backoff)
}

func (h *faultHandler) HandleFrame(_ *wsclient.Client, f wsclient.Frame) wsclient.Action {
	if f.Type == wsclient.TextMessage || f.Type == wsclient.BinaryMessage {
		h.rec.echoed(f.Data)
	}
	return wsclient.Action{}
}

func (h *faultHandler) OnUndelivered(_ *wsclient.Client, f wsclient.Frame, err error) {
	h.rec.reported(f.Data, err)
}

// ---------------------------------------------------------------------------
// The tap: a net.Conn that parses the client's outgoing byte stream and
// records each text or binary message once the socket has taken its last
// byte. A frame cut short by a failed write is not counted.

// tally gives each frame its one fate and counts the anomalies and the
// connection events; detection is the first end of an established
// connection after faultStart.
func (r *fateRecorder) tally(faultStart time.Time) faultResult {
	res := faultResult{detect: -1}
	r.mu.Lock()
	defer r.mu.Unlock()
	for s := range r.fates {
		for seq := range r.fates[s] {
			f := &r.fates[s][seq]
			if f.echoes > 1 || f.written > 1 {
				res.duplicates++
			}
			if f.undelivered && f.echoes > 0 {
				res.falseReports++
			}
			if f.undelivered && f.written > 0 {
				res.reportedWritten++
			}
			switch {
			case f.echoes > 0:
				res.echoed++
			case f.unconfirmed:
				res.unconfirmed++
			case f.undelivered:
				res.undelivered++
			case f.written > 0:
				res.window++
				if s == 0 {
					res.windowCast++
				} else {
					res.windowSend++
				}
			default:
				res.unaccounted++
			}
		}
	}
	res.reorders = r.reorders
	res.connects = len(r.connects)
	for _, dc := range r.disconnects {
		if dc.was {
			res.disconnects++
		} else {
			res.dialFailures++
		}
		if dc.was && res.detect < 0 && dc.at.After(faultStart) {
			res.detect = dc.at.Sub(faultStart)
			res.detectReason = reasonName(dc.reason)
		}
	}
	return res
}

// Every frame gets exactly one fate, and the anomalies are counted: a frame
// that vanished, a false report, a report of a frame written in full, a
// duplicate and a reordering.
func TestFaultTally(t *testing.T) {
	r := newFateRecorder(4)
	id := func(stream byte, seq int) []byte { return faultID(stream, seq) }
	// Cast 0: written, echoed. Cast 1: written, never echoed (the window).
	// Cast 2: reported (Cast's error). Cast 3: nothing at all (vanished).
	r.written(id('C', 0))
	r.echoed(id('C', 0))
	r.written(id('C', 1))
	r.reported(id('C', 2), wsclient.ErrOutboxFull)
	// Send 2 echoed before Send 1 (reordered), Send 2 twice (duplicate);
	// Send 0 reported undelivered yet echoed (false report) and written;
	// Send 3 reported after a full write.
	for _, seq := range []int{0, 2, 1, 2} {
		r.written(id('S', seq))
		r.echoed(id('S', seq))
	}
	r.reported(id('S', 0), wsclient.ErrClosed)
	r.written(id('S', 3))
	r.reported(id('S', 3), wsclient.ErrConnectionLost)
	r.written(id('Z', 0)) // markers are not frames of the table
	r.echoed(id('Z', 0))
	faultStart := time.Now()
	r.onDisconnect(wsclient.Disconnect{Reason: wsclient.ErrKeepaliveTimeout, WasConnected: true})
	r.onDisconnect(wsclient.Disconnect{Reason: wsclient.ErrConnectionLost})

	res := r.tally(faultStart)
	got := []int{res.echoed, res.undelivered, res.unconfirmed, res.window, res.unaccounted,
		res.duplicates, res.reorders, res.falseReports, res.reportedWritten, res.disconnects, res.dialFailures}
	want := []int{4, 2, 0, 1, 1, 1, 1, 1, 2, 1, 1}
	if !slices.Equal(got, want) {
		t.Fatalf("tally %v, want %v (echoed, undelivered, unconfirmed, window, unaccounted, dup, reordered, "+
			"false, reported-written, disconnects, failed dials)", got, want)
	}
	if res.detect < 0 || res.detectReason != "keepalive" {
		t.Fatalf("detection %v (%s)", res.detect, res.detectReason)
	}
	if m := <-r.markers; m != 0 {
		t.Fatalf("marker %d", m)
	}
}
