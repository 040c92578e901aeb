//go:build !js

package wsclient

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wsclient/wsclient/internal/test/flatecheck"
	"github.com/wsclient/wsclient/wstest"
)

// ---------------------------------------------------------------------------
// 12, 13 permessage-deflate: compressed echo of many messages.
//
// As the fuzzingserver does (autobahntestsuite/case/case12_x_x.py), the
// server answers the client's offer with one of Autobahn's accept functions,
// sends messages taken from a test corpus (compressed with context
// takeover, optionally auto-fragmented after compression), waits for each
// echo and compares it. It decompresses the client's messages the way
// Autobahn's zlib does, with a window of 2^client_max_window_bits bytes:
// a back-reference further than the window the server asked for fails the
// case, as "invalid distance too far back" fails it in Autobahn.
//
// Autobahn sends 1000 messages per case and runs 18 size/fragmentation
// combinations per corpus; we send fewer and run a selection.

// abMsgSizes is case12_x_x.py's MSG_SIZES: payload length and
// auto-fragment size (0: one frame), numbered from 1.
var abMsgSizes = [][2]int{
	{16, 0}, {64, 0}, {256, 0}, {1024, 0}, {4096, 0}, {8192, 0}, {16384, 0}, {32768, 0}, {65536, 0}, {131072, 0},
	{8192, 256}, {16384, 256}, {32768, 256}, {65536, 256}, {131072, 256}, {131072, 1024}, {131072, 4096}, {131072, 32768},
}

// abCorpus is a stand-in for one of Autobahn's test data files.
type abCorpus struct {
	name   string
	binary bool
	data   []byte
}

var abCorpora = sync.OnceValue(func() []abCorpus {
	r := rand.New(rand.NewPCG(12, 13))
	words := strings.Fields("the quick brown fox jumps over lazy dog Faust Gretchen Mephisto Wagner Himmel Erde Geist Nacht Studierzimmer Osterspaziergang")
	var js, html, faust bytes.Buffer
	for i := 0; js.Len() < 190<<10; i++ {
		fmt.Fprintf(&js, `{"id":%d,"name":%q,"score":%d.%02d,"tags":[%q,%q],"active":%v},`+"\n",
			i, words[r.IntN(len(words))], r.IntN(1000), r.IntN(100), words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(2) == 0)
	}
	for html.Len() < 80<<10 {
		fmt.Fprintf(&html, "<div class=%q><p>%s %s</p><a href=\"/%s\">%s</a></div>\n",
			words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))])
	}
	umlauts := []string{"ä", "ö", "ü", "ß", "Ä"}
	for faust.Len() < 200<<10 {
		faust.WriteString(words[r.IntN(len(words))])
		if r.IntN(4) == 0 {
			faust.WriteString(umlauts[r.IntN(len(umlauts))])
		}
		faust.WriteByte(" \n,."[r.IntN(4)])
	}
	// A bitmap-like picture: smooth gradients with noise.
	img := make([]byte, 256<<10)
	for i := range img {
		img[i] = byte(i%512/2 + r.IntN(8))
	}
	// A PDF-like file: text streams and incompressible runs.
	pdf := make([]byte, 0, 512<<10)
	for len(pdf) < 512<<10 {
		if r.IntN(2) == 0 {
			pdf = append(pdf, fmt.Sprintf("%d 0 obj << /Type /Page /Length %d >> stream\n", r.IntN(999), r.IntN(99999))...)
		} else {
			for range 256 {
				pdf = append(pdf, byte(r.Uint32()))
			}
		}
	}
	return []abCorpus{
		{"json", false, js.Bytes()},
		{"bitmap", true, img},
		{"faust", true, faust.Bytes()},
		{"html", false, html.Bytes()},
		{"pdf", true, pdf},
	}
})

// abRing hands out consecutive slices of a corpus, wrapping around
// (case12_x_x.py's sendOne).
type abRing struct {
	data []byte
	pos  int
}

func (r *abRing) next(n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		k := min(n-len(out), len(r.data)-r.pos)
		out = append(out, r.data[r.pos:r.pos+k]...)
		r.pos = (r.pos + k) % len(r.data)
	}
	return out
}

// abOffer is the part of a client's permessage-deflate offer Autobahn's
// accept functions look at (PerMessageDeflateOffer).
type abOffer struct {
	acceptNoContextTakeover  bool // client_no_context_takeover offered
	acceptMaxWindowBits      bool // client_max_window_bits offered
	requestNoContextTakeover bool // server_no_context_takeover offered
	requestMaxWindowBits     int  // server_max_window_bits offered
}

