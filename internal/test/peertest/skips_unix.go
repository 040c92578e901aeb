//go:build unix && !linux

package peertest

import "os"

// goTestStderr returns the terminal when this test binary's standard error
// is not one (go test without -v discards the output of a passing package),
// or nil.
func goTestStderr() *os.File {
	if st, err := os.Stderr.Stat(); err != nil || st.Mode()&os.ModeCharDevice != 0 {
		return nil
	}
	f, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return nil
	}
	return f
}
