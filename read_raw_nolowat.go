//go:build !linux && !js

package wsclient

// rawLowat is empty where the receive low-water mark is not used: other
// systems do not make room in the receive buffer for it, and a mark the
// buffer cannot reach would stall the read.
type rawLowat struct{}

func (c *Conn) setupLowat()           {}
func (c *Conn) raiseLowat(n int)      {}
func (c *Conn) lowerLowat(owed int64) {}

// unreadQueued is 0: without the mark, bytes do not wait in the kernel for
// a read that wants more.
func (c *Conn) unreadQueued() uint64 { return 0 }
