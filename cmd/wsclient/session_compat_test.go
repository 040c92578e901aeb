package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/wstest"
)

// TestOneMessage: -1 sends only the first line and ends (close 1000, exit
// 0) once one message has arrived, however long the reply takes (--wait
// defaults to -1 with it).
func TestOneMessage(t *testing.T) {
	release := make(chan struct{})
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		_, p, err := c.ReadMessage()
		if err != nil {
			return err
		}
		<-release // the reply comes after stdin has ended and the default --wait would be over
		if err := c.WriteMessage(wstest.OpText, append([]byte("re: "), p...)); err != nil {
			return err
		}
		if err := c.WriteMessage(wstest.OpText, []byte("second")); err != nil {
			return err
		}
		return answerClose(c)
	}, wstest.WithT(t))
	r := startBin(t, "-1", srv.URL)
	fmt.Fprint(r.stdin, "first\nnot sent\n")
	r.stdin.Close()
	r.stderr.await(t, "connected")
	time.AfterFunc(1500*time.Millisecond, func() { close(release) }) // longer than the default --wait of 1s, not synchronisation
	out, _ := r.stdout.ReadString(0)
	if code := r.wait(t); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, r.stderr)
	}
	if out != "re: first\n" {
		t.Errorf("stdout %q, want only the first reply", out)
	}
	fr := clientFrames(t, srv)
	if len(fr) != 2 || string(fr[0].Payload) != "first" || fr[1].Opcode != wstest.OpClose || string(fr[1].Payload[:2]) != "\x03\xe8" {
		t.Errorf("server got %+v, want first and a close 1000", fr)
	}
	if strings.Contains(r.stderr.String(), "not sent") {
		t.Errorf("-1 leaves the rest of stdin unsent on purpose, and does not complain:\n%s", r.stderr)
	}
}

// answerClose waits for the client's close frame and answers it.
func answerClose(c *wstest.Conn) error {
	code, reason, err := c.ExpectClose()
	if err != nil {
		return err
	}
	return c.Close(code, reason)
}

// TestOneMessageReceiveOnly: with nothing to send, -1 prints the first
// message and ends.
func TestOneMessageReceiveOnly(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		for _, m := range []string{"hello", "more"} {
			if err := c.WriteMessage(wstest.OpText, []byte(m)); err != nil {
				return err
			}
		}
		return answerClose(c)
	}, wstest.WithT(t))
	r := runBin(t, "", "-q1", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "hello\n" {
		t.Errorf("stdout %q", r.stdout)
	}
}

// TestExitOnEOF: -E closes as soon as stdin ends (--wait 0); given after
// --wait 30, it wins, as the last of two flags does.
func TestExitOnEOF(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		code, _, err := c.ExpectClose()
		if err == nil && code != 1000 {
			err = fmt.Errorf("close code %d", code)
		}
		if err != nil {
			return err
		}
		return c.Close(code, "")
	}, wstest.WithT(t))
	r := runBin(t, "", "--wait", "30", "-E", srv.URL)
	r.wantCode(t, exitOK)
	if r.elapsed >= 10*time.Second {
		t.Errorf("-E took %v: it waited as --wait 30 does", r.elapsed)
	}
}

// TestExecute: -x sends its messages instead of reading stdin (wscat).
func TestExecute(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	r := runBin(t, "from stdin\n", "-x", "one", "--execute", "two, three", "-w", "300ms", "-c", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "one\ntwo, three\n" {
		t.Errorf("stdout %q", r.stdout)
	}
}

// TestSlashCommands: with --slash, /ping sends a ping whose pong is shown
// (without -P), // sends a literal /, an unknown command prints the help
// and sends nothing, and /close closes with its code and reason.
func TestSlashCommands(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	r := runBin(t, "/ping are you there\n//etc/passwd\n/bogus\n/close 4000 done here\nafter close\n", "--slash", "--wait", "-1", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "/etc/passwd\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if !strings.Contains(r.stderr, `wsclient: < pong "are you there"`) {
		t.Errorf("the pong of /ping is not shown:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "unknown command /bogus") || !strings.Contains(r.stderr, "/close [code [reason]]") {
		t.Errorf("no help for /bogus:\n%s", r.stderr)
	}
	var got []string
	conn := srv.Conns()[0]
	<-conn.Done()
	for _, f := range conn.Frames() {
		got = append(got, fmt.Sprintf("%v %q", f.Opcode, f.Payload))
	}
	want := []string{
		fmt.Sprintf("%v %q", wstest.OpPing, "are you there"),
		fmt.Sprintf("%v %q", wstest.OpText, "/etc/passwd"),
		fmt.Sprintf("%v %q", wstest.OpClose, "\x0f\xa0done here"),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("server got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNoSlashCommandsWhenPiped: without --slash, piped lines go as they
// are.
func TestNoSlashCommandsWhenPiped(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	r := runBin(t, "/ping\n//x\n", "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "/ping\n//x\n" {
		t.Errorf("stdout %q", r.stdout)
	}
}

// TestPingPayloadShownAsText: a ping or pong whose payload is UTF-8 text
// shows as text (quoted; in JSON without an encoding), any other in hex.
func TestPingPayloadShownAsText(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		for _, p := range []string{"héllo", "\x00\xff", ""} {
			if err := c.WriteFrame(true, 0, wstest.OpPing, []byte(p)); err != nil {
				return err
			}
		}
		if err := c.WriteMessage(wstest.OpText, []byte("done")); err != nil {
			return err
		}
		return c.Echo()
	}, wstest.WithT(t))
	r := runBin(t, "", "-P", "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	for _, want := range []string{"wsclient: < ping \"héllo\"\n", "wsclient: < ping 00ff (hex)\n", "wsclient: < ping\n"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = runBin(t, "", "-P", "--json", "--wait", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	var pings []string
	for _, ev := range jsonEvents(t, r.stdout) {
		if ev["event"] == "ping" {
			pings = append(pings, fmt.Sprintf("%v/%v", ev["data"], ev["encoding"]))
		}
	}
	if strings.Join(pings, " ") != "héllo/<nil> 00ff/hex /<nil>" {
		t.Errorf("ping events %q", pings)
	}
}

// TestInsecureAliasesWarn: wscat's -n and websocat's -k turn verification
// off as loudly as --insecure, naming the flag given.
func TestInsecureAliasesWarn(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t), wstest.WithTLS())
	for _, flag := range []string{"-k", "-n", "--no-check"} {
		r := runBin(t, "secret\n", flag, "--wait", "300ms", srv.URL)
		r.wantCode(t, exitOK)
		if r.stdout != "secret\n" || !strings.Contains(r.stderr, "WARNING: "+flag+": TLS certificate verification is OFF") {
			t.Errorf("%s: stdout %q stderr:\n%s", flag, r.stdout, r.stderr)
		}
	}
}

// TestAuthAndHostReachTheServer: --auth and --host (wscat) send their
// headers.
func TestAuthAndHostReachTheServer(t *testing.T) {
	srv := wstest.NewServer(func(c *wstest.Conn) error {
		req := c.Request()
		if err := c.WriteMessage(wstest.OpText, []byte(req.Header.Get("Authorization")+" "+req.Host)); err != nil {
			return err
		}
		return c.Echo()
	}, wstest.WithT(t))
	r := runBin(t, "", "--auth", "u:p", "--host", "example.test", "-w", "300ms", srv.URL)
	r.wantCode(t, exitOK)
	if r.stdout != "Basic dTpw example.test\n" {
		t.Errorf("server saw %q", r.stdout)
	}
}
