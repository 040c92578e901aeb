package peertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// DeflateOptions configure permessage-deflate on the NodeWS server (the ws
// option perMessageDeflate). Zero values leave ws's defaults, except
// Threshold.
type DeflateOptions struct {
	// ServerNoContextTakeover makes the server reset its compressor after
	// every message (and say so in its answer).
	ServerNoContextTakeover bool `json:"serverNoContextTakeover,omitempty"`
	// ClientNoContextTakeover makes the server ask the client to reset its
	// compressor after every message.
	ClientNoContextTakeover bool `json:"clientNoContextTakeover,omitempty"`
	// ServerMaxWindowBits (8..15) is the largest window the server uses.
	ServerMaxWindowBits int `json:"serverMaxWindowBits,omitempty"`
	// ClientMaxWindowBits (8..15) is the window the server asks the client
	// for. ws then refuses an offer that lacks client_max_window_bits: the
	// handshake fails with 400.
	ClientMaxWindowBits int `json:"clientMaxWindowBits,omitempty"`
	// Threshold: messages shorter than this many bytes are sent
	// uncompressed. 0 compresses every message (ws's own default is 1024).
	// ws applies it only when server_no_context_takeover was negotiated;
	// otherwise it compresses every message.
	Threshold int `json:"threshold"`
}

// NodeOptions configure NodeWS.
type NodeOptions struct {
	// Deflate turns on permessage-deflate; nil leaves it off.
	Deflate *DeflateOptions
	// Protocols lists the subprotocols the server accepts. The server picks
	// the first protocol the client offered that is in this list, and none
	// when there is no match (the handshake still succeeds).
	Protocols []string
	// MaxPayload is the largest message the server accepts (ws closes with
	// 1009 above it); 0 keeps ws's default of 100 MiB.
	MaxPayload int64
}

// NodeWS starts an echo server on the npm package ws (testdata/peers/node)
// and returns it with URL ws://127.0.0.1:PORT. It skips the test when node or
// the ws package (`npm ci` in testdata/peers/node) is missing.
//
// The request path chooses the behaviour of each connection:
//
//	/ (any other path)                  echo: text as text, binary as binary,
//	                                    one message per message
//	/close?code=N&reason=R&after=K      echo K messages (default 0), then close
//	                                    with code N and reason R (no code: an
//	                                    empty close frame; a code ws refuses
//	                                    to send, such as 1005: TCP is dropped
//	                                    and an "error" Event reported)
//	/ping?payload=P                     send a ping with payload P (default
//	                                    "hello"); when the pong arrives, send
//	                                    the text message "pong:" + its payload;
//	                                    then echo
//	/headers                            send the request headers as a JSON
//	                                    object (lower-case names, repeated
//	                                    headers joined with ", "), then echo
//	/request                            send {"method","url","httpVersion",
//	                                    "headers","rawHeaders","protocol",
//	                                    "extensions"} as JSON, then echo
//	/tcp?port=P                         relay to TCP 127.0.0.1:P (websockify):
//	                                    messages' bytes to the socket, the
//	                                    socket's bytes back as binary
//	                                    messages; either end closing closes
//	                                    the other
//
// The server echoes a client's close code and reason, answers pings, and
// reports connect, message, ping, pong, close and error Events.
func NodeWS(tb testing.TB, opts NodeOptions) *Peer {
	tb.Helper()
	node, ok := lookTool("node")
	if !ok {
		missing(tb, noNode, "node is not installed (Debian: apt-get install nodejs npm)")
		return nil
	}
	dir := peersDir()
	if dir == "" {
		missing(tb, noPeersDir, "testdata/peers not found (run the tests from the wsclient repository)")
		return nil
	}
	nodeDir := filepath.Join(dir, "node")
	wsPkg := filepath.Join(nodeDir, "node_modules", "ws", "package.json")
	if _, err := os.Stat(wsPkg); err != nil || hidden("node-ws") {
		missing(tb, noNodeWS, "npm package ws is not installed (run `npm ci` in %s)", nodeDir)
		return nil
	}
	cfg := map[string]any{}
	if opts.Deflate != nil {
		cfg["perMessageDeflate"] = opts.Deflate
	}
	if len(opts.Protocols) > 0 {
		cfg["protocols"] = opts.Protocols
	}
	if opts.MaxPayload > 0 {
		cfg["maxPayload"] = opts.MaxPayload
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		tb.Fatalf("peertest: node config: %v", err)
	}
	p, addr := launch(tb, "node-ws", nodeDir, true, func(int) []string {
		return []string{node, "server.js", string(b)}
	})
	return &Peer{Name: "node-ws", Version: readJSONField(wsPkg, "version"), Addr: addr, URL: "ws://" + addr, proc: p}
}

