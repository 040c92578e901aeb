//go:build !js

package wsclient

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// Valid multi-byte text arrives intact, in one frame and echoed.
func TestConnUTF8Valid(t *testing.T) {
	srv := newEcho(t)
	conn := dialT(t, srv.URL, nil)
	ctx := testCtx(t)
	for _, s := range []string{"", "héllo wörld", "日本語のテキスト", "emoji 🎉🚀", "\u0080\u07ff\u0800\uffff\U00010000\U0010ffff", "κόσμε"} {
		if err := conn.WriteMessage(ctx, TextMessage, []byte(s)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := conn.ReadMessage(ctx)
		if err != nil || typ != TextMessage || string(got) != s {
			t.Fatalf("%q came back as %v %q, %v", s, typ, got, err)
		}
	}
}

// Multi-byte sequences cut at every position across fragments (and across
// empty fragments) are valid.
func TestConnUTF8SplitAcrossFragments(t *testing.T) {
	var texts []string
	for _, s := range []string{"é", "日", "🎉", "\U0010ffff"} {
		texts = append(texts, "a"+s+"b")
	}
	type msg struct {
		frags [][]byte
		want  string
	}
	var msgs []msg
	for _, s := range texts {
		b := []byte(s)
		for cut := 1; cut < len(b); cut++ {
			msgs = append(msgs, msg{[][]byte{b[:cut], b[cut:]}, s})
			msgs = append(msgs, msg{[][]byte{b[:cut], {}, b[cut:]}, s})
		}
		// One byte per fragment.
		var one [][]byte
		for i := range b {
			one = append(one, b[i:i+1])
		}
		msgs = append(msgs, msg{one, s})
	}
	srv := newServer(t, func(c *wstest.Conn) error {
		for _, m := range msgs {
			for i, f := range m.frags {
				op := wstest.OpContinuation
				if i == 0 {
					op = wstest.OpText
				}
				if err := c.WriteFrame(i == len(m.frags)-1, 0, op, f); err != nil {
					return err
				}
			}
		}
		return c.Close(CloseNormalClosure, "")
	})
	conn := dialT(t, srv.URL, nil)
	got, err := readUntilErr(t, conn)
	var ce *CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("ended with %v, want the server's close", err)
	}
	if len(got) != len(msgs) {
		t.Fatalf("read %d messages, want %d", len(got), len(msgs))
	}
	for i, m := range msgs {
		if string(got[i]) != m.want {
			t.Fatalf("message %d (%q in %d fragments) read as %q", i, m.want, len(m.frags), got[i])
		}
	}
}

// Invalid UTF-8 in a text message fails the connection with 1007 and an
// error matching ErrInvalidUTF8.
func TestConnUTF8Invalid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frags []string
	}{
		{"lone continuation byte", []string{"abc\x80def"}},
		{"0xFF", []string{"\xff"}},
		{"overlong slash", []string{"\xc0\xaf"}},
		{"overlong 3-byte", []string{"\xe0\x80\xaf"}},
		{"surrogate", []string{"a\xed\xa0\x80b"}},
		{"over U+10FFFF", []string{"\xf4\x90\x80\x80"}},
		{"truncated at the end", []string{"abc\xe6\x97"}},
		{"truncated at the end of the last fragment", []string{"abc", "\xf0\x9f\x8e"}},
		{"truncated before an empty final fragment", []string{"abc\xe6", ""}},
		{"invalid in the middle fragment", []string{"ok ", "\xc3\x28", "rest"}},
		{"invalid continuation across fragments", []string{"\xe6\x97", "\x28"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runFailCase(t, failCase{
				write: func(c *wstest.Conn) error {
					if err := c.WriteMessage(wstest.OpText, []byte("valid first")); err != nil {
						return err
					}
					for i, f := range tc.frags {
						op := wstest.OpContinuation
						if i == 0 {
							op = wstest.OpText
						}
						if err := c.WriteFrame(i == len(tc.frags)-1, 0, op, []byte(f)); err != nil {
							return err
						}
					}
					return nil
				},
				code: CloseInvalidFramePayloadData, sentinel: ErrInvalidUTF8, msgs: 1,
			})
		})
	}
	// Binary messages are not validated.
	t.Run("binary is not text", func(t *testing.T) {
		srv := newServer(t, func(c *wstest.Conn) error { return c.WriteMessage(wstest.OpBinary, []byte("\xff\xfe")) })
		conn := dialT(t, srv.URL, nil)
		if _, got, err := conn.ReadMessage(testCtx(t)); err != nil || string(got) != "\xff\xfe" {
			t.Fatalf("%q, %v", got, err)
		}
	})
}

