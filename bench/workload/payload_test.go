package workload

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"testing"
	"time"
)

func TestJSONMessages(t *testing.T) {
	msgs := JSONMessages(16, 4096)
	for i, m := range msgs {
		if len(m) != 4096 {
			t.Errorf("message %d is %d bytes, want 4096", i, len(m))
		}
		if !json.Valid(m) {
			t.Errorf("message %d is not valid JSON: %.200s…", i, m)
		}
		for j := range i {
			if bytes.Equal(m, msgs[j]) {
				t.Errorf("messages %d and %d are equal", i, j)
			}
		}
	}
	if again := JSONMessages(16, 4096); !bytes.Equal(again[3], msgs[3]) {
		t.Error("JSONMessages is not deterministic")
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i))
	}
	if p := percentile(d, 0.5); p != 51 && p != 50 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(d, 0.99); p != 99 {
		t.Errorf("p99 = %v", p)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Errorf("p50 of none = %v", p)
	}
}

func TestScale(t *testing.T) {
	if n := (Scale{}).n(1000, 10); n != 1000 {
		t.Errorf("full = %d", n)
	}
	if n := (Scale{Quick: true}).n(1000, 10); n != 10 {
		t.Errorf("quick = %d", n)
	}
	if n := (Scale{Factor: 0.001}).n(1000, 10); n != 1 {
		t.Errorf("scaled to %d, want at least 1", n)
	}
	if _, err := Select("seq64,nope"); err == nil {
		t.Error("unknown workload accepted")
	}
}

// TestMeterCountsSyscalls checks the per-process counters: 100 writes to
// /dev/null between start and stop are 100 write system calls, and reading
// /proc/self/io itself is not counted.
func TestMeterCountsSyscalls(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte("x")
	m := startMeter(Hooks{})
	for range 100 {
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	m.stop()
	if m.Reads < 0 || m.Writes < 0 {
		t.Skip("/proc/self/io is not available")
	}
	if m.Writes < 100 || m.Writes > 102 {
		t.Errorf("counted %d writes, want 100", m.Writes)
	}
	if m.Reads > 2 {
		t.Errorf("counted %d reads, want about 0 (the meter's own reads are subtracted)", m.Reads)
	}
	if m.Waits < 0 {
		t.Errorf("voluntary context switches unavailable: %d", m.Waits)
	}
	res := m.costs(100)
	if w := res["writes_per_msg"]; w < 1 || w > 1.02 {
		t.Errorf("writes per message %v, want 1", w)
	}
}

func TestSelectDefaultAndExtra(t *testing.T) {
	def, err := Select("default")
	if err != nil {
		t.Fatal(err)
	}
	all, _ := Select("all")
	if len(all) <= len(def) {
		t.Fatalf("all has %d workloads, default %d: want extras", len(all), len(def))
	}
	for _, w := range def {
		if w.Extra {
			t.Errorf("extra workload %s in the default set", w.Name)
		}
	}
	if ws, err := Select("msg1m"); err != nil || len(ws) != 1 {
		t.Errorf("an extra workload cannot be named: %v", err)
	}
}

// TestMultiSinkOrder checks the concurrent-writer check: writers may
// interleave, but one writer's messages must come back in order.
func TestMultiSinkOrder(t *testing.T) {
	msg := func(w, seq uint64) []byte {
		b := make([]byte, 64)
		binary.LittleEndian.PutUint64(b, w<<56|seq)
		return b
	}
	f := newFailer()
	s := &multiSink{f: f, size: 64, next: make([]uint64, 2)}
	done := s.until(3)
	s.onMessage(msg(1, 0))
	s.onMessage(msg(0, 0))
	s.onMessage(msg(1, 1))
	select {
	case <-done:
	default:
		t.Fatal("not done after 3 interleaved in-order echoes")
	}
	if f.err != nil {
		t.Fatal(f.err)
	}
	s.onMessage(msg(0, 2)) // writer 0's message 1 is missing
	if f.err == nil {
		t.Error("out-of-order echo not detected")
	}
}