func abParseOffers(values []string) []abOffer {
	var offers []abOffer
	for _, v := range values {
		for _, ext := range strings.Split(v, ",") {
			params := strings.Split(ext, ";")
			if strings.TrimSpace(params[0]) != "permessage-deflate" {
				continue
			}
			var o abOffer
			for _, prm := range params[1:] {
				k, val, _ := strings.Cut(strings.TrimSpace(prm), "=")
				switch strings.TrimSpace(k) {
				case "client_no_context_takeover":
					o.acceptNoContextTakeover = true
				case "client_max_window_bits":
					o.acceptMaxWindowBits = true
				case "server_no_context_takeover":
					o.requestNoContextTakeover = true
				case "server_max_window_bits":
					o.requestMaxWindowBits, _ = strconv.Atoi(strings.Trim(val, `"`))
				}
			}
			offers = append(offers, o)
		}
	}
	return offers
}

// abAccept is one of case12_x_x.py's server accept functions: for an offer
// it returns what the server asks of the client (client_no_context_takeover,
// client_max_window_bits; 0 for none) and whether it accepts.
type abAccept func(o abOffer) (noCtx bool, bits int, ok bool)

var (
	abAccept1 abAccept = func(o abOffer) (bool, int, bool) { return false, 0, true }
	abAccept2 abAccept = func(o abOffer) (bool, int, bool) { return true, 0, o.acceptNoContextTakeover }
	abAccept3 abAccept = func(o abOffer) (bool, int, bool) { return false, 8, o.acceptMaxWindowBits }
	abAccept4 abAccept = func(o abOffer) (bool, int, bool) { return false, 15, o.acceptMaxWindowBits }
	abAccept5 abAccept = func(o abOffer) (bool, int, bool) {
		return true, 8, o.acceptNoContextTakeover && o.acceptMaxWindowBits
	}
	abAccept6 abAccept = func(o abOffer) (bool, int, bool) {
		return true, 15, o.acceptNoContextTakeover && o.acceptMaxWindowBits
	}
	abAccept7 abAccept = func(o abOffer) (bool, int, bool) {
		for _, a := range []abAccept{abAccept5, abAccept2, abAccept1} {
			if n, b, ok := a(o); ok {
				return n, b, true
			}
		}
		return false, 0, false
	}
)

// abPMD is the server's permessage-deflate state for one case.
type abPMD struct {
	accept abAccept

	mu          sync.Mutex
	answer      string // the Sec-WebSocket-Extensions answer; "" when declined
	clientNoCtx bool   // server asked client_no_context_takeover
	clientBits  int    // client window the server decompresses with
	serverNoCtx bool   // client asked server_no_context_takeover
	serverBits  int    // client asked server_max_window_bits

	compressed atomic.Int64 // client messages that came compressed
}

// respond is the handshake answer (wstest.WithRawResponse).
func (m *abPMD) respond(r *http.Request) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	b.WriteString("Sec-WebSocket-Accept: " + wstest.AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n")
	m.clientBits = 15
	for _, o := range abParseOffers(r.Header.Values("Sec-WebSocket-Extensions")) {
		noCtx, bits, ok := m.accept(o)
		if !ok {
			continue
		}
		// PerMessageDeflateOfferAccept.getExtensionString.
		ans := "permessage-deflate"
		if o.requestNoContextTakeover {
			ans += "; server_no_context_takeover"
			m.serverNoCtx = true
		}
		if o.requestMaxWindowBits != 0 {
			ans += "; server_max_window_bits=" + strconv.Itoa(o.requestMaxWindowBits)
			m.serverBits = o.requestMaxWindowBits
		}
		if noCtx {
			ans += "; client_no_context_takeover"
			m.clientNoCtx = true
		}
		if bits != 0 {
			ans += "; client_max_window_bits=" + strconv.Itoa(bits)
			m.clientBits = bits
		}
		m.answer = ans
		b.WriteString("Sec-WebSocket-Extensions: " + ans + "\r\n")
		break
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// inflater returns the server's decompressor for the client's messages:
// the strict window checker for small windows, compress/flate (with the
// previous 32 KiB as dictionary under context takeover) otherwise.
func (m *abPMD) inflater() func([]byte) ([]byte, error) {
	m.mu.Lock()
	bits, takeover := m.clientBits, !m.clientNoCtx
	m.mu.Unlock()
	if bits < 15 {
		// Every back-reference must stay within the window, as with
		// zlib's raw inflate of 2^bits.
		z := &flatecheck.Inflater{Window: 1 << bits, Takeover: takeover}
		return func(p []byte) ([]byte, error) {
			m.compressed.Add(1)
			out, _, err := z.Inflate(append(bytes.Clone(p), 0, 0, 0xff, 0xff))
			return out, err
		}
	}
	var hist []byte
	return func(p []byte) ([]byte, error) {
		m.compressed.Add(1)
		src := io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))
		out, err := io.ReadAll(flate.NewReaderDict(src, hist))
		if err != nil {
			return nil, err
		}
		if takeover {
			hist = append(hist, out...)
			hist = hist[max(0, len(hist)-32<<10):]
		}
		return out, nil
	}
}

