//go:build !js

package wsclient

import "time"

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
	found := false
	c.ob.cf.kept.items(func(it *outItem) {
		if len(it.f.Data) > 0 && len(p) > 0 && &it.f.Data[0] == &p[0] {
			found = true
		}
	})
	return found
}

// InCallback reports whether a callback of c runs.
func InCallback(c *Client) bool {
	_, running := c.inCallback()
	return running
}

// ErrNoPong is errNoPong, for errors.Is.
var ErrNoPong = errNoPong

// SetConfirmNoPong shortens how long c's confirmation pings may go
// unanswered before it gives confirmation up (noPongTimeout, 20 s).
func SetConfirmNoPong(c *Client, d time.Duration) {
	c.ob.mu.Lock()
	c.cfg.confirmNoPong = d
	c.ob.mu.Unlock()
}
