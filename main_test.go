package wsclient

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running after
// them: every Conn, Client and test server must clean up after itself.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
