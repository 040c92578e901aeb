// Package h2xconnect lets a test binary run Go's own HTTP/2 server with
// extended CONNECT (RFC 8441) turned on. Import it for its side effect:
//
//	import _ "github.com/wsclient/wsclient/internal/test/h2xconnect"
//
// Go's HTTP/2 server (net/http and golang.org/x/net/http2) advertises
// SETTINGS_ENABLE_CONNECT_PROTOCOL only when GODEBUG contains
// http2xconnect=1, and it reads GODEBUG from the environment once, when the
// program starts (a //go:debug line does not reach it). So when the
// variable is missing, this package's init runs the test binary again, in
// the same process (exec), with http2xconnect=1 added to GODEBUG. Enabled
// reports whether that worked.
package h2xconnect

import (
	"os"
	"strings"
)

const setting = "http2xconnect=1"

// reexecEnv marks the second run, so that a failed exec is not retried.
const reexecEnv = "WSCLIENT_H2XCONNECT_REEXEC"

func init() {
	if Enabled() || os.Getenv(reexecEnv) != "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	godebug := setting
	if old := os.Getenv("GODEBUG"); old != "" {
		godebug = old + "," + setting
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	env = append(env, "GODEBUG="+godebug, reexecEnv+"=1")
	// On success Exec does not return; on failure the tests that need
	// extended CONNECT skip (see Enabled).
	_ = reexec(exe, os.Args, env)
}

// Enabled reports whether Go's HTTP/2 server in this process offers
// extended CONNECT.
func Enabled() bool {
	for _, kv := range strings.Split(os.Getenv("GODEBUG"), ",") {
		if strings.TrimSpace(kv) == setting {
			return true
		}
	}
	return false
}
