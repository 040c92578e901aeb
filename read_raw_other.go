//go:build !unix && !js

package wsclient

// setupRawRead does nothing where raw socket reads are not used.
func (c *Conn) setupRawRead() {}

func (c *Conn) rawRead(fd uintptr) bool { return true }

func (c *Conn) waitRaw() error { panic("unreachable") }