// abServerDeflater compresses the server's messages with context takeover
// unless the client asked for server_no_context_takeover.
type abServerDeflater struct {
	w        *flate.Writer
	buf      bytes.Buffer
	takeover bool
	level    int
}

func (d *abServerDeflater) compress(p []byte) []byte {
	d.buf.Reset()
	if d.w == nil || !d.takeover {
		d.w, _ = flate.NewWriter(&d.buf, d.level)
	}
	d.w.Write(p)
	d.w.Flush()
	return bytes.Clone(bytes.TrimSuffix(d.buf.Bytes(), []byte{0, 0, 0xff, 0xff}))
}

// abDeflateKey is what the server's compressed messages of a case depend
// on: the messages (corpus, size, count) and the server's deflate settings.
type abDeflateKey struct {
	corpus      string
	size, count int
	takeover    bool
	level       int
}

// abDeflated caches the server's compressed messages (abDeflateKey ->
// func() [][]byte): many 12.x and 13.x cases send the same ones.
var abDeflated sync.Map

// abDeflatedMessages returns msgs compressed as the server sends them under
// k, computing them once per test binary. Cases call it before they
// connect: compress/flate at the default level takes seconds for 4 x 128
// KiB under -race on a loaded 2-core machine (up to 10 s measured with the
// other cases running), time that must not count against the bounds of
// the case's connection.
func abDeflatedMessages(k abDeflateKey, msgs [][]byte) [][]byte {
	f, _ := abDeflated.LoadOrStore(k, sync.OnceValue(func() [][]byte {
		d := &abServerDeflater{takeover: k.takeover, level: k.level}
		out := make([][]byte, len(msgs))
		for i, m := range msgs {
			out[i] = d.compress(m)
		}
		return out
	}))
	return f.(func() [][]byte)()
}

// abDeflateLevel is the level the server compresses with: a window smaller
// than 32 KiB (server_max_window_bits) allows only Huffman coding with
// compress/flate.
func abDeflateLevel(serverBits int) int {
	if serverBits != 0 && serverBits < 15 {
		return flate.HuffmanOnly
	}
	return flate.DefaultCompression
}

// abDeflateCase builds one 12.x.x/13.x.x case.
func abDeflateCase(id string, corpus abCorpus, size [2]int, count int, accept abAccept, opts CompressionOptions) abCase {
	pmd := &abPMD{accept: accept}
	op := wstest.OpText
	if corpus.binary {
		op = wstest.OpBinary
	}
	var want []abEvent
	ring := &abRing{data: corpus.data}
	msgs := make([][]byte, count)
	for i := range msgs {
		msgs[i] = ring.next(size[0])
		want = append(want, abEvent{kind: abMessage, op: op, data: msgs[i]})
	}
	// Whether the server accepts the offer wsclient makes with opts
	// (Autobahn reports UNIMPLEMENTED when it declines).
	_, _, accepted := accept(abOffer{
		acceptNoContextTakeover:  opts.ClientNoContextTakeover,
		acceptMaxWindowBits:      opts.ClientMaxWindowBits >= 0,
		requestNoContextTakeover: opts.ServerNoContextTakeover,
		requestMaxWindowBits:     opts.ServerMaxWindowBits,
	})
	if !accepted {
		want = want[:1]
	}
	// The server's settings follow from the client's offer: the server
	// grants what the client requests of it (abPMD.respond).
	key := abDeflateKey{corpus: corpus.name, size: size[0], count: count,
		takeover: !opts.ServerNoContextTakeover, level: abDeflateLevel(opts.ServerMaxWindowBits)}
	var payloads [][]byte
	return abCase{
		id:      id,
		prepare: func() { payloads = abDeflatedMessages(key, msgs) },
		dialer:  func() *Dialer { o := opts; return &Dialer{Compression: &o} },
		srvOpts: []wstest.Option{wstest.WithRawResponse(pmd.respond)},
		inflate: pmd.inflater,
		play: func(p *abPeer) {
			pmd.mu.Lock()
			answer, serverNoCtx, serverBits := pmd.answer, pmd.serverNoCtx, pmd.serverBits
			pmd.mu.Unlock()
			if (answer != "") != accepted {
				p.t.Errorf("server answer %q, want accepted=%v", answer, accepted)
				return
			}
			if answer == "" {
				// Autobahn: UNIMPLEMENTED (the server declined the offer);
				// the connection must go on uncompressed.
				p.write(wstest.Frame{Fin: true, Opcode: op, Payload: msgs[0]}.Bytes())
				p.awaitEvents(1, abWait)
				return
			}
			if !serverNoCtx != key.takeover || abDeflateLevel(serverBits) != key.level {
				p.t.Errorf("server settings (no context takeover %v, window bits %d) differ from the prepared messages' %+v", serverNoCtx, serverBits, key)
				return
			}
			for k, msg := range msgs {
				payload := payloads[k]
				frag := size[1]
				if frag == 0 {
					frag = max(len(payload), 1)
				}
				var b []byte
				for off := 0; off == 0 || off < len(payload); off += frag {
					end := min(off+frag, len(payload))
					f := wstest.Frame{Fin: end == len(payload), Opcode: wstest.OpContinuation, Payload: payload[off:end]}
					if off == 0 {
						f.Opcode, f.RSV = op, wstest.RSV1
					}
					b = append(b, f.Bytes()...)
				}
				p.write(b)
				if !p.awaitEvents(k+1, abWait) {
					p.t.Errorf("message %d (%d bytes) not echoed (client closed: %v)", k+1, len(msg), p.closeEv)
					return
				}
				if got := p.got[k]; got.kind != abMessage || got.op != op || !bytes.Equal(got.data, msg) {
					p.t.Errorf("message %d: echo differs: got %v, want %d bytes", k+1, got, len(msg))
					return
				}
			}
			thr := opts.Threshold
			if thr == 0 {
				thr = 128
			}
			if size[0] >= thr && pmd.compressed.Load() == 0 {
				p.t.Errorf("client sent no compressed message (answer %q)", answer)
			}
		},
		want: abOK(want...),
	}
}

