//go:build !js

package wsclient

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/wstest"
)

// ---------------------------------------------------------------------------
// 7 Close handling.

func abSection7() []abCase {
	closeOK := func(codes ...int) abExpect {
		return abExpect{byServer: true, codes: codes, clean: true}
	}
	closeFail := func(codes ...int) abExpect {
		// closedByMe true, requireClean false: the server started the close
		// with a bad frame; the client answers with an error code (or drops).
		return abExpect{byServer: true, codes: codes}
	}
	hello := "Hello World!"
	cases := []abCase{
		{id: "7.1.1", play: func(p *abPeer) {
			p.write(abFrame(true, wstest.OpText, hello))
			p.awaitEvents(1, abWait)
			p.sendClose(1000, "")
		}, want: abOK(abText(hello))},
		{id: "7.1.2", play: func(p *abPeer) {
			p.sendClose(1000, "")
			p.write(abCloseFrame(1000, ""))
		}, want: closeOK(1000)},
		{id: "7.1.3", play: func(p *abPeer) {
			p.sendClose(1000, "")
			p.write(abFrame(true, wstest.OpPing, ""))
		}, want: closeOK(1000)},
		{id: "7.1.4", play: func(p *abPeer) {
			p.sendClose(1000, "")
			p.write(abFrame(true, wstest.OpText, hello))
		}, want: closeOK(1000)},
		{id: "7.1.5", play: func(p *abPeer) {
			p.write(abFrame(false, wstest.OpText, "fragment1"))
			p.sendClose(1000, "")
			p.write(abFrame(true, wstest.OpContinuation, "fragment2"))
		}, want: closeOK(1000)},
		// 7.1.6 is informational in Autobahn: a 256 KiB message, a short
		// one, a close and a ping back to back. Echoing both messages
		// before the close reply is one legal outcome, fewer another.
		{id: "7.1.6", play: func(p *abPeer) {
			p.write(abFrame(true, wstest.OpText, abRepeat("BAsd7&jh23", 256<<10)), abFrame(true, wstest.OpText, hello))
			p.sendClose(1000, "")
			p.write(abFrame(true, wstest.OpPing, ""))
		}, want: abExpect{events: abEvents(abText(abRepeat("BAsd7&jh23", 256<<10)), abText(hello)), anyEvents: true, byServer: true, codes: []int{1000}, clean: true}},

		{id: "7.3.1", play: func(p *abPeer) { p.sendRawClose(nil) }, want: closeOK(1000)},
		{id: "7.3.2", play: func(p *abPeer) { p.sendRawClose([]byte("a")) }, want: closeFail(1002)},
		{id: "7.3.3", play: func(p *abPeer) { p.sendClose(1000, "") }, want: closeOK(1000)},
		{id: "7.3.4", play: func(p *abPeer) { p.sendClose(1000, "Hello World!") }, want: closeOK(1000)},
		{id: "7.3.5", play: func(p *abPeer) { p.sendClose(1000, strings.Repeat("*", 123)) }, want: closeOK(1000)},
		{id: "7.3.6", play: func(p *abPeer) {
			p.sendRawClose(append([]byte{0x03, 0xe8}, strings.Repeat("*", 124)...))
		}, want: closeFail(1002)},
		// 7.5.1: Autobahn accepts 1002 or 1007 for a reason that is not
		// UTF-8; wsclient answers 1002.
		{id: "7.5.1", play: func(p *abPeer) {
			p.sendRawClose(append([]byte{0x03, 0xe8}, abKosme+"\xed\xa0\x80"+"edited"...))
		}, want: closeFail(1002, 1007)},
	}
	// 7.7.x: valid codes, echoed (or answered with 1000).
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cases = append(cases, abCase{
			id:   fmt.Sprintf("7.7.%d", i+1),
			play: func(p *abPeer) { p.sendClose(code, "") },
			want: closeOK(1000, code),
		})
	}
	// 7.9.x: invalid codes: 1002. (Older Autobahn releases also listed
	// 1012-1015 here; see TestAutobahnCloseCodes1012To1014.)
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		cases = append(cases, abCase{
			id:   fmt.Sprintf("7.9.%d", i+1),
			play: func(p *abPeer) { p.sendRawClose([]byte{byte(code >> 8), byte(code)}) },
			want: closeFail(1002),
		})
	}
	// 7.13.x: informational (undefined by the spec); Autobahn accepts 1000,
	// the code itself or 1002.
	for i, code := range []int{5000, 65535} {
		cases = append(cases, abCase{
			id:   fmt.Sprintf("7.13.%d", i+1),
			play: func(p *abPeer) { p.sendRawClose([]byte{byte(code >> 8), byte(code)}) },
			want: closeFail(1000, code, 1002),
		})
	}
	return cases
}

func abRepeat(s string, n int) string {
	return strings.Repeat(s, n/len(s)+1)[:n]
}

// ---------------------------------------------------------------------------
// 9 Limits and performance: large messages, whole and fragmented, and many
// small ones. Autobahn runs 9.1-9.8 with up to 16 MiB messages; we run a
// selection (the sizes the default MaxMessageSize of 32 MiB must allow).
// Autobahn only reports the time a case takes; so do we (go test -v shows
// it): a wall-clock bound here failed under -race on a loaded machine (16
// MiB echoed in 11 s at load average 12), and only a hang (abCaseLimit)
// fails a case.

