package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// screen collects what the command writes: to its terminal (readScreen),
// or to a pipe as its Stdout or Stderr. It can be read while the command
// runs.
type screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	more chan struct{}
}

func newScreen() *screen { return &screen{more: make(chan struct{}, 1)} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.buf.Write(p)
	s.mu.Unlock()
	select {
	case s.more <- struct{}{}:
	default:
	}
	return len(p), nil
}

func readScreen(ptm *os.File) *screen {
	s := newScreen()
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptm.Read(b)
			s.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	return s
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// await waits until the screen shows want.
func (s *screen) await(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(s.String(), want) {
		select {
		case <-s.more:
		case <-deadline:
			t.Fatalf("the terminal never showed %q:\n%q", want, s.String())
		}
	}
}
