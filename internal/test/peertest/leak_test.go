package peertest

import "testing"

// TestMain fails the package's tests if any goroutine is left running after
// them, and reports the tests skipped for a missing peer.
func TestMain(m *testing.M) { VerifyTestMain(m) }
