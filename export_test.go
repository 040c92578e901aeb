//go:build !js

package wsclient

// Exported for the external tests (package wsclient_test) only.
var ErrPongMismatch = errPongMismatch

// KeptByReference reports whether the confirmation list holds a frame
// whose data is p itself (not a copy).
func KeptByReference(c *Client, p []byte) bool {
	c.ob.mu.Lock()
	defer c.ob.mu.Unlock()
	if c.ob.cf == nil {
		return false
	}
	for _, it := range c.ob.cf.kept[c.ob.cf.head:] {
		if len(it.f.Data) > 0 && len(p) > 0 && &it.f.Data[0] == &p[0] {
			return true
		}
	}
	return false
}

// InCallback reports whether a callback of c runs.
func InCallback(c *Client) bool {
	_, running := c.inCallback()
	return running
}
