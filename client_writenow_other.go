//go:build !unix

package wsclient

import "net"

// nowWriter would make write attempts that do not wait; not available on
// this platform, where writes that may wait go to the client's writer
// goroutine.
type nowWriter struct{}

func newNowWriter(net.Conn) *nowWriter { return nil }

func (*nowWriter) write([]byte) (int, error) { return 0, nil }