// A text message that becomes invalid in a non-final fragment fails at once:
// the client sends its 1007 close before the server has sent the rest of the
// message. The script only sends the final fragment after it has received
// the client's close frame, so a client that waited for the whole message
// would never fail.
func TestConnUTF8FailFast(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frags []string // all sent before waiting; a final fragment follows
	}{
		{"invalid first fragment", []string{"\xff"}},
		{"invalid second fragment", []string{"hello \xce", "\xba\xe1\xbd\xb9\xce\xbc\xce\xb5\xed\xa0\x80"}},
		{"bad continuation of a split sequence", []string{"abc\xf0\x9f", "A"}},
		{"impossible prefix at a fragment end", []string{"abc\xf5"}},
		{"surrogate prefix at a fragment end", []string{"abc\xed\xa0"}},
		{"invalid in a large fragment", []string{string(pattern(0, 0)) + "0123456789" + "\xc0"}},
	} {
		for _, style := range []string{"ReadMessage", "NextReader"} {
			t.Run(tc.name+"/"+style, func(t *testing.T) {
				closed := make(chan closeResult, 1)
				srv := newServer(t, func(c *wstest.Conn) error {
					for i, f := range tc.frags {
						op := wstest.OpContinuation
						if i == 0 {
							op = wstest.OpText
						}
						if err := c.WriteFrame(false, 0, op, []byte(f)); err != nil {
							return err
						}
					}
					c.NetConn().SetReadDeadline(time.Now().Add(2 * time.Second))
					code, _, err := c.ExpectClose()
					closed <- closeResult{code: code, err: err}
					if err == nil {
						// Too late now: the client must already have failed.
						if err := c.WriteFrame(true, 0, wstest.OpContinuation, []byte("end")); err != nil && !gone(err) {
							return err
						}
					}
					return nil
				})
				conn := dialT(t, srv.URL, nil)
				var err error
				if style == "ReadMessage" {
					_, _, err = conn.ReadMessage(testCtx(t))
				} else {
					_, r, nerr := conn.NextReader(testCtx(t))
					err = nerr
					if nerr == nil {
						buf := make([]byte, 100)
						for err == nil {
							_, err = r.Read(buf)
						}
					}
				}
				r := recv(t, closed)
				if r.err != nil {
					t.Fatalf("the server did not receive a close before sending the final fragment: %v", r.err)
				}
				if r.code != CloseInvalidFramePayloadData {
					t.Fatalf("server got close %d, want 1007", r.code)
				}
				checkProtocolError(t, err, CloseInvalidFramePayloadData, ErrInvalidUTF8)
			})
		}
	}
}

// The fail-fast check also covers one message split over many frames, with
// the invalid byte far into the message.
func TestConnUTF8FailFastLate(t *testing.T) {
	closed := make(chan closeResult, 1)
	srv := newServer(t, func(c *wstest.Conn) error {
		if err := c.WriteFrame(false, 0, wstest.OpText, []byte("start ")); err != nil {
			return err
		}
		for i := range 50 {
			if err := c.WriteFrame(false, 0, wstest.OpContinuation, []byte(fmt.Sprintf("chunk %d é ", i))); err != nil {
				return err
			}
		}
		if err := c.WriteFrame(false, 0, wstest.OpContinuation, []byte("\xed\xbf\xbf")); err != nil {
			return err
		}
		expectClose(c, closed)
		return nil
	})
	conn := dialT(t, srv.URL, nil)
	_, _, err := conn.ReadMessage(testCtx(t))
	checkProtocolError(t, err, CloseInvalidFramePayloadData, ErrInvalidUTF8)
	if r := recv(t, closed); r.err != nil || r.code != CloseInvalidFramePayloadData {
		t.Fatalf("server got close %d, %v", r.code, r.err)
	}
}
