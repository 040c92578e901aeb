//go:build !js

package wsclient

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wsclient/wsclient/wstest"
)

// ---------------------------------------------------------------------------
// 6 UTF-8 handling: valid text echoed, invalid text failed with 1007, as
// soon as the bytes received cannot be valid any more (fail fast).

// abKosme is "κόσμε", Autobahn's favourite valid multi-byte string.
const abKosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

// abUTF8Group is one of Autobahn's 6.5-6.23 categories: payloads sent as
// one text frame each, and whether each is valid UTF-8.
type abUTF8Group struct {
	name     string
	payloads []abUTF8Payload
}

type abUTF8Payload struct {
	valid bool
	s     string
}

// abUTF8Sequences is autobahntestsuite/case/case6_x_x.py's
// createUtf8TestSequences (after Markus Kuhn's UTF-8-test.txt), in order:
// group k is case 6.(k+5), payload j is case 6.(k+5).(j+1).
func abUTF8Sequences() []abUTF8Group {
	v := func(s string) abUTF8Payload { return abUTF8Payload{true, s} }
	x := func(s string) abUTF8Payload { return abUTF8Payload{false, s} }
	var g []abUTF8Group
	add := func(name string, p ...abUTF8Payload) { g = append(g, abUTF8Group{name, p}) }

	add("Some valid UTF-8 sequences",
		v("hello\x24world"), v("hello\xC2\xA2world"), v("hello\xE2\x82\xACworld"), v("hello\xF0\xA4\xAD\xA2world"), v(abKosme))
	var prefixes []abUTF8Payload
	for i := 1; i <= len(abKosme); i++ {
		// Autobahn's validator: valid and ending on a code point.
		prefixes = append(prefixes, abUTF8Payload{utf8.ValidString(abKosme[:i]), abKosme[:i]})
	}
	add("All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes...)
	add("First possible sequence of a certain length", v("\x00"), v("\xc2\x80"), v("\xe0\xa0\x80"), v("\xf0\x90\x80\x80"))
	add("First possible sequence length 5/6 (invalid codepoints)", x("\xf8\x88\x80\x80\x80"), x("\xfc\x84\x80\x80\x80\x80"))
	add("Last possible sequence of a certain length", v("\x7f"), v("\xdf\xbf"), v("\xef\xbf\xbf"), v("\xf4\x8f\xbf\xbf"))
	add("Last possible sequence length 4/5/6 (invalid codepoints)", x("\xf7\xbf\xbf\xbf"), x("\xfb\xbf\xbf\xbf\xbf"), x("\xfd\xbf\xbf\xbf\xbf\xbf"))
	add("Other boundary conditions", v("\xed\x9f\xbf"), v("\xee\x80\x80"), v("\xef\xbf\xbd"), v("\xf4\x8f\xbf\xbf"), x("\xf4\x90\x80\x80"))
	var all80 strings.Builder
	for b := 0x80; b < 0xbf; b++ { // Python's xrange(0x80, 0xbf): 0xbf excluded
		all80.WriteByte(byte(b))
	}
	add("Unexpected continuation bytes", x("\x80"), x("\xbf"), x("\x80\xbf"), x("\x80\xbf\x80"), x("\x80\xbf\x80\xbf"),
		x("\x80\xbf\x80\xbf\x80"), x("\x80\xbf\x80\xbf\x80\xbf"), x(all80.String()))
	var lonely []abUTF8Payload
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var s strings.Builder
		for b := r[0]; b < r[1]; b++ {
			s.WriteByte(byte(b))
			s.WriteByte(0x20)
		}
		lonely = append(lonely, x(s.String()))
	}
	add("Lonely start characters", lonely...)
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	var miss []abUTF8Payload
	for _, s := range missing {
		miss = append(miss, x(s))
	}
	add("Sequences with last continuation byte missing", miss...)
	add("Concatenation of incomplete sequences", x(strings.Join(missing, "")))
	add("Impossible bytes", x("\xfe"), x("\xff"), x("\xfe\xfe\xff\xff"))
	add("Examples of an overlong ASCII character", x("\xc0\xaf"), x("\xe0\x80\xaf"), x("\xf0\x80\x80\xaf"), x("\xf8\x80\x80\x80\xaf"), x("\xfc\x80\x80\x80\x80\xaf"))
	add("Maximum overlong sequences", x("\xc1\xbf"), x("\xe0\x9f\xbf"), x("\xf0\x8f\xbf\xbf"), x("\xf8\x87\xbf\xbf\xbf"), x("\xfc\x83\xbf\xbf\xbf\xbf"))
	add("Overlong representation of the NUL character", x("\xc0\x80"), x("\xe0\x80\x80"), x("\xf0\x80\x80\x80"), x("\xf8\x80\x80\x80\x80"), x("\xfc\x80\x80\x80\x80\x80"))
	add("Single UTF-16 surrogates", x("\xed\xa0\x80"), x("\xed\xad\xbf"), x("\xed\xae\x80"), x("\xed\xaf\xbf"), x("\xed\xb0\x80"), x("\xed\xbe\x80"), x("\xed\xbf\xbf"))
	add("Paired UTF-16 surrogates", x("\xed\xa0\x80\xed\xb0\x80"), x("\xed\xa0\x80\xed\xbf\xbf"), x("\xed\xad\xbf\xed\xb0\x80"), x("\xed\xad\xbf\xed\xbf\xbf"),
		x("\xed\xae\x80\xed\xb0\x80"), x("\xed\xae\x80\xed\xbf\xbf"), x("\xed\xaf\xbf\xed\xb0\x80"), x("\xed\xaf\xbf\xed\xbf\xbf"))
	nonChars := []abUTF8Payload{v("\xef\xbf\xbe"), v("\xef\xbf\xbf")}
	for _, z1 := range []byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4} {
		for _, z2 := range []byte{0x8f, 0x9f, 0xaf, 0xbf} {
			if z1 == 0xf4 && z2 != 0x8f {
				continue // above U+10FFFF
			}
			for _, z3 := range []byte{0xbe, 0xbf} {
				zz := string([]byte{z1, z2, 0xbf, z3})
				if zz == "\xf0\x8f\xbf\xbe" || zz == "\xf0\x8f\xbf\xbf" {
					continue // overlong
				}
				nonChars = append(nonChars, v(zz))
			}
		}
	}
	add("Non-character code points (valid UTF-8)", nonChars...)
	add("Unicode specials (i.e. replacement char)", v("\xef\xbf\xb9"), v("\xef\xbf\xba"), v("\xef\xbf\xbb"), v("\xef\xbf\xbc"), v("\xef\xbf\xbd"), v("\xef\xbf\xbe"), v("\xef\xbf\xbf"))
	return g
}