func abSection9() []abCase {
	big := func(op wstest.Opcode, n int) []byte {
		if op == wstest.OpText {
			return []byte(abRepeat("BAsd7&jh23", n))
		}
		return []byte(abRepeat("\xfe", n))
	}
	ev := func(op wstest.Opcode, b []byte) abEvent { return abEvent{kind: abMessage, op: op, data: b} }
	var cases []abCase
	// 9.1 text, 9.2 binary: 64 KiB ... 16 MiB in one frame.
	for s, op := range []wstest.Opcode{wstest.OpText, wstest.OpBinary} {
		for i, n := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20} {
			if n == 8<<20 || n == 4<<20 {
				continue // covered by 16 MiB
			}
			payload := big(op, n)
			cases = append(cases, abCase{
				id: fmt.Sprintf("9.%d.%d", s+1, i+1),
				play: func(p *abPeer) {
					p.write(wstest.Frame{Fin: true, Opcode: op, Payload: payload}.Bytes())
					p.awaitEvents(1, abCaseLimit)
				},
				want: abOK(ev(op, payload)),
			})
		}
	}
	// 9.3 text, 9.4 binary: a 4 MiB message in fragments of 64 B ... 4 MiB.
	for s, op := range []wstest.Opcode{wstest.OpText, wstest.OpBinary} {
		payload := big(op, 4<<20)
		for i, fs := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20} {
			if fs == 256 || fs == 1<<10 || fs == 16<<10 || fs == 256<<10 {
				continue // a selection
			}
			cases = append(cases, abCase{
				id: fmt.Sprintf("9.%d.%d", s+3, i+1),
				play: func(p *abPeer) {
					var b []byte
					for off := 0; off < len(payload); off += fs {
						o := wstest.OpContinuation
						if off == 0 {
							o = op
						}
						end := min(off+fs, len(payload))
						b = append(b, wstest.Frame{Fin: end == len(payload), Opcode: o, Payload: payload[off:end]}.Bytes()...)
					}
					p.write(b)
					p.awaitEvents(1, abCaseLimit)
				},
				want: abOK(ev(op, payload)),
			})
		}
	}
	// 9.5 text, 9.6 binary: a 1 MiB message in chops of 64 B ... 2 KiB.
	for s, op := range []wstest.Opcode{wstest.OpText, wstest.OpBinary} {
		payload := big(op, 1<<20)
		for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
			if chop != 64 && chop != 2048 {
				continue
			}
			cases = append(cases, abCase{
				id: fmt.Sprintf("9.%d.%d", s+5, i+1),
				play: func(p *abPeer) {
					p.writeChopped(chop, 0, wstest.Frame{Fin: true, Opcode: op, Payload: payload}.Bytes())
					p.awaitEvents(1, abCaseLimit)
				},
				want: abOK(ev(op, payload)),
			})
		}
	}
	// 9.7 text, 9.8 binary: 1000 messages of 0 ... 4096 bytes, each sent
	// after the previous echo.
	for s, op := range []wstest.Opcode{wstest.OpText, wstest.OpBinary} {
		for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
			const count = 1000
			payload := big(op, n)
			var want []abEvent
			for range count {
				want = append(want, ev(op, payload))
			}
			cases = append(cases, abCase{
				id: fmt.Sprintf("9.%d.%d", s+7, i+1),
				play: func(p *abPeer) {
					f := wstest.Frame{Fin: true, Opcode: op, Payload: payload}.Bytes()
					for k := range count {
						p.write(f)
						if !p.awaitEvents(k+1, abWait) {
							p.t.Errorf("message %d not echoed", k+1)
							return
						}
					}
				},
				want: abOK(want...),
			})
		}
	}
	return cases
}

// ---------------------------------------------------------------------------
// 10 Misc: 10.1.1 a 64 KiB text message auto-fragmented into 1300-byte
// frames.

func abSection10() []abCase {
	payload := strings.Repeat("*", 65536)
	var cuts []int
	for off := 1300; off < len(payload); off += 1300 {
		cuts = append(cuts, off)
	}
	return []abCase{{
		id:   "10.1.1",
		play: func(p *abPeer) { p.write(abFragments(payload, cuts...)...) },
		want: abOK(abText(payload)),
	}}
}

// Close codes 1012-1014 (service restart, try again later, bad gateway) are
// registered with IANA and wsclient echoes them like 7.7.x. Older Autobahn
// releases listed them (and 1015) among the invalid codes of 7.9.x and
// expected 1002; current ones do not test them. Both outcomes are pinned
// here so that a change of mind is deliberate.
func TestAutobahnCloseCodes1012To1014(t *testing.T) {
	var cases []abCase
	for _, code := range []int{1012, 1013, 1014} {
		cases = append(cases, abCase{
			id:   fmt.Sprintf("%d echoed", code),
			play: func(p *abPeer) { p.sendClose(code, "") },
			want: abExpect{byServer: true, codes: []int{code}, clean: true},
		})
	}
	// 1015 is never valid on the wire (old 7.9.x).
	cases = append(cases, abCase{
		id:   "1015 rejected",
		play: func(p *abPeer) { p.sendRawClose([]byte{0x03, 0xf7}) },
		want: abExpect{byServer: true, codes: []int{1002}},
	})
	runABCases(t, abConcurrency, cases, abConnEcho)
}
