// Package contenders adapts each benchmarked WebSocket client library to one
// small callback interface, so that every workload drives all of them the same
// way.
//
// Each adapter uses its library the way an expert user of that library
// would: the library's own streaming reader (or low-level frame reader) into
// a buffer reused across messages, one frame and as few writes as the
// library allows per message, one dialer reused for every dial, buffers
// sized as the library's docs advise, and no extra copies or goroutine
// hand-offs beyond what the library itself requires. bench/README.md says
// what each adapter does. Pull-style libraries (gorilla,
// coder, gobwas, wsclient's Conn) get one reader goroutine per connection, run
// by the adapter; that goroutine is what an application must run anyway to see
// incoming messages, pings and closes, so it is counted in the idle-connection
// numbers. Push-style libraries (gws, wsclient's Client) run their own read
// loop.
package contenders

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Options configures one benchmark connection.
type Options struct {
	// Text sends text messages instead of binary ones.
	Text bool
	// Compression offers permessage-deflate with no context takeover in
	// either direction (the mode every contender supports), compression
	// level "best speed".
	Compression bool
	// MaxMessageSize is the largest message the client must accept.
	MaxMessageSize int64
	// ManyConns hints that the workload holds many mostly idle connections,
	// so a library that offers a memory-saving mode for that case (gorilla's
	// WriteBufferPool) should use it.
	ManyConns bool
	// ConcurrentWrites says that Write will be called from several
	// goroutines at once; adapters of libraries that do not allow that
	// (gorilla) serialise writes with a mutex, as their users must.
	ConcurrentWrites bool
	// MessageSize is the size of the largest message the workload sends, so
	// that a library whose docs say to size its buffers by the expected
	// message size (gorilla) can be configured that way. 0 means small.
	MessageSize int
}

// Handler receives what a connection reads. Both functions run on the
// connection's reading goroutine, one call at a time.
type Handler struct {
	// Message is called for every data message. p is valid only during the
	// call. Message may call Conn.Write.
	Message func(p []byte)
	// Closed is called once when the reading side ends, with the reason.
	Closed func(err error)
}

// Conn is one benchmark connection.
type Conn interface {
	// Write sends one data message. Callers call Write from one goroutine
	// at a time unless the connection was dialled with ConcurrentWrites.
	Write(p []byte) error
	// Compressed reports whether permessage-deflate was negotiated.
	Compressed() bool
	// Close drops the TCP connection without a closing handshake and waits
	// until the reading goroutine has returned.
	Close() error
}

// Contender is one client library under test.
type Contender struct {
	// Name is the short name used in flags, tables and benchmark names.
	Name string
	// Desc says which library and API the adapter uses.
	Desc string
	// Dial opens a connection to url and starts reading, calling h.
	Dial func(ctx context.Context, url string, opt Options, h Handler) (Conn, error)
}

var (
	mu       sync.Mutex
	registry []Contender
)

// register adds c to the list; adapters call it from init, in the order
// they should appear in tables.
func register(c Contender) {
	mu.Lock()
	defer mu.Unlock()
	registry = append(registry, c)
}

// order fixes the column order of tables regardless of file init order.
var order = []string{"wsclient", "wsclient-client", "wsclient-confirm", "gorilla", "coder", "gws", "gobwas"}

// All returns every registered contender in table order.
func All() []Contender {
	mu.Lock()
	defer mu.Unlock()
	out := append([]Contender(nil), registry...)
	rank := func(name string) int {
		for i, n := range order {
			if n == name {
				return i
			}
		}
		return len(order)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].Name) < rank(out[j].Name) })
	return out
}

// Select returns the contenders named in the comma-separated list, or all of
// them for "" or "all".
func Select(list string) ([]Contender, error) {
	all := All()
	if list == "" || list == "all" {
		return all, nil
	}
	var out []Contender
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, c := range all {
			if c.Name == name {
				out = append(out, c)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown contender %q (have %s)", name, names(all))
		}
	}
	return out, nil
}

func names(cs []Contender) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Name)
	}
	return strings.Join(s, ", ")
}

// readerDone tracks one adapter-run reader goroutine so Close can wait for it.
type readerDone struct {
	once sync.Once
	ch   chan struct{}
}

func newReaderDone() *readerDone { return &readerDone{ch: make(chan struct{})} }

// finish reports the end of reading to h exactly once.
func (r *readerDone) finish(h Handler, err error) {
	r.once.Do(func() {
		if h.Closed != nil {
			h.Closed(err)
		}
		close(r.ch)
	})
}

func (r *readerDone) wait() { <-r.ch }

// errTooBig is returned by adapters that enforce MaxMessageSize themselves.
var errTooBig = errors.New("message over MaxMessageSize")

// grow returns buf with capacity for at least n bytes, keeping its contents.
func grow(buf []byte, n int) []byte {
	if cap(buf) >= n {
		return buf[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(buf)))
	copy(nb, buf)
	return nb
}

// cached returns the value stored in m for opt, making it with mk on first
// use: each adapter keeps one dialer (or dial options value) per Options and
// reuses it, as an application would, instead of building one per dial.
func cached[T any](m *sync.Map, opt Options, mk func() T) T {
	if v, ok := m.Load(opt); ok {
		return v.(T)
	}
	v, _ := m.LoadOrStore(opt, mk())
	return v.(T)
}

// BatchWriter is implemented by connections whose library offers a way to
// send several messages together (in as few system calls as it can).
type BatchWriter interface {
	// WriteBatch sends each element of ps as one data message, in order.
	WriteBatch(ps [][]byte) error
}

// WriteBatch sends ps through c's batch API if it has one, or with one
// Write per message otherwise.
func WriteBatch(c Conn, ps [][]byte) error {
	if bw, ok := c.(BatchWriter); ok {
		return bw.WriteBatch(ps)
	}
	for _, p := range ps {
		if err := c.Write(p); err != nil {
			return err
		}
	}
	return nil
}
