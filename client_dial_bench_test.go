//go:build !js

package wsclient

import (
	"context"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
)

// idleMemConn is an in-memory net.Conn that answers the opening handshake (see
// handshakeConn) and then blocks reads until it is closed, like an idle
// socket: the allocations counted around it are the client's.
type idleMemConn struct {
	handshakeConn
	mu     sync.Mutex
	closed bool
	wake   chan struct{}
}

var (
	memLocal  = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	memRemote = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}
)

func newMemConn() *idleMemConn { return &idleMemConn{wake: make(chan struct{})} }

func (m *idleMemConn) Read(p []byte) (int, error) {
	if m.off < m.n {
		return m.handshakeConn.Read(p)
	}
	<-m.wake
	return 0, net.ErrClosed
}

func (m *idleMemConn) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.wake)
	}
	return nil
}

func (m *idleMemConn) LocalAddr() net.Addr  { return memLocal }
func (m *idleMemConn) RemoteAddr() net.Addr { return memRemote }

// memDialer dials idleMemConns.
func memDialer() *Dialer {
	return &Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) {
		return newMemConn(), nil
	}}
}

// connectHandler reports each OnConnect and each Terminate.
type connectHandler struct {
	BaseHandler
	connected chan struct{}
}

func (h *connectHandler) OnConnect(*Client, ConnInfo) Action {
	h.connected <- struct{}{}
	return Action{}
}

// dialConnReading is what a Conn user does to connect: Dial, then a
// goroutine that reads.
func dialConnReading(ctx context.Context, d *Dialer) (*Conn, chan struct{}, error) {
	cn, err := Dial(ctx, "ws://example.com/chat", d)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf []byte
		for {
			var err error
			if _, buf, err = cn.appendMessage(ctx, buf[:0], false); err != nil {
				return
			}
		}
	}()
	return cn, done, nil
}

// startClient starts a Client on d and waits for its OnConnect.
func startClient(ctx context.Context, d *Dialer, h *connectHandler) (*Client, error) {
	c, err := Start(ctx, "ws://example.com/chat", h, &Options{Dialer: d})
	if err != nil {
		return nil, err
	}
	select {
	case <-h.connected:
	case <-clientDone(c):
		return nil, c.Wait()
	}
	return c, nil
}

// BenchmarkConnDialClose is one Conn connection's life as the bench module's
// handshake workload runs it: Dial, a reading goroutine, CloseNow, the
// reader's end.
func BenchmarkConnDialClose(b *testing.B) {
	d := memDialer()
	ctx := context.Background()
	b.ReportAllocs()
	for range b.N {
		cn, done, err := dialConnReading(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		cn.CloseNow()
		<-done
	}
}

// BenchmarkClientDialClose is BenchmarkConnDialClose for a Client: Start,
// OnConnect, Stop with an ended context (no close handshake), Terminate.
func BenchmarkClientDialClose(b *testing.B) {
	d := memDialer()
	ctx := context.Background()
	ended, cancel := context.WithCancel(ctx)
	cancel()
	h := &connectHandler{connected: make(chan struct{}, 1)}
	b.ReportAllocs()
	for range b.N {
		c, err := startClient(ctx, d, h)
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Stop(ended)
		<-clientDone(c)
	}
}

// idleMem returns the heap (HeapAlloc) and stack (StackInuse) bytes held
// after two collections.
func idleMem() (heap, stack uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse
}

// BenchmarkIdleConnected reports the heap and stack bytes that an idle
// connected Conn (with its reading goroutine) and an idle connected Client
// hold, per connection, over in-memory connections.
func BenchmarkIdleConnected(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	b.Run("Conn", func(b *testing.B) {
		d := memDialer()
		for range b.N {
			conns := make([]*Conn, n)
			dones := make([]chan struct{}, n)
			heap0, stack0 := idleMem()
			for i := range conns {
				var err error
				if conns[i], dones[i], err = dialConnReading(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
			heap1, stack1 := idleMem()
			b.ReportMetric(float64(heap1-heap0)/n, "heapB/conn")
			b.ReportMetric(float64(stack1-stack0)/n, "stackB/conn")
			writeIdleProfile(b, "conn")
			for i, cn := range conns {
				cn.CloseNow()
				<-dones[i]
			}
		}
	})
	b.Run("Client", func(b *testing.B) {
		d := memDialer()
		h := &connectHandler{connected: make(chan struct{}, 1)}
		ended, cancel := context.WithCancel(ctx)
		cancel()
		for range b.N {
			cs := make([]*Client, n)
			heap0, stack0 := idleMem()
			for i := range cs {
				var err error
				if cs[i], err = startClient(ctx, d, h); err != nil {
					b.Fatal(err)
				}
			}
			heap1, stack1 := idleMem()
			b.ReportMetric(float64(heap1-heap0)/n, "heapB/conn")
			b.ReportMetric(float64(stack1-stack0)/n, "stackB/conn")
			writeIdleProfile(b, "client")
			for _, c := range cs {
				_ = c.Stop(ended)
				<-clientDone(c)
			}
		}
	})
}

// writeIdleProfile writes a heap profile of what the idle connections hold
// to $WSCLIENT_IDLE_PROFILE.name.pprof when that variable is set (run with
// -memprofilerate 1 for exact numbers).
func writeIdleProfile(b *testing.B, name string) {
	prefix := os.Getenv("WSCLIENT_IDLE_PROFILE")
	if prefix == "" {
		return
	}
	f, err := os.Create(prefix + "." + name + ".pprof")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