// PythonOptions configure PythonWS.
type PythonOptions struct {
	// NoCompression turns permessage-deflate off. By default it is on with
	// websockets' own settings (server_max_window_bits=12, and
	// client_max_window_bits=12 when the client offers that parameter).
	NoCompression bool
	// Protocols lists the subprotocols the server accepts; websockets picks
	// one by its own rules (legacy API: none when there is no match; new
	// API: the handshake fails when there is no match).
	Protocols []string
	// MaxSize is the largest message the server accepts (close 1009 above
	// it); 0 means 64 MiB (websockets' own default is 1 MiB).
	MaxSize int64
}

var (
	pythonOnce    sync.Once
	pythonPath    string
	pythonVersion string
	pythonProblem string
)

// findPython finds an interpreter that can import websockets: $WSCLIENT_PYTHON,
// then /usr/bin/python3 (where Debian's python3-websockets lives), then
// python3 in PATH (which may be a pyenv or venv interpreter without it).
func findPython() (path, version, problem string) {
	pythonOnce.Do(func() {
		var candidates []string
		if env := os.Getenv("WSCLIENT_PYTHON"); env != "" {
			candidates = append(candidates, env)
		}
		candidates = append(candidates, "/usr/bin/python3")
		if p, err := exec.LookPath("python3"); err == nil {
			candidates = append(candidates, p)
		}
		var problems []string
		for _, c := range candidates {
			if _, err := os.Stat(c); err != nil {
				problems = append(problems, c+": not found")
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, err := exec.CommandContext(ctx, c, "-c", "import websockets, sys; sys.stdout.write(websockets.__version__)").CombinedOutput()
			cancel()
			if err == nil {
				pythonPath, pythonVersion = c, strings.TrimSpace(string(out))
				return
			}
			msg := strings.TrimSpace(string(out))
			if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
				msg = msg[i+1:]
			}
			problems = append(problems, c+": "+msg)
		}
		pythonProblem = strings.Join(problems, "; ")
	})
	return pythonPath, pythonVersion, pythonProblem
}

// PythonWS starts an echo server on Python websockets
// (testdata/peers/python/server.py) and returns it with URL
// ws://127.0.0.1:PORT. It skips the test when no Python interpreter can
// import websockets (Debian: apt-get install python3-websockets).
//
// Behaviours by request path, as for NodeWS: echo (default), /close (no code:
// close 1000), /ping, /headers, /request (without httpVersion and
// rawHeaders). Events: connect, message, pong, close, error (no ping).
func PythonWS(tb testing.TB, opts PythonOptions) *Peer {
	tb.Helper()
	py, version, problem := findPython()
	if hidden("python-websockets") {
		py, problem = "", "hidden by "+MissingEnv
	}
	if py == "" {
		missing(tb, noPythonWS, "no python3 can import websockets (Debian: apt-get install python3-websockets; or set WSCLIENT_PYTHON): %s", problem)
		return nil
	}
	dir := peersDir()
	if dir == "" {
		missing(tb, noPeersDir, "testdata/peers not found (run the tests from the wsclient repository)")
		return nil
	}
	cfg := map[string]any{"compression": !opts.NoCompression}
	if len(opts.Protocols) > 0 {
		cfg["protocols"] = opts.Protocols
	}
	if opts.MaxSize > 0 {
		cfg["maxSize"] = opts.MaxSize
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		tb.Fatalf("peertest: python config: %v", err)
	}
	pyDir := filepath.Join(dir, "python")
	p, addr := launch(tb, "python-websockets", pyDir, true, func(int) []string {
		// -u: unbuffered, so events arrive as they happen.
		return []string{py, "-u", "server.py", string(b)}
	})
	return &Peer{Name: "python-websockets", Version: version, Addr: addr, URL: "ws://" + addr, proc: p}
}
