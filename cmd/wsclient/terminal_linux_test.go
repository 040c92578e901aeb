package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsclient/wsclient/wstest"
)

// openPTY opens a pseudo-terminal and returns its controlling side and the
// terminal the command gets, or skips the test where there is none.
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptm, pts
}

// TestTerminalMarks: in a terminal, typed lines follow a "> " prompt and
// received messages are marked "< " (as wscat does).
func TestTerminalMarks(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	ptm, pts := openPTY(t)
	scr := readScreen(ptm)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "--wait", "0", srv.URL)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scr.await(t, "> ")
	if _, err := ptm.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	scr.await(t, "< hello")
	ptm.Write([]byte{4}) // Ctrl-D: end of input
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v; screen:\n%q", err, scr.String())
	}
	out := scr.String()
	// The terminal echoes the typed line after the prompt; the echo is
	// marked at the start of a line (erasing a prompt shown meanwhile),
	// and a prompt follows for the next line.
	if !strings.Contains(out, "> hello\r\n") ||
		!(strings.Contains(out, "\r\n< hello\r\n> ") || strings.Contains(out, "\r\x1b[K< hello\r\n> ")) {
		t.Errorf("screen:\n%q", out)
	}
}

// TestNoMarksWhenPiped: stdout a terminal but stdin a pipe: received
// messages are marked, no prompt; and stdout a pipe: nothing marked (see
// TestPipedEcho).
func TestNoPromptWhenStdinPiped(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	ptm, pts := openPTY(t)
	scr := readScreen(ptm)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "-q", "--wait", "300ms", srv.URL)
	cmd.Stdin = strings.NewReader("one\ntwo\n")
	cmd.Stdout, cmd.Stderr = pts, pts
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	scr.await(t, "< two\r\n")
	if out := scr.String(); out != "< one\r\n< two\r\n" {
		t.Errorf("screen:\n%q", out)
	}
}

// TestTerminalSlashCommands: in a terminal, slash commands are on without
// --slash: /ping shows its pong, and /close ends the session.
func TestTerminalSlashCommands(t *testing.T) {
	srv := wstest.NewEchoServer(wstest.WithT(t))
	ptm, pts := openPTY(t)
	scr := readScreen(ptm)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, srv.URL)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scr.await(t, "> ")
	ptm.Write([]byte("/ping hi\n"))
	scr.await(t, `< pong "hi"`)
	ptm.Write([]byte("/close 4001 bye\n"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v; screen:\n%q", err, scr.String())
	}
	scr.await(t, "closed by client: 4001 bye")
}
