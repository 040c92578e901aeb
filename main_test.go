//go:build !js

package wsclient

import (
	"testing"

	"github.com/wsclient/wsclient/internal/test/peertest"
)

// TestMain fails the package's tests if any goroutine is left running after
// them: every Conn, Client and test server must clean up after itself. It
// also reports the tests skipped for a missing peer, visibly without -v.
func TestMain(m *testing.M) {
	peertest.VerifyTestMain(m)
}