func abSection12() []abCase {
	var cases []abCase
	for j, corpus := range abCorpora() {
		for _, i := range []int{1, 3, 5, 10, 11, 18} {
			count := 20
			if abMsgSizes[i-1][0] >= 65536 {
				count = 4
			}
			tc := abDeflateCase(fmt.Sprintf("12.%d.%d", j+1, i), corpus, abMsgSizes[i-1], count, abAccept1, CompressionOptions{})
			cases = append(cases, tc)
		}
	}
	return cases
}

func abSection13() []abCase {
	var cases []abCase
	corpus := abCorpora()[0] // json, as in Autobahn
	accepts := []abAccept{abAccept1, abAccept2, abAccept3, abAccept4, abAccept5, abAccept6, abAccept7}
	clients := []struct {
		suffix string
		opts   CompressionOptions
	}{
		{"", CompressionOptions{}}, // the default offer: permessage-deflate; client_max_window_bits
		{"+client_no_context_takeover", CompressionOptions{ClientNoContextTakeover: true}},
	}
	for j, accept := range accepts {
		for _, i := range []int{1, 5, 9, 15} {
			for _, cl := range clients {
				count := 20
				if abMsgSizes[i-1][0] >= 65536 {
					count = 4
				}
				id := fmt.Sprintf("13.%d.%d%s", j+1, i, cl.suffix)
				tc := abDeflateCase(id, corpus, abMsgSizes[i-1], count, accept, cl.opts)
				cases = append(cases, tc)
			}
		}
	}
	return cases
}

// The decoder itself must agree with compress/flate on what it emits, and
// must catch a distance beyond the window.
func TestAutobahnInflateChecker(t *testing.T) {
	data := abCorpora()[0].data[:100<<10]
	for _, level := range []int{flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, level)
		w.Write(data[:50<<10])
		w.Flush()
		first := bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff}))
		buf.Reset()
		w.Write(data[50<<10:])
		w.Flush()
		second := bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff}))
		z := &flatecheck.Inflater{Window: 32 << 10, Takeover: true}
		out1, _, err := z.Inflate(append(first, 0, 0, 0xff, 0xff))
		if err != nil || !bytes.Equal(out1, data[:50<<10]) {
			t.Fatalf("level %d: first message: %v (%d bytes)", level, err, len(out1))
		}
		out2, _, err := z.Inflate(append(second, 0, 0, 0xff, 0xff))
		if err != nil || !bytes.Equal(out2, data[50<<10:]) {
			t.Fatalf("level %d: second message: %v (%d bytes)", level, err, len(out2))
		}
		if level == flate.HuffmanOnly {
			continue
		}
		small := &flatecheck.Inflater{Window: 256}
		if _, _, err := small.Inflate(append(first, 0, 0, 0xff, 0xff)); !errors.Is(err, flatecheck.ErrWindow) {
			t.Errorf("level %d: a 32 KiB-window stream passed the 256-byte window check: %v", level, err)
		}
	}
}
