//go:build !unix

package peertest

import "os"

// goTestStderr returns nil: the summary goes to the test binary's standard
// error, which go test shows with -v or when the package fails.
func goTestStderr() *os.File { return nil }
