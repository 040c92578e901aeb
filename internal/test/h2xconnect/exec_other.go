//go:build !unix

package h2xconnect

import "errors"

// reexec is not available here: the tests that need extended CONNECT skip.
func reexec(string, []string, []string) error {
	return errors.New("h2xconnect: cannot re-execute on this system")
}
