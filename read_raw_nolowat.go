//go:build !linux

package wsclient

// rawLowat is empty where the receive low-water mark is not used: other
// systems do not make room in the receive buffer for it, and a mark the
// buffer cannot reach would stall the read.
type rawLowat struct{}

func (c *Conn) setupLowat()           {}
func (c *Conn) raiseLowat(n int)      {}
func (c *Conn) lowerLowat(owed int64) {}
