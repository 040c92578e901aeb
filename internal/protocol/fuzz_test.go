package protocol

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReceive feeds arbitrary bytes to the engine, whole and in pieces: it
// must never panic, must give the same transcript and error either way,
// fail only with the codes it documents, and never deliver a text message
// that is not UTF-8 or a message over the limit.
func FuzzReceive(f *testing.F) {
	for _, tc := range recvCases {
		f.Add(tc.in, tc.cfg.Deflate, uint16(tc.cfg.MaxMessage), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, deflate bool, limit uint16, step uint8) {
		cfg := Config{Deflate: deflate, MaxMessage: int64(limit)}
		whole := run(cfg, in, 0)
		pieces := run(cfg, in, int(step))
		if a, b := strings.Join(whole.log, "|"), strings.Join(pieces.log, "|"); a != b {
			t.Fatalf("transcript depends on how bytes arrive:\n%q\n%q", a, b)
		}
		if (whole.err == nil) != (pieces.err == nil) {
			t.Fatalf("errors differ: %v / %v", whole.err, pieces.err)
		}
		texts := 0
		for _, entry := range whole.log {
			if strings.HasPrefix(entry, "text ") {
				texts++
			}
		}
		for _, m := range whole.msgs {
			if limit > 0 && len(m) > int(limit) {
				t.Fatalf("message of %d bytes over the %d limit", len(m), limit)
			}
		}
		for _, m := range whole.texts {
			if !utf8.Valid(m) {
				t.Fatalf("invalid UTF-8 delivered: %q", m)
			}
		}
		if texts != len(whole.texts) {
			t.Fatalf("%d text messages logged, %d kept", texts, len(whole.texts))
		}
		if whole.err == nil {
			return
		}
		var pe *Error
		if !errors.As(whole.err, &pe) {
			t.Fatalf("error of type %T: %v", whole.err, whole.err)
		}
		want := map[int]error{1002: ErrProtocol, 1007: ErrInvalidUTF8, 1009: ErrTooBig}[pe.Code]
		if want == nil || !errors.Is(pe, want) {
			t.Fatalf("error %v with code %d", pe, pe.Code)
		}
		if pe == errState {
			t.Fatalf("driver misused the engine: %v", pe)
		}
	})
}