// abFragments splits s into text fragments at the given cut points.
func abFragments(s string, cuts ...int) [][]byte {
	var out [][]byte
	prev := 0
	for i, c := range append(cuts, len(s)) {
		op := wstest.OpContinuation
		if i == 0 {
			op = wstest.OpText
		}
		out = append(out, abFrame(c == len(s) && i == len(cuts), op, s[prev:c]))
		prev = c
	}
	return out
}

// abOctetFragments is s in fragments of one byte each.
func abOctetFragments(s string) [][]byte {
	var cuts []int
	for i := 1; i < len(s); i++ {
		cuts = append(cuts, i)
	}
	return abFragments(s, cuts...)
}

func abSection6() []abCase {
	const hello = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"
	const invalid = abKosme + "\xed\xa0\x80" + "edited"
	cases := []abCase{
		{id: "6.1.1", play: func(p *abPeer) { p.write(abFrame(true, wstest.OpText, "")) }, want: abOK(abText(""))},
		{id: "6.1.2", play: func(p *abPeer) {
			p.write(abFrame(false, wstest.OpText, ""), abFrame(false, wstest.OpContinuation, ""), abFrame(true, wstest.OpContinuation, ""))
		}, want: abOK(abText(""))},
		{id: "6.1.3", play: func(p *abPeer) {
			p.write(abFrame(false, wstest.OpText, ""), abFrame(false, wstest.OpContinuation, "middle frame payload"), abFrame(true, wstest.OpContinuation, ""))
		}, want: abOK(abText("middle frame payload"))},
		{id: "6.2.1", play: func(p *abPeer) { p.write(abFrame(true, wstest.OpText, hello)) }, want: abOK(abText(hello))},
		{id: "6.2.2", play: func(p *abPeer) { p.write(abFragments(hello, strings.Index(hello, "\xc3\xbc"))...) }, want: abOK(abText(hello))},
		{id: "6.2.3", play: func(p *abPeer) { p.write(abOctetFragments(hello)...) }, want: abOK(abText(hello))},
		{id: "6.2.4", play: func(p *abPeer) { p.write(abOctetFragments(abKosme)...) }, want: abOK(abText(abKosme))},
		{id: "6.3.1", play: func(p *abPeer) { p.write(abFrame(true, wstest.OpText, invalid)) }, want: abFail(1007)},
		{id: "6.3.2", play: func(p *abPeer) { p.write(abOctetFragments(invalid)...) }, want: abFail(1007)},
	}

	// 6.4.x: fail fast. The valid first part must be accepted (the
	// connection stays open: Autobahn's "timeout A"); the part that makes
	// the text invalid must be rejected at once, before the rest is sent
	// (otherwise Autobahn records "timeout B": NON-STRICT).
	const (
		part1 = abKosme
		part2 = "\xf4\x90\x80\x80" // U+110000 in the UTF-8 scheme: out of range
		part3 = "\x65\x64\x69\x74\x65\x64"
		whole = part1 + part2 + part3
	)
	failFast := func(parts [3][]byte) func(p *abPeer) {
		return func(p *abPeer) {
			p.write(parts[0])
			if !p.quiet(abQuiet) {
				p.t.Errorf("client closed after the valid first part (%v); Autobahn expects the connection open", p.closeEv)
				return
			}
			p.write(parts[1])
			// The rest is sent only after the wait, so a client that
			// waits for it never closes in time, however long the wait.
			if !p.awaitClose(abWait) {
				p.t.Errorf("client did not fail within %v of the invalid part: not fail-fast (Autobahn: NON-STRICT)", abWait)
				p.write(parts[2])
			}
		}
	}
	frames := func(a, b string) [3][]byte {
		return [3][]byte{
			abFrame(false, wstest.OpText, a),
			abFrame(false, wstest.OpContinuation, b),
			abFrame(true, wstest.OpContinuation, whole[len(a)+len(b):]),
		}
	}
	chops := func(a, b string) [3][]byte {
		f := abFrame(true, wstest.OpText, whole)
		h := len(f) - len(whole)
		return [3][]byte{f[:h+len(a)], f[h+len(a) : h+len(a)+len(b)], f[h+len(a)+len(b):]}
	}
	cases = append(cases,
		abCase{id: "6.4.1", play: failFast(frames(part1, part2)), want: abFail(1007)},
		abCase{id: "6.4.2", play: failFast(frames(whole[:12], whole[12:13])), want: abFail(1007)},
		abCase{id: "6.4.3", play: failFast(chops(part1, part2)), want: abFail(1007)},
		abCase{id: "6.4.4", play: failFast(chops(whole[:12], whole[12:13])), want: abFail(1007)},
	)

	// 6.5-6.23: one text frame each.
	for k, grp := range abUTF8Sequences() {
		for j, pl := range grp.payloads {
			want := abFail(1007)
			if pl.valid {
				want = abOK(abText(pl.s))
			}
			cases = append(cases, abCase{
				id:   fmt.Sprintf("6.%d.%d", k+5, j+1),
				play: func(p *abPeer) { p.write(abFrame(true, wstest.OpText, pl.s)) },
				want: want,
			})
		}
	}

	// Not in Autobahn: κόσμε in two fragments cut at every byte, and the
	// invalid 6.3.1 payload cut at every byte (1007 in every case).
	for cut := 1; cut < len(abKosme); cut++ {
		cases = append(cases, abCase{
			id:   fmt.Sprintf("6.6.split-%d", cut),
			play: func(p *abPeer) { p.write(abFragments(abKosme, cut)...) },
			want: abOK(abText(abKosme)),
		})
	}
	return cases
}
