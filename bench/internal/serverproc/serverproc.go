// Package serverproc builds the echo server (cmd/echoserver) with `go build`
// and runs it as a separate process on 127.0.0.1.
package serverproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Server is a running echo server process.
type Server struct {
	// URL is the server's ws:// URL on 127.0.0.1.
	URL   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	exit  chan error
}

// ModuleDir finds the bench module's directory from this file's path at
// build time, falling back to the working directory.
func ModuleDir() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		dir := filepath.Join(filepath.Dir(file), "..", "..")
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
	}
	return "."
}

// Build compiles cmd/echoserver into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "echoserver")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/wsclient/wsclient/bench/cmd/echoserver")
	cmd.Dir = ModuleDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build echoserver: %v\n%s", err, out)
	}
	return bin, nil
}

// Start runs the echo server binary and waits until it prints its URL.
// The server exits when Stop closes its standard input, or when this process
// dies (its stdin pipe then closes too).
func Start(ctx context.Context, bin string) (*Server, error) {
	cmd := exec.Command(bin, "-stdin-exit")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, stdin: stdin, exit: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		s.exit <- cmd.Wait()
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case line, ok := <-lines:
		if !ok || !strings.HasPrefix(line, "ws://127.0.0.1:") {
			_ = s.Stop()
			return nil, fmt.Errorf("echoserver: unexpected first line %q", line)
		}
		s.URL = line
		return s, nil
	case <-ctx.Done():
		_ = s.Stop()
		return nil, errors.New("echoserver did not start in time")
	}
}

// Stop ends the server and waits for it to exit.
func (s *Server) Stop() error {
	_ = s.stdin.Close()
	select {
	case <-s.exit:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
	return nil
}

// BuildAndStart builds the server into a fresh temporary directory and
// starts it. The returned function stops it and removes the directory.
func BuildAndStart(ctx context.Context) (*Server, func(), error) {
	dir, err := os.MkdirTemp("", "wsbench-server-")
	if err != nil {
		return nil, nil, err
	}
	bin, err := Build(ctx, dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	s, err := Start(ctx, bin)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return s, func() { _ = s.Stop(); _ = os.RemoveAll(dir) }, nil
}
