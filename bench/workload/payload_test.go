package workload

import (
	"bytes"
	"encoding/json"
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
