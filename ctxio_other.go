//go:build !unix && !js

package wsclient

// rawIO is not used where raw socket I/O is not.
type rawIO struct{}

// sockRead reads from the connection into p for the read under way,
// watching its context first (see ctxwatch.go).
func (c *Conn) sockRead(p []byte) (int, error) {
	c.armRead()
	return c.nc.Read(p)
}

// sockWrite writes b for the write under way, watching its context first.
func (c *Conn) sockWrite(b []byte) (int, error) {
	c.armWrite()
	return c.nc.Write(b)
}

// canWriteNow reports whether sockWriteNow may be used: never here, where
// a write cannot be made to return at once when the connection is full.
func (c *Conn) canWriteNow() bool { return false }

// sockWriteNow is not used where canWriteNow is false.
func (c *Conn) sockWriteNow(b []byte) (int, error) { return c.sockWrite(b) }
